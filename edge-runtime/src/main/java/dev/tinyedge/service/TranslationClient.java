package dev.tinyedge.service;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
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
    private final Map<String, BlockingQueue<Reply>> pending = new ConcurrentHashMap<>();
    private final String requestTopic;
    private final String replyTopic;
    private final BrokerConnection broker;

    public TranslationClient(String brokerUrl, String topicPrefix) throws IOException {
        this(brokerUrl, topicPrefix, new ServeConfig.Mqtt());
    }

    /**
     * A client that connects with {@code security}'s user name, password file and TLS settings (the [mqtt]
     * section of a daemon's configuration file). With a user name, replies come on
     * {@code PREFIX/v1/reply/USER/CLIENT}, the topics the sample ACL lets that user read.
     */
    public TranslationClient(String brokerUrl, String topicPrefix, ServeConfig.Mqtt security) throws IOException {
        String clientId = "tinyedge-client-" + UUID.randomUUID();
        this.requestTopic = topicPrefix + "/v1/translate";
        this.replyTopic = security.username != null ? topicPrefix + "/v1/reply/" + security.username + "/" + clientId
                : topicPrefix + "/v1/replies/" + clientId;
        this.broker = new BrokerConnection(BrokerConnection.Settings.cleanSession(brokerUrl, clientId, security),
                (topic, message, connection) -> deliver(message));
        broker.connect();
        try {
            int[] codes = broker.subscribe(new MqttSubscription(replyTopic, 1));
            if (codes.length > 0 && codes[0] >= 0x80) {
                throw new IOException("the broker at " + brokerUrl + " refused the subscription to the replies on "
                        + replyTopic + " (reason code " + codes[0] + ")");
            }
        } catch (MqttException e) {
            broker.close();
            throw new IOException("cannot subscribe to the replies at " + brokerUrl + ": " + e.getMessage(), e);
        } catch (IOException e) {
            broker.close();
            throw e;
        }
    }

    /** Hands a reply to the request waiting for it, found by its correlation data. */
    private void deliver(MqttMessage message) {
        byte[] correlation = message.getProperties() == null ? null : message.getProperties().getCorrelationData();
        BlockingQueue<Reply> replies = correlation == null ? null : pending.get(HexFormat.of().formatHex(correlation));
        if (replies != null) {
            try {
                replies.add(ProtocolJson.readReply(message.getPayload()));
            } catch (IOException e) {
                // not a protocol reply: nothing to hand on
            }
        }
    }

    /**
     * Sends {@code request} (under a new id when it has none) and returns the final reply: a result, a failure,
     * or the last {@code busy}. Streamed partials go to {@code onPartial} in order, each once. The request is
     * sent again with the same id after {@code retryAfter} without a reply (partials count as replies), after a
     * {@code busy} reply, and after a publish that failed (the connection down); Paho's full in-flight window is
     * waited out. Each pause is jittered, so clients that lost their replies together do not retry in step:
     * with a shared subscription the broker splits requests between daemons by count, and retries in step can
     * keep landing on a dead daemon's session. Tries go on until {@code timeout} has passed in all.
     *
     * @throws NoReplyException when no try got a final reply within {@code timeout}
     */
    public Reply.Final translate(Request request, Duration retryAfter, Duration timeout, Consumer<Reply.Partial> onPartial)
            throws InterruptedException, NoReplyException {
        Request named = request.id() == null ? request.withId(UUID.randomUUID().toString()) : request;
        byte[] correlation = new byte[16];
        RANDOM.nextBytes(correlation);
        String key = HexFormat.of().formatHex(correlation);
        BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
        pending.put(key, replies);
        try {
            byte[] payload = ProtocolJson.write(named);
            long end = System.nanoTime() + timeout.toNanos();
            int nextSeq = 0;
            int tries = 0;
            Reply.Busy lastBusy = null;
            MqttException lastFailure = null;
            while (System.nanoTime() < end) {
                tries++;
                lastFailure = publish(payload, correlation, end);
                // after a failed publish, try again soon: the connection comes back by itself
                long silence = lastFailure == null ? jittered(retryAfter.toNanos()) : jittered(PUBLISH_RETRY_NANOS);
                long tryEnd = Math.min(end, System.nanoTime() + silence);
                waiting:
                while (true) {
                    Reply reply = replies.poll(Math.max(0, tryEnd - System.nanoTime()), TimeUnit.NANOSECONDS);
                    switch (reply) {
                        case null -> {
                            break waiting; // silence: try again with the same id
                        }
                        case Reply.Partial partial -> {
                            if (partial.seq() == nextSeq) {
                                nextSeq++;
                                onPartial.accept(partial);
                            }
                            tryEnd = Math.min(end, System.nanoTime() + silence);
                        }
                        case Reply.Busy busy -> {
                            lastBusy = busy;
                            long pause = jittered(TimeUnit.MILLISECONDS.toNanos(busy.retryAfterMs()));
                            TimeUnit.NANOSECONDS.sleep(Math.max(0, Math.min(pause, end - System.nanoTime())));
                            break waiting;
                        }
                        case Reply.Final last -> {
                            return last;
                        }
                    }
                }
            }
            if (lastBusy != null) {
                return lastBusy;
            }
            throw new NoReplyException("no reply to request " + named.id() + " within " + timeout.toSeconds()
                    + " s (" + tries + " tries)" + (lastFailure == null
                    ? ": is a daemon serving " + requestTopic + "?"
                    : "; the last try could not be sent: " + lastFailure.getMessage()));
        } finally {
            pending.remove(key);
        }
    }

    /** Publishes one try of a request; returns the failure that ended the try, null when it was sent. */
    private MqttException publish(byte[] payload, byte[] correlation, long endNanos) throws InterruptedException {
        MqttProperties properties = new MqttProperties();
        properties.setResponseTopic(replyTopic);
        properties.setCorrelationData(correlation);
        try {
            broker.publish(requestTopic, new MqttMessage(payload, 1, false, properties),
                    Duration.ofNanos(Math.max(0, endNanos - System.nanoTime())), null).waitForCompletion(PUBLISH_WAIT_MS);
            return null;
        } catch (MqttException e) {
            return e;
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
    public void close() {
        broker.close();
    }
}
