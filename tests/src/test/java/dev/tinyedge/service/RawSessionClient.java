package dev.tinyedge.service;

import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.util.function.BiConsumer;

/**
 * An MQTT 5 client for the soak that publishes any bytes (malformed requests, cancels) and hands every message on
 * its subscription to a callback. Its session is persistent, so what arrives while a broker restarts waits for
 * it, and like the daemon it opens each connection with a new Paho client (see {@link SessionClient}).
 */
final class RawSessionClient implements AutoCloseable {
    private final String brokerUrl;
    private final String clientId;
    private final BiConsumer<String, MqttMessage> onMessage;
    private volatile MqttAsyncClient client;
    private volatile boolean closed;

    RawSessionClient(String brokerUrl, String clientId, String filter, BiConsumer<String, MqttMessage> onMessage)
            throws MqttException {
        this.brokerUrl = brokerUrl;
        this.clientId = clientId;
        this.onMessage = onMessage;
        connect();
        client.subscribe(filter, 1).waitForCompletion(10_000);
    }

    private void connect() throws MqttException {
        MqttAsyncClient next = new MqttAsyncClient(brokerUrl, clientId, new MemoryPersistence());
        next.setCallback(new MessageHandler() {
            private volatile boolean established;

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                onMessage.accept(topic, message);
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
        options.setSocketFactory(NoDelaySocketFactory.INSTANCE);
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
            // gone either way
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

    /** Publishes at QoS 1; false when the connection is down (the caller tries again later). */
    boolean publish(String topic, byte[] payload, String responseTopic, byte[] correlation) {
        MqttProperties properties = new MqttProperties();
        if (responseTopic != null) {
            properties.setResponseTopic(responseTopic);
        }
        if (correlation != null) {
            properties.setCorrelationData(correlation);
        }
        for (int attempt = 0; attempt < 100; attempt++) {
            try {
                client.publish(topic, new MqttMessage(payload, 1, false, properties)).waitForCompletion(10_000);
                return true;
            } catch (MqttException e) {
                if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT) {
                    return false;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
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
