package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
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
 *
 * <p>Like the daemon, it opens each connection with a new Paho client instead of Paho's automatic reconnect:
 * once, after a Mosquitto restart, Paho's reconnect opened the TCP connection and never sent CONNECT, and the
 * test waited for replies that sat at the broker.
 */
final class SessionClient implements AutoCloseable {
    final Map<String, List<JsonNode>> finals = new ConcurrentHashMap<>();
    private final String brokerUrl;
    private final String clientId;
    private final String requestTopic;
    private final String replyTopic;
    private volatile MqttAsyncClient client;
    private volatile boolean closed;

    SessionClient(String brokerUrl, String prefix) throws MqttException {
        this.brokerUrl = brokerUrl;
        clientId = "session-client-" + UUID.randomUUID().toString().substring(0, 8);
        requestTopic = prefix + "/v1/translate";
        replyTopic = prefix + "/replies/" + clientId;
        connect();
        client.subscribe(replyTopic, 1).waitForCompletion(10_000);
    }

    /** Connects a new client; the session (subscription and queued replies) is the broker's. */
    private void connect() throws MqttException {
        MqttAsyncClient next = new MqttAsyncClient(brokerUrl, clientId, new MemoryPersistence());
        next.setCallback(new MessageHandler() {
            private volatile boolean established; // a connection that never came up is retried by reconnect()

            @Override
            public void messageArrived(String topic, MqttMessage message) throws Exception {
                record(message);
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
                established = true;
            }

            @Override
            public void disconnected(MqttDisconnectResponse response) {
                if (established && !closed) {
                    Thread.ofPlatform().daemon().start(() -> reconnect(next));
                }
            }
        });
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(false);
        options.setSessionExpiryInterval(600L);
        client = next;
        try {
            next.connect(options).waitForCompletion(10_000);
        } catch (MqttException e) {
            next.close(true);
            throw e;
        }
    }

    private void reconnect(MqttAsyncClient lost) {
        try {
            lost.close(true);
        } catch (MqttException ignored) {
            // it is gone either way
        }
        while (!closed) {
            try {
                connect();
                return;
            } catch (MqttException e) {
                try {
                    Thread.sleep(500); // the broker is still down
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    private void record(MqttMessage message) throws java.io.IOException {
        JsonNode reply = Replies.JSON.readTree(message.getPayload());
        if (!reply.path("status").asText().equals("partial")) {
            String correlation = new String(message.getProperties().getCorrelationData(), StandardCharsets.UTF_8);
            finals.computeIfAbsent(correlation, k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                    .add(reply);
        }
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
        closed = true;
        if (client.isConnected()) {
            client.disconnect().waitForCompletion(5000);
        }
        client.close(true);
    }
}
