package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The client side of protocol v1: publishes a request with an MQTT 5 Response Topic and Correlation Data, waits
 * for the final reply, and after a while without one sends the request again with the same id (the daemons' dedup
 * window makes that safe). Repeated replies are dropped. Safe to share between threads.
 */
public final class TranslationClient implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long PUBLISH_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long PUBLISH_WAIT_MS = 10_000;

    /** Replies arriving for one request, by the hex of its correlation data. */
    private final Map<String, BlockingQueue<JsonNode>> pending = new ConcurrentHashMap<>();
    private final String brokerUrl;
    private final ServeConfig.Mqtt security;
    private final String clientId;
    private final String requestTopic;
    private final String replyTopic;
    /**
     * The connection of the moment. Like the daemon, the client opens each connection with a new Paho client
     * (see {@link MqttDaemon}): Paho's own reconnect would resend requests with a stale topic alias, and with
     * a clean start it would not subscribe to the replies again.
     */
    private volatile MqttAsyncClient client;
    private volatile boolean closed;

    public TranslationClient(String brokerUrl, String topicPrefix) throws IOException {
        this(brokerUrl, topicPrefix, new ServeConfig.Mqtt());
    }

    /**
     * A client that connects with {@code security}'s user name, password file and TLS settings (the [mqtt]
     * section of a daemon's configuration file). With a user name, replies come on
     * {@code PREFIX/v1/reply/USER/CLIENT}, the topics the sample ACL lets that user read.
     */
    public TranslationClient(String brokerUrl, String topicPrefix, ServeConfig.Mqtt security) throws IOException {
        PahoLog.silence();
        this.brokerUrl = brokerUrl;
        this.security = security;
        this.clientId = "tinyedge-client-" + UUID.randomUUID();
        this.requestTopic = topicPrefix + "/v1/translate";
        this.replyTopic = security.username != null ? topicPrefix + "/v1/reply/" + security.username + "/" + clientId
                : topicPrefix + "/v1/replies/" + clientId;
        try {
            connect();
        } catch (MqttException e) {
            throw new IOException("cannot connect to the broker at " + brokerUrl + ": " + e.getMessage(), e);
        }
    }

    /** Opens a connection with a new Paho client and subscribes to the replies. */
    private void connect() throws MqttException {
        MqttAsyncClient next = new MqttAsyncClient(brokerUrl, clientId, new MemoryPersistence());
        next.setCallback(new MessageHandler() {
            private volatile boolean established; // one that never came up is retried by reconnect()

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                deliver(message);
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
                established = true;
            }

            @Override
            public void disconnected(MqttDisconnectResponse response) {
                if (established && !closed) {
                    Thread.ofPlatform().name("reconnect").daemon().start(() -> reconnect(next));
                }
            }
        });
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        try {
            BrokerSecurity.apply(options, brokerUrl, security);
        } catch (IOException e) {
            next.close(true);
            throw new MqttException(e);
        }
        client = next;
        try {
            next.connect(options).waitForCompletion(10_000);
            next.subscribe(replyTopic, 1).waitForCompletion(10_000);
        } catch (MqttException e) {
            next.close(true);
            throw e;
        }
    }

    /** After a lost connection: new clients until one connects; tries made meanwhile fail and are made again. */
    private void reconnect(MqttAsyncClient lost) {
        try {
            lost.close(true);
        } catch (MqttException e) {
            // gone either way
        }
        long delayMs = 500;
        while (!closed) {
            try {
                connect();
                return;
            } catch (MqttException e) {
                try {
                    Thread.sleep(delayMs);
                } catch (InterruptedException interrupted) {
                    return;
                }
                delayMs = Math.min(delayMs * 2, 5000);
            }
        }
    }

    /** Hands a reply to the request waiting for it, found by its correlation data. */
    private void deliver(MqttMessage message) {
        byte[] correlation = message.getProperties() == null ? null : message.getProperties().getCorrelationData();
        BlockingQueue<JsonNode> replies = correlation == null ? null
                : pending.get(HexFormat.of().formatHex(correlation));
        if (replies != null) {
            try {
                replies.add(Replies.JSON.readTree(message.getPayload()));
            } catch (IOException e) {
                // not a protocol reply: nothing to hand on
            }
        }
    }

    /**
     * Sends {@code request} (an id is added when it has none) and returns the final reply: a result or an error.
     * Streamed partials go to {@code onPartial} in order, each once. The request is sent again with the same id
     * after {@code retryAfter} without a reply (partials count as replies), after a {@code busy} reply, and after
     * a publish that failed (the connection down); Paho's full in-flight window is waited out. Each pause is
     * jittered, so clients that lost their replies together do not retry in step: with a shared subscription
     * the broker splits requests between daemons by count, and retries in step can keep landing on a dead
     * daemon's session. Tries go on until {@code timeout} has passed in all.
     *
     * @throws NoReplyException when no try got a final reply within {@code timeout}
     */
    public JsonNode translate(ObjectNode request, Duration retryAfter, Duration timeout, Consumer<JsonNode> onPartial)
            throws InterruptedException, NoReplyException {
        if (!request.hasNonNull("id")) {
            request.put("id", UUID.randomUUID().toString());
        }
        byte[] correlation = new byte[16];
        RANDOM.nextBytes(correlation);
        String key = HexFormat.of().formatHex(correlation);
        BlockingQueue<JsonNode> replies = new LinkedBlockingQueue<>();
        pending.put(key, replies);
        try {
            byte[] payload = Replies.JSON.writeValueAsBytes(request);
            long end = System.nanoTime() + timeout.toNanos();
            int nextSeq = 0;
            int tries = 0;
            JsonNode lastBusy = null;
            MqttException lastFailure = null;
            while (System.nanoTime() < end) {
                tries++;
                lastFailure = publish(payload, correlation, end);
                // after a failed publish, try again soon: the client reconnects by itself
                long silence = lastFailure == null ? jittered(retryAfter.toNanos()) : jittered(PUBLISH_RETRY_NANOS);
                long tryEnd = Math.min(end, System.nanoTime() + silence);
                while (true) {
                    JsonNode reply = replies.poll(Math.max(0, tryEnd - System.nanoTime()), TimeUnit.NANOSECONDS);
                    if (reply == null) {
                        break; // silence: try again with the same id
                    }
                    String status = reply.path("status").asText();
                    if (status.equals("partial")) {
                        if (reply.path("seq").asInt(-1) == nextSeq) {
                            nextSeq++;
                            onPartial.accept(reply);
                        }
                        tryEnd = Math.min(end, System.nanoTime() + silence);
                    } else if (status.equals("error") && reply.path("error").path("code").asText().equals("busy")) {
                        lastBusy = reply;
                        long pause = jittered(TimeUnit.MILLISECONDS.toNanos(reply.path("retry_after_ms").asLong(1000)));
                        TimeUnit.NANOSECONDS.sleep(Math.max(0, Math.min(pause, end - System.nanoTime())));
                        break;
                    } else {
                        return reply;
                    }
                }
            }
            if (lastBusy != null) {
                return lastBusy;
            }
            throw new NoReplyException("no reply to request " + request.get("id").asText() + " within "
                    + timeout.toSeconds() + " s (" + tries + " tries)" + (lastFailure == null
                    ? ": is a daemon serving " + requestTopic + "?"
                    : "; the last try could not be sent: " + lastFailure.getMessage()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        } finally {
            pending.remove(key);
        }
    }

    /**
     * Publishes one try of a request, waiting while Paho's in-flight window is full (Paho counts a publish in
     * flight until it has handled its PUBACK); returns the failure that ended the try, null when it was sent.
     */
    private MqttException publish(byte[] payload, byte[] correlation, long endNanos) throws InterruptedException {
        MqttProperties properties = new MqttProperties();
        properties.setResponseTopic(replyTopic);
        properties.setCorrelationData(correlation);
        MqttMessage message = new MqttMessage(payload, 1, false, properties);
        while (true) {
            try {
                client.publish(requestTopic, message).waitForCompletion(PUBLISH_WAIT_MS);
                return null;
            } catch (MqttException e) {
                if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT || System.nanoTime() > endNanos) {
                    return e;
                }
                Thread.sleep(ThreadLocalRandom.current().nextLong(5, 50));
            }
        }
    }

    /** {@code nanos} stretched by a random 0 to 25 %. */
    private static long jittered(long nanos) {
        return nanos + ThreadLocalRandom.current().nextLong(nanos / 4 + 1);
    }

    /** No daemon answered in time. */
    public static final class NoReplyException extends Exception {
        public NoReplyException(String message) {
            super(message);
        }
    }

    @Override
    public void close() throws MqttException {
        closed = true;
        MqttAsyncClient client = this.client;
        if (client.isConnected()) {
            client.disconnect().waitForCompletion(5000);
        }
        client.close(true);
    }
}
