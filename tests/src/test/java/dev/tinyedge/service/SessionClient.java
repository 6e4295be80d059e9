package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A client with a persistent session (its replies wait at the broker while it is cut off, and survive a broker
 * restart), that publishes requests and records every final reply by id.
 */
final class SessionClient implements AutoCloseable {
    final Map<String, List<JsonNode>> finals = new ConcurrentHashMap<>();
    private final MqttAsyncClient client;
    private final String requestTopic;
    private final String replyTopic;

    SessionClient(String brokerUrl, String prefix) throws MqttException {
        String id = "session-client-" + UUID.randomUUID().toString().substring(0, 8);
        requestTopic = prefix + "/v1/translate";
        replyTopic = prefix + "/replies/" + id;
        client = new MqttAsyncClient(brokerUrl, id, new MemoryPersistence());
        client.setCallback((MessageHandler) (topic, message) -> {
            JsonNode reply = Replies.JSON.readTree(message.getPayload());
            if (!reply.path("status").asText().equals("partial")) {
                String correlation = new String(message.getProperties().getCorrelationData(), StandardCharsets.UTF_8);
                finals.computeIfAbsent(correlation, k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                        .add(reply);
            }
        });
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(false);
        options.setSessionExpiryInterval(600L);
        options.setAutomaticReconnect(true);
        options.setAutomaticReconnectDelay(1, 2);
        client.connect(options).waitForCompletion(10_000);
        client.subscribe(replyTopic, 1).waitForCompletion(10_000);
    }

    /** Publishes request {@code id} with the id as correlation data too. */
    void send(String id) throws MqttException {
        MqttProperties properties = new MqttProperties();
        properties.setResponseTopic(replyTopic);
        properties.setCorrelationData(id.getBytes(StandardCharsets.UTF_8));
        byte[] payload = ("{\"id\":\"" + id + "\",\"text\":\"fault test " + id + "\",\"target\":\"fr\",\"max_tokens\":8}")
                .getBytes(StandardCharsets.UTF_8);
        MqttMessage message = new MqttMessage(payload, 1, false, properties);
        for (int attempt = 1; ; attempt++) {
            try {
                client.publish(requestTopic, message).waitForCompletion(10_000);
                return;
            } catch (MqttException e) {
                // Paho's own flow control: it counts a publish as in flight until its PUBACK has been processed,
                // which can lag a moment behind waitForCompletion; wait for the window as any client would
                if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT || attempt == 100) {
                    throw e;
                }
                sleep(50);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to publish", e);
        }
    }

    /** Waits until {@code count} distinct requests have a final reply; false on timeout. */
    boolean awaitAnswered(int count, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (finals.size() < count) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    @Override
    public void close() throws MqttException {
        client.disconnect().waitForCompletion(5000);
        client.close(true);
    }
}
