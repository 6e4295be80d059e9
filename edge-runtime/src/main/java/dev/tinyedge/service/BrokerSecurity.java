package dev.tinyedge.service;

import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The user name, password file and TLS settings of a broker connection, shared by the daemon and the client. */
final class BrokerSecurity {
    private BrokerSecurity() {
    }

    /**
     * Sets {@code mqtt}'s user name and password (read from its file) on {@code options}, and TLS with its CA
     * and client certificate for an {@code ssl://} URL or a configured CA; plain TCP otherwise, without
     * Nagle's delay.
     */
    static void apply(MqttConnectionOptions options, String brokerUrl, ServeConfig.Mqtt mqtt) throws IOException {
        if (mqtt.username != null) {
            options.setUserName(mqtt.username);
        }
        if (mqtt.passwordFile != null) {
            options.setPassword(Files.readString(Path.of(mqtt.passwordFile)).strip().getBytes(StandardCharsets.UTF_8));
        }
        if (brokerUrl.startsWith("ssl://") || mqtt.caFile != null) {
            options.setSocketFactory(TlsContexts.socketFactory(mqtt));
        } else if (brokerUrl.startsWith("tcp://")) {
            options.setSocketFactory(NoDelaySocketFactory.INSTANCE);
        }
    }
}
