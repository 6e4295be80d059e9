package dev.tinyedge.service;

import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The broker connection against a real Mosquitto that is restarted under it. */
class BrokerConnectionTest {
    private Mosquitto mosquitto;
    private final List<BrokerConnection> connections = new ArrayList<>();

    /** A message as the handler got it. */
    private record Arrival(String topic, String payload, int packetId, int qos, long connection, boolean duplicate) {
    }

    @BeforeEach
    void start() throws Exception {
        mosquitto = new Mosquitto("");
    }

    @AfterEach
    void stop() throws Exception {
        for (BrokerConnection connection : connections) {
            connection.close();
        }
        mosquitto.close();
    }

    private BrokerConnection open(BrokerConnection.Settings settings, BlockingQueue<Arrival> arrivals,
                                  AtomicInteger reconnects) throws Exception {
        BrokerConnection connection = new BrokerConnection(settings, new BrokerConnection.Handler() {
            @Override
            public void messageArrived(String topic, MqttMessage message, long number) {
                arrivals.add(new Arrival(topic, new String(message.getPayload(), StandardCharsets.UTF_8),
                        message.getId(), message.getQos(), number, message.isDuplicate()));
            }

            @Override
            public void connected(boolean reconnected) {
                if (reconnected) {
                    reconnects.incrementAndGet();
                }
            }
        });
        connections.add(connection);
        connection.connectRetrying();
        return connection;
    }

    private BrokerConnection publisher(AtomicInteger reconnects) throws Exception {
        return open(BrokerConnection.Settings.cleanSession(mosquitto.url(), "pub-" + UUID.randomUUID(),
                new ServeConfig.Mqtt()), new LinkedBlockingQueue<>(), reconnects);
    }

    private static void send(BrokerConnection publisher, String topic, String payload) throws Exception {
        publisher.publish(topic, new MqttMessage(payload.getBytes(StandardCharsets.UTF_8), 1, false, null),
                Duration.ofSeconds(5), null).waitForCompletion(5000);
    }

    private static void awaitReconnects(AtomicInteger reconnects, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (reconnects.get() < count) {
            assertTrue(System.nanoTime() < deadline, "no reconnection within 20 s");
            Thread.sleep(20);
        }
    }

    @Test
    void comesBackAfterABrokerRestartWithItsSubscriptions() throws Exception {
        BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
        AtomicInteger reconnects = new AtomicInteger();
        BrokerConnection subscriber = open(BrokerConnection.Settings.cleanSession(mosquitto.url(),
                "sub-" + UUID.randomUUID(), new ServeConfig.Mqtt()), arrivals, reconnects);
        subscriber.subscribe(new MqttSubscription("news/#", 1));
        AtomicInteger publisherReconnects = new AtomicInteger();
        BrokerConnection publisher = publisher(publisherReconnects);
        send(publisher, "news/1", "before");
        Arrival before = arrivals.poll(5, TimeUnit.SECONDS);
        assertNotNull(before);

        mosquitto.restart(); // the clean session is gone with the old connection
        awaitReconnects(reconnects, 1);
        awaitReconnects(publisherReconnects, 1);
        assertTrue(subscriber.isConnected());
        send(publisher, "news/2", "after");
        Arrival after = arrivals.poll(10, TimeUnit.SECONDS);
        assertNotNull(after, "the subscription was renewed on the new connection");
        assertEquals("after", after.payload());
        assertNotEquals(before.connection(), after.connection(), "a new connection, with a new number");
    }

