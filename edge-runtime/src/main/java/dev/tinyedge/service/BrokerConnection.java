package dev.tinyedge.service;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * An MQTT 5 client's link to the broker, kept up across broker restarts and network cuts. The daemon,
 * {@link TranslationClient} and the tests' clients all connect through it, so what was learnt about keeping a
 * link is written once:
 *
 * <ul>
 * <li>Each connection has its own Paho client; a lost connection is replaced by a new client rather than
 * reconnected by Paho. Paho 1.2.5 carries its unacknowledged QoS 1 publishes over to the next connection and
 * sends them first, as they went out the first time: a publish that used a topic alias goes out with no topic
 * name and an alias the new connection never defined, which Mosquitto answers with Protocol Error (0x82), again
 * on every reconnect (paho.mqtt.java issue 1104). A new client sends nothing from the old connection; what was
 * not acknowledged there the broker delivers again. (Once, after a Mosquitto restart, Paho's own reconnect also
 * opened the TCP connection and never sent CONNECT.)</li>
 * <li>Connections are numbered, and every message arrives with the number of the connection that brought it.
 * Packet ids belong to one connection: {@link #acknowledge} drops an id from an earlier one, which may name
 * another message now; the broker delivers the unacknowledged message again.</li>
 * <li>A connection becomes current before it is connected: Mosquitto redelivers a persistent session's
 * unacknowledged messages as soon as it accepts the connection, before Paho reports it complete.</li>
 * <li>Reconnecting backs off from 0.5 s, doubling up to {@link Settings#maxRetryDelay}; a broker that refuses
 * the credentials ends the attempts, since retrying cannot fix that.</li>
 * <li>Subscriptions are renewed on every new connection (a clean session loses them; renewing those of a
 * persistent one is harmless).</li>
 * <li>A publish waits while Paho's in-flight window is full ("Too many publishes in progress"): Paho counts a
 * QoS 1 publish in flight until it has handled its PUBACK, which lags a moment behind the broker's answer.</li>
 * </ul>
 *
 * Safe to share between threads.
 */
public final class BrokerConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerConnection.class);
    /** CONNACK reason codes that retrying cannot fix. */
    private static final int BAD_USER_NAME_OR_PASSWORD = 0x86;
    private static final int NOT_AUTHORIZED = 0x87;
    private static final long FIRST_RETRY_MS = 500;
    /** How long connecting, subscribing and disconnecting may take. */
    private static final long WAIT_MS = 30_000;

    /**
     * How to connect.
     *
     * @param security       user name, password file and TLS (the [mqtt] section of a configuration)
     * @param sessionExpiryS 0: a clean session that ends with the connection; above 0: a persistent session
     *                       (clean start off) that the broker keeps this long while the client is away
     * @param receiveMaximum the MQTT 5 Receive Maximum to ask for; 0 sends none
     * @param maximumPacketSize the MQTT 5 Maximum Packet Size to tell the broker (it drops larger packets rather
     *                          than send them); 0 sends none
     * @param manualAcks     messages are acknowledged by {@link #acknowledge}, not when the handler returns
     * @param will           the retained Last Will, or null
     */
    public record Settings(String brokerUrl, String clientId, ServeConfig.Mqtt security, long sessionExpiryS,
                           int keepAliveS, int receiveMaximum, long maximumPacketSize, Duration maxRetryDelay,
                           boolean manualAcks, Will will) {
        /** A client with a clean session, acknowledging what it receives at once. */
        public static Settings cleanSession(String brokerUrl, String clientId, ServeConfig.Mqtt security) {
            return new Settings(brokerUrl, clientId, security, 0, 60, 0, 0, Duration.ofSeconds(5), false, null);
        }
    }

    /** A retained QoS 1 Last Will, its payload made when each connection is opened. */
    public record Will(String topic, Supplier<byte[]> payload) {
    }

    /** What the connection hands on. */
    public interface Handler {
        /**
         * A message, on Paho's callback thread. Publishing there and waiting for it can wait forever: Paho frees
         * its in-flight window on that thread.
         *
         * @param connection the number of the connection that brought it (see {@link #acknowledge})
         */
        void messageArrived(String topic, MqttMessage message, long connection);

        /** A connection is up and its subscriptions renewed; {@code reconnected} after a lost one. */
        default void connected(boolean reconnected) {
        }
    }

    /** One connection: its own client, and its number. */
    private record Link(MqttAsyncClient client, long number) {
    }

    private final Settings settings;
    private final Handler handler;
    private final AtomicLong numbers = new AtomicLong();
    private final List<MqttSubscription> subscriptions = new CopyOnWriteArrayList<>();
    private volatile Link current;
    private volatile boolean closed;

    public BrokerConnection(Settings settings, Handler handler) {
        PahoLog.silence();
        this.settings = settings;
        this.handler = handler;
    }

    /**
     * Connects once.
     *
     * @throws IOException when the broker cannot be reached or refuses the connection
     */
    public void connect() throws IOException {
        try {
            open(false);
        } catch (MqttException e) {
            throw new IOException("cannot connect to the broker at " + settings.brokerUrl() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Connects, trying again with backoff until the broker takes the connection or the connection is closed.
     *
     * @throws IOException when the broker refuses the credentials
     */
    public void connectRetrying() throws IOException, InterruptedException {
        connectRetrying(false);
    }

    private void connectRetrying(boolean reconnect) throws IOException, InterruptedException {
        long delayMs = FIRST_RETRY_MS;
        long maxDelayMs = Math.max(FIRST_RETRY_MS, settings.maxRetryDelay().toMillis());
        while (!closed) {
            try {
                open(reconnect);
                return;
            } catch (MqttException e) {
                log.warn("cannot connect to {} ({}); retrying in {} ms", settings.brokerUrl(), e.getMessage(), delayMs);
                Thread.sleep(delayMs);
                delayMs = Math.min(delayMs * 2, maxDelayMs);
            }
        }
    }

    /** Opens a connection with a new client and renews the subscriptions. */
    private void open(boolean reconnect) throws MqttException, IOException {
        MqttConnectionOptions options = options();
        MqttAsyncClient client;
        try {
            // the session lives at the broker: what is in flight needs no local persistence, since an
            // unacknowledged message is delivered again
            client = new MqttAsyncClient(settings.brokerUrl(), settings.clientId(), new MemoryPersistence());
        } catch (MqttException e) {
            throw new IOException("cannot use broker " + settings.brokerUrl() + ": " + e.getMessage(), e);
        }
        client.setManualAcks(settings.manualAcks());
        Link link = new Link(client, numbers.incrementAndGet());
        client.setCallback(new Callback(link));
        current = link;
        try {
            client.connect(options).waitForCompletion(WAIT_MS);
            if (!subscriptions.isEmpty()) {
                client.subscribe(subscriptions.toArray(MqttSubscription[]::new)).waitForCompletion(WAIT_MS);
            }
        } catch (MqttException e) {
            discard(link);
            if (e.getReasonCode() == BAD_USER_NAME_OR_PASSWORD || e.getReasonCode() == NOT_AUTHORIZED) {
                throw new IOException("broker " + settings.brokerUrl() + " refused the connection: " + e.getMessage(), e);
            }
            throw e;
        }
        if (closed) {
            discard(link);
            return;
        }
        handler.connected(reconnect);
    }

    private MqttConnectionOptions options() throws IOException {
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(settings.sessionExpiryS() == 0);
        if (settings.sessionExpiryS() > 0) {
            options.setSessionExpiryInterval(settings.sessionExpiryS());
        }
        options.setKeepAliveInterval(settings.keepAliveS());
        if (settings.receiveMaximum() > 0) {
            options.setReceiveMaximum(settings.receiveMaximum());
        }
        if (settings.maximumPacketSize() > 0) {
            options.setMaximumPacketSize(settings.maximumPacketSize());
        }
        if (settings.will() != null) {
            options.setWill(settings.will().topic(), new MqttMessage(settings.will().payload().get(), 1, true, null));
        }
        BrokerSecurity.apply(options, settings.brokerUrl(), settings.security());
        return options;
    }

    /** Closes a connection's client, connected or not, with whatever it still had in flight. */
    private static void discard(Link link) {
        try {
            link.client().close(true);
        } catch (MqttException e) {
            log.debug("closing a client: {}", e.getMessage());
        }
    }

    /**
     * After a lost connection: a new client, connected again (the broker then delivers what is unacknowledged).
     * A broker that now refuses the credentials (its password file or ACL changed under a running daemon) is asked
     * again at the longest backoff, with an error logged each time, so that the daemon serves again once the
     * broker is fixed instead of staying silently disconnected.
     */
    private void reconnect(Link lost) {
        discard(lost);
        try {
            while (!closed) {
                try {
                    connectRetrying(true);
                    return;
                } catch (IOException e) {
                    long delayMs = Math.max(FIRST_RETRY_MS, settings.maxRetryDelay().toMillis());
                    log.error("cannot reconnect: {}; asking again in {} ms", e.getMessage(), delayMs);
                    Thread.sleep(delayMs);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Subscribes now and on every later connection. A filter the broker refuses (reason code 0x80 or above) is not
     * renewed; one that could not be sent now (the connection is down) is sent with the next connection.
     *
     * @return the broker's reason codes, one per filter
     */
    public int[] subscribe(MqttSubscription... filters) throws MqttException {
        subscriptions.addAll(List.of(filters));
        IMqttToken token = link().client().subscribe(filters);
        token.waitForCompletion(WAIT_MS);
        int[] codes = token.getReasonCodes() == null ? new int[0] : token.getReasonCodes();
        for (int i = 0; i < Math.min(codes.length, filters.length); i++) {
            if (codes[i] >= 0x80) {
                subscriptions.remove(filters[i]);
            }
        }
        return codes;
    }

    /**
     * Publishes on the current connection, waiting up to {@code inFlightWait} while Paho's in-flight window is
     * full. A QoS 1 publish is done when the broker has acknowledged it: {@code whenDelivered} (may be null) and
     * the returned token say so.
     *
     * @throws MqttException when the connection is down, or the window stayed full
     */
    public IMqttToken publish(String topic, MqttMessage message, Duration inFlightWait, MqttActionListener whenDelivered)
            throws MqttException, InterruptedException {
        long deadline = System.nanoTime() + inFlightWait.toNanos();
        while (true) {
            try {
                return link().client().publish(topic, message, null, whenDelivered);
            } catch (MqttException e) {
                if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(ThreadLocalRandom.current().nextLong(2, 20));
            }
        }
    }

    /**
     * Acknowledges (PUBACK) a message received with {@link Settings#manualAcks}, unless it came on an earlier
     * connection: its packet id may name another message now.
     */
    public void acknowledge(int packetId, int qos, long connection) {
        Link link = current;
        if (link == null || link.number() != connection) {
            return;
        }
        try {
            link.client().messageArrivedComplete(packetId, qos);
        } catch (MqttException e) {
            log.debug("cannot acknowledge {}: {}", packetId, e.getMessage());
        }
    }

    public boolean isConnected() {
        Link link = current;
        return link != null && link.client().isConnected();
    }

    private Link link() throws MqttException {
        Link link = current;
        if (link == null) {
            throw new MqttException(MqttClientException.REASON_CODE_CLIENT_NOT_CONNECTED);
        }
        return link;
    }

    /** Disconnects (a clean disconnect: no Last Will) and stops reconnecting. */
    @Override
    public void close() {
        closed = true;
        Link link = current;
        if (link == null) {
            return;
        }
        try {
            if (link.client().isConnected()) {
                link.client().disconnect(WAIT_MS).waitForCompletion(WAIT_MS);
            }
        } catch (MqttException e) {
            log.warn("while disconnecting from {}: {}", settings.brokerUrl(), e.getMessage());
        }
        discard(link);
    }

    /** Paho's callbacks for one connection. */
    private final class Callback implements MqttCallback {
        private final Link owner;
        /** A connection that never came up is retried by whoever opened it. */
        private volatile boolean established;

        Callback(Link owner) {
            this.owner = owner;
        }

        @Override
        public void connectComplete(boolean reconnect, String serverUri) {
            established = true;
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            if (!established || closed || current != owner) {
                return;
            }
            // the reason as text: a Throwable as the last argument would make the logger print its stack trace
            String reason = response.getReasonString() != null ? response.getReasonString()
                    : String.valueOf(response.getException());
            log.warn("lost the broker {} ({}); reconnecting", settings.brokerUrl(), reason);
            Thread.ofPlatform().name("reconnect").daemon().start(() -> reconnect(owner));
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            handler.messageArrived(topic, message, owner.number());
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            log.warn("MQTT error from {}: {}", settings.brokerUrl(), exception.getMessage());
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }
    }
}
