package dev.tinyedge.service;

import dev.tinyedge.translate.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/tinyedge serve} with {@code [metrics] listen} in its configuration file: the endpoint is up, says
 * the model is online, and counts a request made through Mosquitto.
 */
class ServeMetricsTest {
    @TempDir
    Path dir;

    @Test
    void servesMetricsWhenTheConfigurationAsks() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String prefix = "p" + UUID.randomUUID().toString().substring(0, 8);
        try (Mosquitto mosquitto = new Mosquitto("");
             // the [mqtt] keys DaemonProcess takes end that table; a [metrics] table may follow them
             DaemonProcess daemon = new DaemonProcess(dir, "metrics-node", TinyModel.path(), mosquitto.url(), prefix,
                     "\n[metrics]\nlisten = \"127.0.0.1:" + port + "\"\n").start();
             TestClient client = new TestClient(mosquitto.url())) {
            URI endpoint = URI.create("http://127.0.0.1:" + port + "/metrics");
            String before = scrape(endpoint);
            assertTrue(before.contains("tinyedge_model_state{tinyedge_model_state=\"online\"} 1"), before);
            assertTrue(before.contains("tinyedge_requests_total{outcome=\"ok\"} 0.0"), before);
            client.request(prefix + "/v1/translate", "{\"id\":\"m1\",\"text\":\"hello\",\"target\":\"es\",\"max_tokens\":3}", null);
            assertEquals("ok", client.nextFinal(60).json().get("status").asText());
            String after = scrape(endpoint);
            assertTrue(after.contains("tinyedge_requests_total{outcome=\"ok\"} 1.0"), after);
            assertTrue(daemon.log().contains("metrics on http://127.0.0.1:" + port + "/metrics"), daemon.log());
        }
    }

    private static String scrape(URI endpoint) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(endpoint).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
