package dev.tinyedge.service;

import dev.tinyedge.metrics.RequestObserver;
import dev.tinyedge.translate.Translator;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Protocol v1 over MQTT 5 (CONTRACTS §2): takes requests from the broker, hands them to the
 * {@link TranslationService}, publishes the replies, and acknowledges each request only after its final
 * reply is at the broker.
 *
 * <p>The session is persistent (fixed client id, clean start off, a session expiry), so requests that arrive
 * while the daemon is down, or that it received but never acknowledged, wait at the broker and are delivered
 * again when it reconnects. How the link to the broker is kept (a new client per connection, packet ids of an
 * earlier connection never acknowledged, backoff) is {@link BrokerConnection}'s.
 *
 * <p>The daemon connects before the model is loaded, so the node's retained status says {@code loading}, then
 * {@code online}, or {@code error} when the model cannot be loaded ({@link #connect}, {@link #serve},
 * {@link #fail}).
 */
public final class MqttDaemon implements ReplyChannel, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MqttDaemon.class);
    private static final int QOS = 1;
    /** How long a reply may wait for room in the in-flight window that the broker's Receive Maximum sets. */
    private static final Duration PUBLISH_WAIT = Duration.ofSeconds(10);
    private static final long LAST_STATUS_WAIT_MS = 5000;
    /**
     * The Maximum Packet Size the daemon tells the broker is max_payload_bytes and this much more. The broker
     * drops a larger packet instead of handing it over, where the daemon would read it into memory only to answer
     * {@code too_long}; a request packet is its payload, its topic and its properties (a Response Topic and
     * Correlation Data are up to 64 KiB each), so anything up to the limit still comes through and is answered.
     */
    static final long MAX_PACKET_HEADROOM = 192 * 1024;
    /** QoS 0 messages waiting beyond this are dropped (see {@link Arrivals}). */
    static final int MAX_WAITING_QOS0 = 1000;

    private final ServeConfig config;
    private final String brokerUrl;
    private final String profile;
    private final RequestParser parser;
    private final ClientRateLimit clientRates;
    private final BrokerConnection broker;
    /** Set by {@link #serve}; until then arriving requests wait. */
    private volatile Translator translator;
    private volatile BoardSignals board = BoardSignals.NONE;
    private volatile TranslationService service;
    private final CountDownLatch serving = new CountDownLatch(1);
    private final String requestTopic;
    private final String cancelTopic;
    private final String statusTopic;
    private final long startedNanos = System.nanoTime();
    /**
     * Handles arriving messages in order, off Paho's callback thread: a reply published there (from the dedup
     * window, busy, an error) that waited for room in the in-flight window would wait forever.
     */
    private final Arrivals arrivals = new Arrivals(MAX_WAITING_QOS0);
    private final ScheduledExecutorService statusTimer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("status").daemon().factory());
    private volatile String state = "loading";
    private volatile String error;
    /** The subscription requests come through: shared, or plain where the broker has no shared subscriptions. */
    private volatile String requestFilter;
    private final AtomicBoolean left = new AtomicBoolean();

    public MqttDaemon(ServeConfig config, String brokerUrl, String profile) {
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
        ServeConfig.Mqtt mqtt = config.mqtt;
        this.broker = new BrokerConnection(new BrokerConnection.Settings(brokerUrl, config.clientId(), mqtt,
                mqtt.sessionExpiryS, mqtt.keepAliveS, mqtt.receiveMaximum, limits.maxPayloadBytes + MAX_PACKET_HEADROOM,
                Duration.ofSeconds(mqtt.reconnectMaxS), true,
                new BrokerConnection.Will(statusTopic, () -> statusJson("offline"))), new BrokerConnection.Handler() {
            @Override
            public void messageArrived(String topic, MqttMessage message, long connection) {
                arrive(topic, message, connection);
            }

            @Override
            public void connected(boolean reconnected) {
                log.info("connected to {}", brokerUrl);
                if (reconnected) {
                    publishStatus();
                }
            }
        });
    }

    /**
     * Connects (retrying with backoff until the broker answers) and announces the node {@code loading}. Requests
     * that arrive now (a persistent session brings its subscription and unacknowledged requests along) wait
     * for {@link #serve}.
     */
    public void connect() throws InterruptedException, IOException {
        broker.connectRetrying();
        publishStatus();
        int interval = config.service.statusIntervalS;
        statusTimer.scheduleAtFixedRate(this::publishStatusOnTimer, interval, interval, TimeUnit.SECONDS);
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
        this.service = new TranslationService(translator, new TranslationService.Limits(limits.queueSizeOrDefault(),
                Duration.ofSeconds(limits.requestTimeoutS), Duration.ofSeconds(limits.dedupWindowS),
                limits.dedupMaxEntries, limits.dedupMaxBytes), config.node, this, board, metrics);
        state = "online";
        serving.countDown();
        // only now: a node whose model never loads must not take a share of the requests into its session
        subscribe();
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
     * Subscribes to requests through the shared subscription, or directly where the broker refuses that; cancel
     * is plain, not shared: the request may sit on any daemon. The connection renews them on every reconnect.
     */
    private void subscribe() {
        String shared = "$share/" + config.shareGroup() + "/" + requestTopic;
        try {
            int[] codes = broker.subscribe(new MqttSubscription(shared, QOS), new MqttSubscription(cancelTopic, QOS));
            if (codes.length == 0 || codes[0] < 0x80) {
                requestFilter = shared;
            } else {
                log.warn("the broker has no shared subscriptions: subscribing to {} directly; with several daemons on "
                        + "this broker every one of them will translate every request", requestTopic);
                codes = broker.subscribe(new MqttSubscription(requestTopic, QOS));
                if (codes.length > 0 && codes[0] >= 0x80) {
                    log.error("the broker refused the subscription to {} (reason code {})", requestTopic, codes[0]);
                }
                requestFilter = requestTopic;
            }
            log.info("subscribed to {}", requestFilter);
        } catch (MqttException e) {
            requestFilter = shared;
            log.warn("subscribing failed ({}); subscribing again on the next connection", e.getMessage());
        }
    }

    /**
     * A message from the broker, handled in order on the requests thread once the daemon serves; a QoS 0 message
     * beyond the arrival queue's bound is dropped.
     */
    private void arrive(String topic, MqttMessage message, long connection) {
        boolean taken = arrivals.offer(message.getQos(), () -> {
            try {
                serving.await();
            } catch (InterruptedException e) {
                return; // leaving: the broker keeps it
            }
            if (topic.equals(cancelTopic)) {
                onCancel(message, connection);
            } else {
                onRequest(message, connection);
            }
        });
        if (!taken && arrivals.droppedQos0() % MAX_WAITING_QOS0 == 1) {
            log.warn("dropping QoS 0 messages: {} wait already ({} dropped so far)", MAX_WAITING_QOS0,
                    arrivals.droppedQos0());
        }
    }

    private void onRequest(MqttMessage message, long connection) {
        MqttProperties properties = message.getProperties();
        String responseTopic = properties == null ? null : properties.getResponseTopic();
        byte[] correlation = properties == null ? null : properties.getCorrelationData();
        RequestParser.Parsed parsed = parser.parse(message.getPayload(), correlation);
        String replyTopic = responseTopic != null && RequestParser.isTopicName(responseTopic)
                ? responseTopic : parsed.replyTo();
        Delivery delivery = new Delivery(replyTopic, correlation, message.getId(), message.getQos(), connection,
                message.isDuplicate());
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

    private void onCancel(MqttMessage message, long connection) {
        try {
            Optional<String> id = ProtocolJson.readCancel(message.getPayload());
            if (id.isPresent()) {
                boolean found = service.cancel(id.get());
                log.info("cancel {}: {}", id.get(), found ? "cancelled" : "not queued or running here");
            }
        } catch (IOException e) {
            log.warn("ignoring a cancel that is not JSON: {}", e.getMessage());
        }
        broker.acknowledge(message.getId(), message.getQos(), connection);
    }

    @Override
    public boolean partial(Delivery delivery, Reply.Partial reply) {
        return publish(delivery, reply, Duration.ZERO, null);
    }

    @Override
    public void complete(Delivery delivery, Reply.Final reply) {
        publish(delivery, reply, PUBLISH_WAIT, new MqttActionListener() {
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

    /** Publishes a reply, waiting up to {@code inFlightWait} for room in the in-flight window; false when not sent. */
    private boolean publish(Delivery delivery, Reply reply, Duration inFlightWait, MqttActionListener whenPublished) {
        MqttProperties properties = new MqttProperties();
        if (delivery.correlationData() != null) {
            properties.setCorrelationData(delivery.correlationData());
        }
        properties.setContentType("application/json");
        try {
            broker.publish(delivery.replyTopic(), new MqttMessage(ProtocolJson.write(reply), QOS, false, properties),
                    inFlightWait, whenPublished);
            return true;
        } catch (MqttException e) {
            if (reply instanceof Reply.Partial && e.getReasonCode() == MqttClientException.REASON_CODE_MAX_INFLIGHT) {
                return false; // its text goes with the next partial
            }
            log.warn("cannot publish to {} ({}); the broker will deliver the request again",
                    delivery.replyTopic(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** PUBACK for a request, unless it came on an earlier connection (see {@link BrokerConnection#acknowledge}). */
    private void acknowledge(Delivery delivery) {
        broker.acknowledge(delivery.packetId(), delivery.qos(), delivery.connection());
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

    /** An exception escaping a scheduled task would cancel every later status without a word: log it instead. */
    private void publishStatusOnTimer() {
        try {
            publishStatus();
        } catch (RuntimeException e) {
            log.error("status not published: {}", e.toString());
        }
    }

    /** Publishes the retained status now (the timer does so every status_interval_s). */
    void publishStatus() {
        try {
            broker.publish(statusTopic, new MqttMessage(statusJson(state), QOS, true, null), Duration.ZERO, null);
        } catch (MqttException e) {
            log.debug("status not published: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private byte[] statusJson(String state) {
        TranslationService service = this.service;
        TranslationService.Stats stats = service == null ? TranslationService.Stats.IDLE : service.stats();
        Translator translator = this.translator;
        OptionalDouble temperature = board.temperatureC();
        return ProtocolJson.write(new NodeStatus(state, state.equals("error") ? error : null, config.node,
                translator == null ? null : translator.modelName(),
                translator == null ? null : translator.backendDescription(), profile, stats.queueDepth(),
                service == null ? (translator == null ? 1 : translator.parallel()) : service.parallel(), stats.active(), stats.served(), stats.errors(), stats.unroutable(),
                arrivals.droppedQos0(), stats.decodeTokensPerSecond(), (System.nanoTime() - startedNanos) / 1_000_000_000,
                temperature.isPresent() ? temperature.getAsDouble() : null));
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
        arrivals.shutdownNow();
        if (broker.isConnected()) {
            try {
                broker.publish(statusTopic, new MqttMessage(statusJson(lastState), QOS, true, null), Duration.ZERO, null)
                        .waitForCompletion(LAST_STATUS_WAIT_MS);
            } catch (MqttException e) {
                log.warn("the last status ({}) was not published: {}", lastState, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        broker.close();
    }
}
