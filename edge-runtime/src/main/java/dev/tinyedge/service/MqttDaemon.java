package dev.tinyedge.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tinyedge.metrics.RequestObserver;
import dev.tinyedge.translate.Translator;
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
import java.util.OptionalDouble;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Protocol v1 over MQTT 5 (CONTRACTS §2): takes requests from the broker, hands them to the
 * {@link TranslationService}, publishes the replies, and acknowledges each request only after its final
 * reply is at the broker.
 *
 * <p>The session is persistent (fixed client id, clean start off, a session expiry), so requests that arrive
 * while the daemon is down, or that it received but never acknowledged, wait at the broker and are delivered
 * again when it reconnects.
 *
 * <p>The daemon connects before the model is loaded, so the node's retained status says {@code loading}, then
 * {@code online}, or {@code error} when the model cannot be loaded ({@link #connect}, {@link #serve},
 * {@link #fail}).
 *
 * <p>Each connection has its own Paho client; a lost connection is replaced by a new client rather than
 * reconnected by Paho. Paho 1.2.5 carries its unacknowledged QoS 1 publishes over to the next connection and
 * sends them first, as they went out the first time: a reply that used a topic alias goes out with no topic
 * name and an alias the new connection never defined, which Mosquitto answers with Protocol Error (0x82),
 * again on every reconnect, so the session's queued requests are never served (paho.mqtt.java issue 1104).
 * A new client sends nothing from the old connection; the broker redelivers every request not acknowledged
 * there, and the dedup window answers those already translated.
 */
public final class MqttDaemon implements ReplyChannel, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MqttDaemon.class);
    private static final int QOS = 1;
    /** CONNACK reason codes that retrying cannot fix. */
    private static final int BAD_USER_NAME_OR_PASSWORD = 0x86;
    private static final int NOT_AUTHORIZED = 0x87;
    private static final long PUBLISH_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
    static final long MAX_PACKET_HEADROOM = 192 * 1024;

    private final ServeConfig config;
    private final String brokerUrl;
    private final String profile;
    private final RequestParser parser;
    private final ClientRateLimit clientRates;
    /** Set by {@link #serve}; until then arriving requests wait. */
    private volatile Translator translator;
    private volatile BoardSignals board = BoardSignals.NONE;
    private volatile TranslationService service;
    private final CountDownLatch serving = new CountDownLatch(1);
    private final String requestTopic;
    private final String cancelTopic;
    private final String statusTopic;
    private final long startedNanos = System.nanoTime();
    /** Numbers the connections; a delivery carries the number of the connection that brought it. */
    private final AtomicLong connections = new AtomicLong();
    /**
     * The connection of the moment. It becomes current before it is connected, because the broker redelivers
     * requests as soon as it accepts the connection, before Paho reports it complete.
     */
    private volatile Connection connection;
    /**
     * Handles arriving messages in order, off Paho's callback thread: Paho frees a slot of its in-flight window
     * on that thread when a PUBACK arrives, so a reply published there (from the dedup window, busy, an error)
     * that waited for a slot would wait forever.
     */
    private final Arrivals arrivals = new Arrivals(MAX_WAITING_QOS0);
    /** QoS 0 messages waiting beyond this are dropped (see {@link Arrivals}). */
    static final int MAX_WAITING_QOS0 = 1000;
    private final ScheduledExecutorService statusTimer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("status").daemon().factory());
    private volatile String state = "loading";
    private volatile String error;
    /** The subscription requests come through: shared, or plain where the broker has no shared subscriptions. */
    private volatile String requestFilter;
    private volatile boolean closing;
    private final AtomicBoolean left = new AtomicBoolean();

    /** One broker connection: its own client, and its number. */
    private record Connection(MqttAsyncClient client, long number) {
    }

    public MqttDaemon(ServeConfig config, String brokerUrl, String profile) {
        PahoLog.silence();
        this.config = config;
        this.brokerUrl = brokerUrl;
        this.profile = profile;
        ServeConfig.Service limits = config.service;
        this.parser = new RequestParser(limits.maxPayloadBytes, limits.maxInputChars, limits.maxTokens);
        this.clientRates = new ClientRateLimit(limits.clientRequestsPerS);
        String prefix = config.mqtt.topicPrefix;
        this.requestTopic = prefix + "/v1/translate";
        this.cancelTopic = prefix + "/v1/cancel";
        this.statusTopic = prefix + "/v1/status/" + config.node;
    }

    /**
     * Connects (retrying with backoff until the broker answers) and announces the node {@code loading}. Requests
     * that arrive now (a persistent session brings its subscription and unacknowledged requests along) wait
     * for {@link #serve}.
     */
    public void connect() throws InterruptedException, IOException {
        open();
        publishStatus();
        int interval = config.service.statusIntervalS;
        statusTimer.scheduleAtFixedRate(this::publishStatus, interval, interval, TimeUnit.SECONDS);
    }

    /** Serves requests with {@code translator} from now on, and announces the node {@code online}. */
    public void serve(Translator translator, BoardSignals board) {
        serve(translator, board, RequestObserver.NONE);
    }

    /** As {@link #serve(Translator, BoardSignals)}, telling {@code metrics} about every request. */
    public void serve(Translator translator, BoardSignals board, RequestObserver metrics) {
        ServeConfig.Service limits = config.service;
        this.translator = translator;
        this.board = board;
        this.service = new TranslationService(translator, new TranslationService.Limits(limits.queueSize,
                Duration.ofSeconds(limits.requestTimeoutS), Duration.ofSeconds(limits.dedupWindowS),
                limits.dedupMaxEntries, limits.dedupMaxBytes), config.node, this, board, metrics);
        state = "online";
        serving.countDown();
        // only now: a node whose model never loads must not take a share of the requests into its session
        subscribe(connection, true);
        publishStatus();
        log.info("serving {} as node {} ({})", requestFilter, config.node, brokerUrl);
    }

    /**
     * The node cannot serve (its model did not load): the retained status says {@code error} with
     * {@code message}, and the daemon leaves the broker. Requests that arrived stay unacknowledged there.
     */
    public void fail(String message) {
        error = message;
        leave("error");
    }

    /**
     * Opens a connection with a new client, retrying with backoff until the broker takes it, and subscribes
     * once the daemon serves.
     */
    private void open() throws InterruptedException, IOException {
        MqttConnectionOptions options = connectionOptions();
        long delayMs = 500;
        while (!closing) {
            Connection next = newConnection();
            connection = next;
            try {
                next.client().connect(options).waitForCompletion();
                log.info("connected to {}", brokerUrl);
                if (service != null) {
                    subscribe(next, true);
                }
                return;
            } catch (MqttException e) {
                discard(next);
                if (e.getReasonCode() == BAD_USER_NAME_OR_PASSWORD || e.getReasonCode() == NOT_AUTHORIZED) {
                    throw new IOException("broker " + brokerUrl + " refused the connection: " + e.getMessage(), e);
                }
                log.warn("cannot connect to {} ({}); retrying in {} ms", brokerUrl, e.getMessage(), delayMs);
                Thread.sleep(delayMs);
                delayMs = Math.min(delayMs * 2, config.mqtt.reconnectMaxS * 1000L);
            }
        }
    }

    private Connection newConnection() throws IOException {
        try {
            // the session lives at the broker; in-flight replies need no local persistence: an unacknowledged
            // request is delivered again and answered from the dedup window
            MqttAsyncClient client = new MqttAsyncClient(brokerUrl, config.clientId(), new MemoryPersistence());
            client.setManualAcks(true);
            Connection next = new Connection(client, connections.incrementAndGet());
            client.setCallback(new Callback(next));
            return next;
        } catch (MqttException e) {
            throw new IOException("cannot use broker " + brokerUrl + ": " + e.getMessage(), e);
        }
    }

    /** Closes a connection's client, connected or not, with whatever it still had in flight. */
    private static void discard(Connection old) {
        try {
            old.client().close(true);
        } catch (MqttException e) {
            log.debug("closing the old client: {}", e.getMessage());
        }
    }

    /** After a lost connection: a new client, connected again (the broker then redelivers what is unacknowledged). */
    private void reconnect(Connection lost) {
        discard(lost);
        try {
            open();
            if (!closing) {
                publishStatus();
            }
        } catch (IOException e) {
            log.error("cannot reconnect: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private MqttConnectionOptions connectionOptions() throws IOException {
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(false);
        options.setSessionExpiryInterval(config.mqtt.sessionExpiryS);
        options.setKeepAliveInterval(config.mqtt.keepAliveS);
        if (config.mqtt.receiveMaximum > 0) {
            options.setReceiveMaximum(config.mqtt.receiveMaximum);
        }
        // the broker drops what the daemon would only answer too_long after reading it into memory: a request
        // packet is its payload, its topic and its properties (a Response Topic and Correlation Data are up to
        // 64 KiB each), so up to max_payload_bytes + 192 KiB comes through and gets its too_long reply
        options.setMaximumPacketSize(config.service.maxPayloadBytes + MAX_PACKET_HEADROOM);
        MqttMessage will = new MqttMessage(statusJson("offline"), QOS, true, null);
        options.setWill(statusTopic, will);
        BrokerSecurity.apply(options, brokerUrl, config.mqtt);
        return options;
    }

    /** Subscribes to requests through the shared subscription, or directly where the broker refuses that. */
    private void subscribe(Connection to, boolean sharedAvailable) {
        String requests = sharedAvailable ? "$share/" + config.shareGroup() + "/" + requestTopic : requestTopic;
        if (!sharedAvailable) {
            log.warn("the broker has no shared subscriptions: subscribing to {} directly; with several daemons on "
                    + "this broker every one of them will translate every request", requestTopic);
        }
        try {
            // cancel is plain, not shared: the request may sit on any daemon
            IMqttToken token = to.client().subscribe(new MqttSubscription[]{
                    new MqttSubscription(requests, QOS), new MqttSubscription(cancelTopic, QOS)});
            token.waitForCompletion();
            int[] codes = token.getReasonCodes();
            if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
                if (sharedAvailable) {
                    subscribe(to, false);
                } else {
                    log.error("the broker refused the subscription to {} (reason code {})", requests, codes[0]);
                }
                return;
            }
            requestFilter = requests;
            log.info("subscribed to {}", requests);
        } catch (MqttException e) {
            log.warn("subscribing failed ({}); retrying on the next connection", e.getMessage());
        }
    }

    /** Paho's callbacks for one connection. */
    private final class Callback implements MqttCallback {
        private final Connection owner;
        /** A connection that never came up is retried by {@link #open()} itself. */
        private volatile boolean established;

        Callback(Connection owner) {
            this.owner = owner;
        }

        @Override
        public void connectComplete(boolean reconnect, String serverUri) {
            established = true;
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            if (!established || closing || connection != owner) {
                return;
            }
            log.warn("lost the broker ({}); reconnecting", response.getReasonString() != null
                    ? response.getReasonString() : response.getException());
            Thread.ofPlatform().name("reconnect").daemon().start(() -> reconnect(owner));
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            boolean taken = arrivals.offer(message.getQos(), () -> {
                try {
                    serving.await();
                } catch (InterruptedException e) {
                    return; // leaving: the broker keeps it
                }
                if (topic.equals(cancelTopic)) {
                    onCancel(message, owner);
                } else {
                    onRequest(message, owner);
                }
            });
            if (!taken && arrivals.droppedQos0() % MAX_WAITING_QOS0 == 1) {
                log.warn("dropping QoS 0 messages: {} wait already ({} dropped so far)", MAX_WAITING_QOS0,
                        arrivals.droppedQos0());
            }
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            log.warn("MQTT error: {}", exception.getMessage());
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }
    }

    private void onRequest(MqttMessage message, Connection from) {
        MqttProperties properties = message.getProperties();
        String responseTopic = properties == null ? null : properties.getResponseTopic();
        byte[] correlation = properties == null ? null : properties.getCorrelationData();
        RequestParser.Parsed parsed = parser.parse(message.getPayload(), correlation);
        String replyTopic = responseTopic != null && RequestParser.isTopicName(responseTopic)
                ? responseTopic : parsed.replyTo();
        Delivery delivery = new Delivery(replyTopic, correlation, message.getId(), message.getQos(),
                from.number(), message.isDuplicate());
        // redeliveries are requests taken before, never new load
        long throttledMs = replyTopic == null || delivery.redelivered() ? 0
                : clientRates.acquire(replyTopic, System.nanoTime());
        if (replyTopic == null) {
            service.countUnroutable();
            log.warn("request {} names no reply topic (no MQTT 5 Response Topic, no reply_to): dropped",
                    parsed.id());
            acknowledge(delivery);
        } else if (throttledMs > 0) {
            log.debug("request {} for {} is over the per-client rate", parsed.id(), replyTopic);
            service.throttle(parsed.id(), delivery, throttledMs);
        } else if (parsed.error() != null) {
            log.info("request {} rejected: {} ({})", parsed.id(), parsed.error().code().wireName(),
                    parsed.error().getMessage());
            service.reject(parsed.id(), delivery, parsed.error());
        } else {
            service.submit(parsed.request(), delivery);
        }
    }

    private void onCancel(MqttMessage message, Connection from) {
        Delivery delivery = new Delivery(null, null, message.getId(), message.getQos(), from.number(),
                message.isDuplicate());
        try {
            JsonNode id = Replies.JSON.readTree(message.getPayload()).get("id");
            if (id != null && id.isTextual()) {
                boolean found = service.cancel(id.textValue());
                log.info("cancel {}: {}", id.textValue(), found ? "cancelled" : "not queued or running here");
            }
        } catch (IOException e) {
            log.warn("ignoring a cancel that is not JSON: {}", e.getMessage());
        }
        acknowledge(delivery);
    }

    @Override
    public void partial(Delivery delivery, ObjectNode reply) {
        publish(delivery, reply, null);
    }

    @Override
    public void complete(Delivery delivery, ObjectNode reply) {
        publish(delivery, reply, new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
                acknowledge(delivery);
            }

            @Override
            public void onFailure(IMqttToken token, Throwable failure) {
                log.warn("reply to {} not delivered ({}); the broker will deliver the request again",
                        delivery.replyTopic(), failure.getMessage());
            }
        });
    }

    private void publish(Delivery delivery, ObjectNode reply, MqttActionListener whenPublished) {
        MqttProperties properties = new MqttProperties();
        if (delivery.correlationData() != null) {
            properties.setCorrelationData(delivery.correlationData());
        }
        properties.setContentType("application/json");
        try {
            MqttMessage message = new MqttMessage(Replies.JSON.writeValueAsBytes(reply), QOS, false, properties);
            long deadline = System.nanoTime() + PUBLISH_WAIT_NANOS;
            while (true) {
                try {
                    connection.client().publish(delivery.replyTopic(), message, null, whenPublished);
                    return;
                } catch (MqttException e) {
                    // the broker's Receive Maximum bounds our unacknowledged publishes: wait for room
                    if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT || System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(2);
                }
            }
        } catch (MqttException | JsonProcessingException e) {
            log.warn("cannot publish to {} ({}); the broker will deliver the request again",
                    delivery.replyTopic(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** PUBACK for a request, unless it came on an earlier connection: that id may now name another message. */
    private void acknowledge(Delivery delivery) {
        Connection current = connection;
        if (delivery.connection() != current.number()) {
            return;
        }
        try {
            current.client().messageArrivedComplete(delivery.packetId(), delivery.qos());
        } catch (MqttException e) {
            log.debug("cannot acknowledge {}: {}", delivery.packetId(), e.getMessage());
        }
    }

    /** Cancels the running request (the board's button); false when none runs. */
    public boolean cancelRunning() {
        TranslationService service = this.service;
        return service != null && service.cancelRunning();
    }

    /** The translator still works; what the systemd watchdog asks before each ping. */
    public boolean healthy() {
        TranslationService service = this.service;
        return service == null || service.healthy();
    }

    /** Publishes the retained status now (the timer does so every status_interval_s). */
    void publishStatus() {
        try {
            connection.client().publish(statusTopic, new MqttMessage(statusJson(state), QOS, true, null));
        } catch (MqttException e) {
            log.debug("status not published: {}", e.getMessage());
        }
    }

    private byte[] statusJson(String state) {
        TranslationService service = this.service;
        TranslationService.Stats stats = service == null ? new TranslationService.Stats(0, 0, 0, 0, 0) : service.stats();
        Translator translator = this.translator;
        ObjectNode status = Replies.JSON.createObjectNode();
        status.put("state", state);
        if (state.equals("error")) {
            status.put("error", error);
        }
        status.put("node", config.node);
        status.put("model", translator == null ? null : translator.modelName());
        status.put("backend", translator == null ? null : translator.backendDescription());
        status.put("profile", profile);
        status.put("queue_depth", stats.queueDepth());
        status.put("served", stats.served());
        status.put("errors", stats.errors());
        status.put("unroutable", stats.unroutable());
        status.put("dropped_qos0", arrivals.droppedQos0());
        status.put("decode_tok_s", Math.round(stats.decodeTokensPerSecond() * 10) / 10.0);
        status.put("uptime_s", (System.nanoTime() - startedNanos) / 1_000_000_000);
        OptionalDouble temperature = board.temperatureC();
        if (temperature.isPresent()) {
            status.put("temperature_c", temperature.getAsDouble());
        } else {
            status.putNull("temperature_c");
        }
        try {
            return Replies.JSON.writeValueAsBytes(status);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Graceful stop (SIGTERM): takes no more work, lets the running request finish within the grace period,
     * leaves everything else unacknowledged at the broker, and announces the node offline.
     */
    @Override
    public void close() throws InterruptedException {
        statusTimer.shutdownNow();
        TranslationService service = this.service;
        if (service != null) {
            service.stop(Duration.ofSeconds(config.service.shutdownGraceS));
        }
        leave("offline");
    }

    /** Publishes the last status, {@code offline} or {@code error}, and disconnects (so no Last Will follows). */
    private void leave(String lastState) {
        if (!left.compareAndSet(false, true)) {
            return;
        }
        state = lastState;
        statusTimer.shutdownNow();
        closing = true;
        arrivals.shutdownNow();
        if (connection == null) {
            return; // never connected
        }
        MqttAsyncClient client = connection.client();
        try {
            if (client.isConnected()) {
                client.publish(statusTopic, new MqttMessage(statusJson(lastState), QOS, true, null))
                        .waitForCompletion(5000);
                client.disconnect(5000).waitForCompletion(5000);
            }
            client.close(true);
        } catch (MqttException e) {
            log.warn("while disconnecting: {}", e.getMessage());
        }
    }
}