    @Test
    void acknowledgesAPacketIdOnlyOnTheConnectionThatDeliveredIt() throws Exception {
        BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
        AtomicInteger reconnects = new AtomicInteger();
        BrokerConnection subscriber = open(new BrokerConnection.Settings(mosquitto.url(), "persistent-" + UUID.randomUUID(),
                new ServeConfig.Mqtt(), 600, 30, 0, 0, Duration.ofMillis(500), true, null), arrivals, reconnects);
        subscriber.subscribe(new MqttSubscription("jobs", 1));
        send(publisher(new AtomicInteger()), "jobs", "job-1");
        Arrival first = arrivals.poll(5, TimeUnit.SECONDS);
        assertNotNull(first);

        mosquitto.restart();
        awaitReconnects(reconnects, 1);
        Arrival again = arrivals.poll(10, TimeUnit.SECONDS);
        assertNotNull(again, "not acknowledged: delivered again on the new connection");
        assertEquals("job-1", again.payload());
        subscriber.acknowledge(first.packetId(), first.qos(), first.connection()); // the old connection's id: dropped

        mosquitto.restart();
        awaitReconnects(reconnects, 2);
        Arrival third = arrivals.poll(10, TimeUnit.SECONDS);
        assertNotNull(third, "the acknowledgement of the old connection's id was not sent");
        subscriber.acknowledge(third.packetId(), third.qos(), third.connection());
        Thread.sleep(300); // the PUBACK reaches the broker

        mosquitto.restart();
        awaitReconnects(reconnects, 3);
        assertNull(arrivals.poll(1, TimeUnit.SECONDS), "acknowledged on its own connection: gone");
    }

    @Test
    void waitsOutAFullInFlightWindow() throws Exception {
        BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
        BrokerConnection subscriber = open(BrokerConnection.Settings.cleanSession(mosquitto.url(),
                "sub-" + UUID.randomUUID(), new ServeConfig.Mqtt()), arrivals, new AtomicInteger());
        subscriber.subscribe(new MqttSubscription("burst", 1));
        BrokerConnection publisher = publisher(new AtomicInteger());
        int count = 300;
        for (int i = 0; i < count; i++) { // without waiting for each: Paho's window (the broker's 20) fills up
            publisher.publish("burst", new MqttMessage(Integer.toString(i).getBytes(StandardCharsets.UTF_8), 1, false,
                    null), Duration.ofSeconds(10), null);
        }
        Set<String> received = new HashSet<>();
        while (received.size() < count) {
            Arrival arrival = arrivals.poll(10, TimeUnit.SECONDS);
            assertNotNull(arrival, "received " + received.size() + " of " + count);
            received.add(arrival.payload());
        }
    }

    @Test
    void credentialsTheBrokerRefusesEndTheAttempts(@TempDir Path dir) throws Exception {
        mosquitto.close();
        Path passwords = dir.resolve("passwd");
        Process passwd = new ProcessBuilder("mosquitto_passwd", "-c", "-b", passwords.toString(), "board", "right")
                .redirectErrorStream(true).start();
        assertEquals(0, passwd.waitFor());
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(passwords, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        mosquitto = new Mosquitto("allow_anonymous false\npassword_file " + passwords + "\n");
        Path wrong = dir.resolve("wrong");
        Files.writeString(wrong, "wrong\n");
        ServeConfig.Mqtt security = new ServeConfig.Mqtt();
        security.username = "board";
        security.passwordFile = wrong.toString();
        BrokerConnection refused = new BrokerConnection(BrokerConnection.Settings.cleanSession(mosquitto.url(),
                "board-" + UUID.randomUUID(), security), (topic, message, connection) -> { });
        connections.add(refused);
        long started = System.nanoTime();
        IOException e = assertThrows(IOException.class, refused::connectRetrying);
        assertTrue(e.getMessage().contains("refused the connection"), e.getMessage());
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10), "not retried");

        Path right = dir.resolve("right");
        Files.writeString(right, "right\n");
        security.passwordFile = right.toString();
        BrokerConnection accepted = new BrokerConnection(BrokerConnection.Settings.cleanSession(mosquitto.url(),
                "board-" + UUID.randomUUID(), security), (topic, message, connection) -> { });
        connections.add(accepted);
        accepted.connect();
        assertTrue(accepted.isConnected());
    }
}
