package dev.tinyedge.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.service.DaemonProcess;
import dev.tinyedge.translate.TinyModel;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.tinyedge.deploy.Processes.REPO;
import static dev.tinyedge.deploy.Processes.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sample Mosquitto configuration and ACL, run for real: a Mosquitto started with Debian's
 * mosquitto.conf including the sample from its conf.d (only ports, file paths and the user changed),
 * TLS with a throw-away CA, the ACL file as shipped, and MQTT 5 clients for the daemon and two users; then the
 * daemon itself over TLS.
 */
class MosquittoAclTest {
    static final String PASSWORD = "secret-for-tests";
    @TempDir
    Path dir;
    Process mosquitto;
    final List<MqttClient> clients = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (MqttClient c : clients) {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        }
        if (mosquitto != null) {
            mosquitto.destroy();
            mosquitto.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void eachUserReadsOnlyItsOwnReplies() throws Exception {
        int local = freePort();
        int tls = freePort();
        startMosquitto(local, tls);

        MqttClient daemon = connect("tcp://127.0.0.1:" + local, "tinyedge-board1", "tinyedge");
        MqttClient alice = connect("ssl://127.0.0.1:" + tls, "app-alice", "alice");
        MqttClient bob = connect("ssl://127.0.0.1:" + tls, "app-bob", "bob");

        BlockingQueue<String> requests = subscribeShared(daemon, "$share/tinyedge/tinyedge/v1/translate");
        BlockingQueue<String> aliceReplies = subscribe(alice, "tinyedge/v1/reply/alice/#", 0);
        BlockingQueue<String> bobReplies = subscribe(bob, "tinyedge/v1/reply/bob/#", 0);
        // alice listens in on bob's replies from a second connection that even borrows the client id "bob":
        // Mosquitto 2.0.11 grants the subscriptions and then withholds what the ACL does not let her read
        MqttClient snooper = connect("ssl://127.0.0.1:" + tls, "bob", "alice");
        BlockingQueue<String> snooped = subscribe(snooper, "tinyedge/v1/reply/bob/#", 0);
        BlockingQueue<String> snoopedAll = subscribe(snooper, "tinyedge/v1/reply/#", 0);

        alice.publish("tinyedge/v1/translate", "{\"id\":\"a1\",\"text\":\"hi\",\"target\":\"es\"}".getBytes(StandardCharsets.UTF_8), 1, false);
        assertEquals("tinyedge/v1/translate {\"id\":\"a1\",\"text\":\"hi\",\"target\":\"es\"}", requests.poll(5, TimeUnit.SECONDS),
                "the daemon takes requests through the shared subscription");

        // alice forges a reply to bob, and writes a status: neither reaches anyone
        alice.publish("tinyedge/v1/reply/bob/b1", "forged".getBytes(StandardCharsets.UTF_8), 1, false);
        BlockingQueue<String> statuses = subscribe(bob, "tinyedge/v1/status/#", 0);
        alice.publish("tinyedge/v1/status/board1", "{\"state\":\"offline\"}".getBytes(StandardCharsets.UTF_8), 1, false);

        daemon.publish("tinyedge/v1/reply/bob/b1", "for bob".getBytes(StandardCharsets.UTF_8), 1, false);
        daemon.publish("tinyedge/v1/reply/alice/a1", "for alice".getBytes(StandardCharsets.UTF_8), 1, false);
        daemon.publish("tinyedge/v1/status/board1", "{\"state\":\"online\"}".getBytes(StandardCharsets.UTF_8), 1, false);

        assertEquals("tinyedge/v1/reply/bob/b1 for bob", bobReplies.poll(5, TimeUnit.SECONDS));
        assertEquals("tinyedge/v1/reply/alice/a1 for alice", aliceReplies.poll(5, TimeUnit.SECONDS));
        assertEquals("tinyedge/v1/status/board1 {\"state\":\"online\"}", statuses.poll(5, TimeUnit.SECONDS));
        Thread.sleep(500);
        assertNull(bobReplies.poll(), "a forged reply reached bob");
        assertNull(statuses.poll(), "a user wrote a board's status");
        assertNull(aliceReplies.poll());
        assertNull(snooped.poll(), "alice read bob's reply");
        List<String> wide = new ArrayList<>();
        snoopedAll.drainTo(wide);
        assertTrue(wide.contains("tinyedge/v1/reply/alice/a1 for alice"), "her own replies, through the wide filter: " + wide);
        assertTrue(wide.stream().allMatch(m -> m.startsWith("tinyedge/v1/reply/alice/")), "alice read another's reply: " + wide);
    }

    @Test
    void aUserWithoutThePasswordIsRefused() throws Exception {
        int local = freePort();
        startMosquitto(local, freePort());
        MqttClient intruder = new MqttClient("tcp://127.0.0.1:" + local, "intruder", new MemoryPersistence());
        clients.add(intruder);
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setUserName("alice");
        options.setPassword("wrong".getBytes(StandardCharsets.UTF_8));
        var e = org.junit.jupiter.api.Assertions.assertThrows(org.eclipse.paho.mqttv5.common.MqttException.class,
                () -> intruder.connect(options));
        assertEquals(135, e.getReasonCode(), "not authorized");
    }

    /**
     * The daemon itself ({@code bin/tinyedge serve}) through the TLS listener, with the CA, user name and
     * password file from its configuration, under the shipped ACL: a user's request gets its translation,
     * and so does one from {@code tinyedge translate --config} as that user.
     */
    @Test
    void theDaemonServesThroughTlsWithItsPassword() throws Exception {
        int tls = freePort();
        startMosquitto(freePort(), tls);
        Path passwordFile = dir.resolve("daemon.password");
        Files.writeString(passwordFile, PASSWORD + "\n");
        String url = "ssl://127.0.0.1:" + tls;
        try (DaemonProcess daemon = new DaemonProcess(dir, "board1", TinyModel.path(), url, "tinyedge", """
                username = "tinyedge"
                password_file = "%s"
                ca_file = "%s"
                """.formatted(passwordFile, dir.resolve("ca.crt")))) {
            daemon.start();
            MqttClient alice = connect(url, "app-alice", "alice");
            BlockingQueue<String> replies = subscribe(alice, "tinyedge/v1/reply/alice/#", 0);
            MqttProperties properties = new MqttProperties();
            properties.setResponseTopic("tinyedge/v1/reply/alice/t1");
            properties.setCorrelationData("t1".getBytes(StandardCharsets.UTF_8));
            alice.publish("tinyedge/v1/translate", new MqttMessage(
                    "{\"id\":\"t1\",\"text\":\"hello\",\"target\":\"de\",\"max_tokens\":4}".getBytes(StandardCharsets.UTF_8),
                    1, false, properties));
            String reply = replies.poll(60, TimeUnit.SECONDS);
            assertNotNull(reply, "no reply over TLS: " + daemon.log());
            JsonNode json = new ObjectMapper().readTree(reply.substring(reply.indexOf(' ') + 1));
            assertEquals("t1", json.path("id").asText(), reply);
            assertEquals("ok", json.path("status").asText(), reply);
            assertEquals("board1", json.path("node").asText(), reply);

            // the command-line client, as alice, with the same kind of [mqtt] section: its replies come on
            // tinyedge/v1/reply/alice/..., the only reply topics the ACL lets alice read
            Path aliceConfig = dir.resolve("alice.toml");
            Files.writeString(aliceConfig, """
                    [mqtt]
                    username = "alice"
                    password_file = "%s"
                    ca_file = "%s"
                    """.formatted(passwordFile, dir.resolve("ca.crt")));
            String cli = run(dir, REPO.resolve("bin/tinyedge").toString(), "translate", "--broker", url,
                    "--config", aliceConfig.toString(), "--to", "de", "--max-tokens", "4", "--json", "--id", "c1", "hello");
            JsonNode cliReply = new ObjectMapper().readTree(cli);
            assertEquals("c1", cliReply.path("id").asText(), cli);
            assertEquals("ok", cliReply.path("status").asText(), cli);
        }
    }

    /** The sample configuration with this test's ports and paths, and the ACL file exactly as shipped. */
    private void startMosquitto(int localPort, int tlsPort) throws Exception {
        run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=tinyedge test CA");
        run(dir, "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        run(dir, "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.crt", "-days", "1", "-extfile", "san.ext");
        Path passwd = dir.resolve("tinyedge.passwd");
        run(dir, "mosquitto_passwd", "-c", "-b", passwd.toString(), "tinyedge", PASSWORD);
        run(dir, "mosquitto_passwd", "-b", passwd.toString(), "alice", PASSWORD);
        run(dir, "mosquitto_passwd", "-b", passwd.toString(), "bob", PASSWORD);
        Files.copy(REPO.resolve("deploy/mosquitto/tinyedge.acl"), dir.resolve("tinyedge.acl"));
        Files.createDirectories(dir.resolve("data"));
        Files.createDirectories(dir.resolve("conf.d"));

        // Debian's own mosquitto.conf, with this test's folders, includes the sample as it would
        String main = Files.readString(Path.of("/etc/mosquitto/mosquitto.conf"))
                .replace("include_dir /etc/mosquitto/conf.d", "include_dir " + dir.resolve("conf.d"))
                .replace("persistence_location /var/lib/mosquitto/", "persistence_location " + dir.resolve("data") + "/")
                .replaceAll("(?m)^(pid_file|log_dest) .*$", "");
        // started as root, Mosquitto would switch to its own user, who cannot read this test's folder
        Files.writeString(dir.resolve("mosquitto.conf"), main + "\nuser root\nlog_dest stderr\n");
        String sample = Files.readString(REPO.resolve("deploy/mosquitto/tinyedge.conf"))
                .replace("/etc/mosquitto/tinyedge.passwd", passwd.toString())
                .replace("/etc/mosquitto/tinyedge.acl", dir.resolve("tinyedge.acl").toString())
                .replace("/etc/mosquitto/certs/", dir + "/")
                .replace("listener 1883 127.0.0.1", "listener " + localPort + " 127.0.0.1")
                .replace("listener 8883", "listener " + tlsPort + " 127.0.0.1");
        Files.writeString(dir.resolve("conf.d/tinyedge.conf"), sample);
        mosquitto = new ProcessBuilder("mosquitto", "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        for (long end = System.nanoTime() + 10_000_000_000L; ; Thread.sleep(50)) {
            try (Socket s = new Socket("127.0.0.1", tlsPort)) {
                break;
            } catch (java.io.IOException e) {
                if (System.nanoTime() > end || !mosquitto.isAlive()) {
                    throw new AssertionError("mosquitto did not start: " + Files.readString(dir.resolve("mosquitto.log")));
                }
            }
        }
    }

    private MqttClient connect(String url, String clientId, String user) throws Exception {
        MqttClient client = new MqttClient(url, clientId, new MemoryPersistence());
        clients.add(client);
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setUserName(user);
        options.setPassword(PASSWORD.getBytes(StandardCharsets.UTF_8));
        if (url.startsWith("ssl:")) {
            options.setSocketFactory(trusting(dir.resolve("ca.crt")).getSocketFactory());
        }
        client.connect(options);
        return client;
    }

    /** Subscribes and checks the broker's answer (0: granted at QoS 0). */
    private static BlockingQueue<String> subscribe(MqttClient client, String filter, int expectedReason) throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        IMqttToken token = client.subscribe(new MqttSubscription[] {new MqttSubscription(filter, 0)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {
                        (topic, message) -> received.add(topic + " " + new String(message.getPayload(), StandardCharsets.UTF_8))});
        assertEquals(expectedReason, token.getReasonCodes()[0], "SUBACK for " + filter);
        return received;
    }

    /** Paho does not route messages of a $share subscription to its listener: take them from the callback. */
    private static BlockingQueue<String> subscribeShared(MqttClient client, String filter) throws Exception {
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        client.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
            @Override
            public void messageArrived(String topic, org.eclipse.paho.mqttv5.common.MqttMessage message) {
                received.add(topic + " " + new String(message.getPayload(), StandardCharsets.UTF_8));
            }

            @Override
            public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse response) {
            }

            @Override
            public void mqttErrorOccurred(org.eclipse.paho.mqttv5.common.MqttException exception) {
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
            }

            @Override
            public void authPacketArrived(int reasonCode, org.eclipse.paho.mqttv5.common.packet.MqttProperties properties) {
            }
        });
        IMqttToken token = client.subscribe(new MqttSubscription[] {new MqttSubscription(filter, 0)});
        assertEquals(0, token.getReasonCodes()[0], "SUBACK for " + filter);
        return received;
    }

    private static SSLContext trusting(Path caFile) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(caFile)) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
