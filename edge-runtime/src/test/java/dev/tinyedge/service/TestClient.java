package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A raw MQTT 5 client for protocol tests: publishes any payload, collects whatever arrives on its topic. */
final class TestClient implements AutoCloseable {
    /** A message as received: payload parsed, correlation data kept. */
    record Received(String topic, JsonNode json, byte[] correlationData, boolean retained) {
    }

    final String replyTopic = "test/replies/" + UUID.randomUUID();
    final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final MqttAsyncClient client;

    TestClient(String brokerUrl) throws MqttException {
        client = new MqttAsyncClient(brokerUrl, "test-" + UUID.randomUUID(), new MemoryPersistence());
        client.setCallback((MessageHandler) (topic, message) -> {
            received.add(new Received(topic, Replies.JSON.readTree(message.getPayload()),
                    message.getProperties() == null ? null : message.getProperties().getCorrelationData(),
                    message.isRetained()));
        });
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        options.setSocketFactory(NoDelaySocketFactory.INSTANCE);
        client.connect(options).waitForCompletion(5000);
        subscribe(replyTopic);
    }

    void subscribe(String topic) throws MqttException {
        client.subscribe(topic, 1).waitForCompletion(5000);
    }

    /** Publishes with this client's reply topic as Response Topic (unless null) and the given correlation data. */
    void request(String topic, byte[] payload, String responseTopic, byte[] correlation) throws MqttException {
        MqttProperties properties = new MqttProperties();
        if (responseTopic != null) {
            properties.setResponseTopic(responseTopic);
        }
        if (correlation != null) {
            properties.setCorrelationData(correlation);
        }
        client.publish(topic, new MqttMessage(payload, 1, false, properties)).waitForCompletion(5000);
    }

    void request(String topic, String json, byte[] correlation) throws MqttException {
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
    public void close() throws MqttException {
        client.disconnect().waitForCompletion(5000);
        client.close(true);
    }
}
