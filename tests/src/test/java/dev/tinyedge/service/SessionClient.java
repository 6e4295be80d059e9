package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A client with a persistent session (its replies wait at the broker while it is cut off, and survive a broker
 * restart), that publishes requests and records every final reply by id, as JSON read with a mapper of its own.
 * It keeps its link to the broker as the daemon does, through {@link BrokerConnection}.
 */
final class SessionClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final Map<String, List<JsonNode>> finals = new ConcurrentHashMap<>();
    private final String requestTopic;
    private final String replyTopic;
    private final BrokerConnection broker;

    SessionClient(String brokerUrl, String prefix) throws IOException, InterruptedException, MqttException {
        String clientId = "session-client-" + UUID.randomUUID().toString().substring(0, 8);
        requestTopic = prefix + "/v1/translate";
        replyTopic = prefix + "/replies/" + clientId;
        broker = new BrokerConnection(new BrokerConnection.Settings(brokerUrl, clientId, new ServeConfig.Mqtt(), 600,
                60, 0, 0, Duration.ofMillis(500), false, null), (topic, message, connection) -> record(message));
        broker.connectRetrying();
        broker.subscribe(new MqttSubscription(replyTopic, 1));
    }

    private void record(MqttMessage message) {
        JsonNode reply;
        try {
            reply = JSON.readTree(message.getPayload());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!reply.path("status").asText().equals("partial")) {
            String correlation = new String(message.getProperties().getCorrelationData(), StandardCharsets.UTF_8);
            finals.computeIfAbsent(correlation, k -> Collections.synchronizedList(new ArrayList<>())).add(reply);
        }
    }

    /** Publishes request {@code id} with the id as correlation data too. */
    void send(String id) throws MqttException, InterruptedException {
        MqttProperties properties = new MqttProperties();
        properties.setResponseTopic(replyTopic);
        properties.setCorrelationData(id.getBytes(StandardCharsets.UTF_8));
        byte[] payload = ("{\"id\":\"" + id + "\",\"text\":\"fault test " + id + "\",\"target\":\"fr\",\"max_tokens\":8}")
                .getBytes(StandardCharsets.UTF_8);
        broker.publish(requestTopic, new MqttMessage(payload, 1, false, properties), Duration.ofSeconds(5), null)
                .waitForCompletion(10_000);
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
    public void close() {
        broker.close();
    }
}
