package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The client side of protocol v1: publishes a request with an MQTT 5 Response Topic and Correlation Data, waits
 * for the final reply, and after its own timeout sends the request again with the same id (the daemons' dedup
 * window makes that safe). Repeated replies are dropped. Safe to share between threads.
 */
public final class TranslationClient implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Replies arriving for one request, by the hex of its correlation data. */
    private final Map<String, BlockingQueue<JsonNode>> pending = new ConcurrentHashMap<>();
    private final MqttAsyncClient client;
    private final String requestTopic;
    private final String replyTopic;

    public TranslationClient(String brokerUrl, String topicPrefix) throws MqttException, IOException {
        String clientId = "tinyedge-client-" + UUID.randomUUID();
        this.requestTopic = topicPrefix + "/v1/translate";
        this.replyTopic = topicPrefix + "/v1/replies/" + clientId;
        client = new MqttAsyncClient(brokerUrl, clientId, new MemoryPersistence());
        client.setCallback((MessageHandler) (topic, message) -> {
            byte[] correlation = message.getProperties() == null ? null
                    : message.getProperties().getCorrelationData();
            BlockingQueue<JsonNode> replies = correlation == null ? null
                    : pending.get(HexFormat.of().formatHex(correlation));
            if (replies != null) {
                try {
                    replies.add(Replies.JSON.readTree(message.getPayload()));
                } catch (IOException e) {
                    // not a protocol reply: nothing to hand on
                }
            }
        });
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        options.setAutomaticReconnect(true);
        options.setAutomaticReconnectDelay(1, 5);
        if (brokerUrl.startsWith("tcp://")) {
            options.setSocketFactory(NoDelaySocketFactory.INSTANCE);
        }
        try {
            client.connect(options).waitForCompletion(10_000);
        } catch (MqttException e) {
            client.close(true);
            throw new IOException("cannot connect to the broker at " + brokerUrl + ": " + e.getMessage(), e);
        }
        client.subscribe(replyTopic, 1).waitForCompletion(10_000);
    }

    /**
     * Sends {@code request} (an id is added when it has none) and returns the final reply: a result or an error.
     * Streamed partials go to {@code onPartial} in order, each once. Busy replies and silence longer than
     * {@code timeout} lead to another try with the same id, at most {@code attempts} tries in all.
     *
     * @throws NoReplyException when no try got a final reply
     */
    public JsonNode translate(ObjectNode request, Duration timeout, int attempts, Consumer<JsonNode> onPartial)
            throws MqttException, InterruptedException, NoReplyException {
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
            int nextSeq = 0;
            JsonNode lastBusy = null;
            for (int attempt = 0; attempt < attempts; attempt++) {
                MqttProperties properties = new MqttProperties();
                properties.setResponseTopic(replyTopic);
                properties.setCorrelationData(correlation);
                client.publish(requestTopic, new MqttMessage(payload, 1, false, properties)).waitForCompletion(10_000);
                long deadline = System.nanoTime() + timeout.toNanos();
                while (true) {
                    JsonNode reply = replies.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    if (reply == null) {
                        break; // silence: try again with the same id
                    }
                    String status = reply.path("status").asText();
                    if (status.equals("partial")) {
                        if (reply.path("seq").asInt(-1) == nextSeq) {
                            nextSeq++;
                            onPartial.accept(reply);
                        }
                    } else if (status.equals("error") && reply.path("error").path("code").asText().equals("busy")) {
                        lastBusy = reply;
                        Thread.sleep(Math.min(reply.path("retry_after_ms").asLong(1000), timeout.toMillis()));
                        break;
                    } else {
                        return reply;
                    }
                }
            }
            if (lastBusy != null) {
                return lastBusy;
            }
            throw new NoReplyException("no reply to request " + request.get("id").asText() + " after " + attempts
                    + " tries of " + timeout.toSeconds() + " s: is a daemon serving " + requestTopic + "?");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        } finally {
            pending.remove(key);
        }
    }

    /** No daemon answered in time. */
    public static final class NoReplyException extends Exception {
        public NoReplyException(String message) {
            super(message);
        }
    }

    @Override
    public void close() throws MqttException {
        if (client.isConnected()) {
            client.disconnect().waitForCompletion(5000);
        }
        client.close(true);
    }
}
