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
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A raw MQTT 5 client for protocol tests: publishes any payload, collects whatever arrives on its topic as JSON
 * (read with a mapper of its own, so that the tests check the wire format, not tinyedge's reading of it).
 */
final class TestClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A message as received: payload parsed, correlation data kept. */
    record Received(String topic, JsonNode json, byte[] correlationData, boolean retained) {
    }

    final String replyTopic = "test/replies/" + UUID.randomUUID();
    final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final BrokerConnection broker;

    TestClient(String brokerUrl) throws IOException, MqttException {
        broker = new BrokerConnection(BrokerConnection.Settings.cleanSession(brokerUrl, "test-" + UUID.randomUUID(),
                new ServeConfig.Mqtt()), (topic, message, connection) -> received.add(new Received(topic,
                json(message.getPayload()), message.getProperties() == null ? null
                        : message.getProperties().getCorrelationData(), message.isRetained())));
        broker.connect();
        subscribe(replyTopic);
    }

    private static JsonNode json(byte[] payload) {
        try {
            return JSON.readTree(payload);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(String payload) throws IOException {
        return JSON.readTree(payload);
    }

    void subscribe(String topic) throws MqttException {
        broker.subscribe(new MqttSubscription(topic, 1));
    }

    /** Publishes with this client's reply topic as Response Topic (unless null) and the given correlation data. */
    void request(String topic, byte[] payload, String responseTopic, byte[] correlation)
            throws MqttException, InterruptedException {
        MqttProperties properties = new MqttProperties();
        if (responseTopic != null) {
            properties.setResponseTopic(responseTopic);
        }
        if (correlation != null) {
            properties.setCorrelationData(correlation);
        }
        broker.publish(topic, new MqttMessage(payload, 1, false, properties), Duration.ofSeconds(5), null)
                .waitForCompletion(5000);
    }

    void request(String topic, String json, byte[] correlation) throws MqttException, InterruptedException {
        request(topic, json.getBytes(StandardCharsets.UTF_8), replyTopic, correlation);
    }

    /** The next message, failing the test after {@code seconds}. */
    Received next(int seconds) throws InterruptedException {
        Received message = received.poll(seconds, TimeUnit.SECONDS);
        if (message == null) {
            throw new AssertionError("no message within " + seconds + " s");
        }
        return message;
    }

    /** The next final reply (result or error), skipping partials. */
    Received nextFinal(int seconds) throws InterruptedException {
        while (true) {
            Received message = next(seconds);
            if (!message.json().path("status").asText().equals("partial")) {
                return message;
            }
        }
    }

    @Override
    public void close() {
        broker.close();
    }
}
