package dev.tinyedge.service;

import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

import java.io.IOException;
import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * An MQTT 5 client for the soak that publishes any bytes (malformed requests, cancels) and hands every message on
 * its subscription to a callback. Its session is persistent, so what arrives while a broker restarts waits for
 * it; it keeps its link through {@link BrokerConnection}, as the daemon does.
 */
final class RawSessionClient implements AutoCloseable {
    private final BrokerConnection broker;

    RawSessionClient(String brokerUrl, String clientId, String filter, BiConsumer<String, MqttMessage> onMessage)
            throws IOException, InterruptedException, MqttException {
        broker = new BrokerConnection(new BrokerConnection.Settings(brokerUrl, clientId, new ServeConfig.Mqtt(), 600,
                60, 0, 0, Duration.ofMillis(500), false, null),
                (topic, message, connection) -> onMessage.accept(topic, message));
        broker.connectRetrying();
        broker.subscribe(new MqttSubscription(filter, 1));
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
        try {
            broker.publish(topic, new MqttMessage(payload, 1, false, properties), Duration.ofSeconds(2), null)
                    .waitForCompletion(10_000);
            return true;
        } catch (MqttException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        broker.close();
    }
}
