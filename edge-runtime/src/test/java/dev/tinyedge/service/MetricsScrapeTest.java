package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.metrics.DaemonMetrics;
import dev.tinyedge.translate.EngineTranslator;
import dev.tinyedge.translate.TinyModel;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Prometheus endpoint scraped while 20 clients load the daemon through a real Mosquitto: every request is
 * counted exactly once under its outcome, the token counters add up to what the replies report, and the
 * scrapes taken during the load only ever count up.
 */
class MetricsScrapeTest {
    private static final int CLIENTS = 20;
    private static final int PER_CLIENT = 10;

    @Test
    void countsEveryRequestOfA20ClientLoadExactly() throws Exception {
        String prefix = "m" + UUID.randomUUID().toString().substring(0, 8);
        ServeConfig config = new ServeConfig();
        config.node = "metrics-node";
        config.mqtt.clientId = "daemon-" + prefix;
        config.mqtt.topicPrefix = prefix;
        config.validate();
        try (Mosquitto mosquitto = new Mosquitto("");
             EngineTranslator engine = EngineTranslator.load(TinyModel.path(), new EngineOptions(0, 1, "cpu"), true);
             DaemonMetrics metrics = DaemonMetrics.start("127.0.0.1:0", null)) {
            URI endpoint = URI.create("http://127.0.0.1:" + metrics.port() + "/metrics");
            assertEquals(1.0, value(scrape(endpoint), "tinyedge_model_state{tinyedge_model_state=\"loading\"}"));
            MqttDaemon daemon = new MqttDaemon(config, mosquitto.url(), "test");
            daemon.connect();
            daemon.serve(engine, BoardSignals.NONE, metrics);
            metrics.state("online");
            try {
                load(mosquitto.url(), prefix + "/v1/translate", endpoint, metrics);
            } finally {
                daemon.close();
            }
        }
    }

    private void load(String broker, String topic, URI endpoint, DaemonMetrics metrics) throws Exception {
        AtomicLong generated = new AtomicLong();
        AtomicLong prompt = new AtomicLong();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            String tag = "c" + c;
            clients.add(Thread.ofPlatform().start(() -> {
                try (TestClient client = new TestClient(broker)) {
                    client.request(topic, "{\"id\":\"" + tag + "-bad\",\"text\":\"no target\"}", null);
                    assertEquals("bad_request", client.nextFinal(60).json().path("error").path("code").asText());
                    for (int r = 0; r < PER_CLIENT; r++) {
                        client.request(topic, "{\"id\":\"" + tag + "-" + r + "\",\"text\":\"metrics under load\","
                                + "\"target\":\"de\",\"max_tokens\":4}", null);
                        JsonNode reply = client.nextFinal(120).json();
                        assertEquals("ok", reply.get("status").asText(), reply.toString());
                        generated.addAndGet(reply.get("tokens").get("generated").asLong());
                        prompt.addAndGet(reply.get("tokens").get("prompt").asLong());
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        // scrape all through the load: the counts only grow, and the queue is seen holding requests
        List<Double> okSeen = new ArrayList<>();
        double deepestQueue = 0;
        AtomicBoolean running = new AtomicBoolean(true);
        while (running.get()) {
            String text = scrape(endpoint);
            okSeen.add(value(text, "tinyedge_requests_total{outcome=\"ok\"}"));
            deepestQueue = Math.max(deepestQueue, value(text, "tinyedge_queue_depth"));
            running.set(clients.stream().anyMatch(Thread::isAlive));
            Thread.sleep(50);
        }
        for (Thread client : clients) {
            client.join();
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.getFirst());
        }
        for (int i = 1; i < okSeen.size(); i++) {
            assertTrue(okSeen.get(i) >= okSeen.get(i - 1), "counts never go down: " + okSeen);
        }
        assertTrue(okSeen.size() > 3, "scraped during the load: " + okSeen);
        assertTrue(deepestQueue >= 2, "20 clients at once queue up: deepest " + deepestQueue);

        String text = scrape(endpoint);
        int requests = CLIENTS * PER_CLIENT;
        assertEquals(requests, value(text, "tinyedge_requests_total{outcome=\"ok\"}"), text);
        assertEquals(CLIENTS, value(text, "tinyedge_requests_total{outcome=\"bad_request\"}"), text);
        assertEquals(requests, value(text, "tinyedge_requests_accepted_total"), text);
        assertEquals(requests, value(text, "tinyedge_request_duration_seconds_count"), text);
        assertEquals(requests, value(text, "tinyedge_time_to_first_token_seconds_count"), text);
        assertEquals(generated.get(), value(text, "tinyedge_generated_tokens_total"), text);
        assertEquals(prompt.get(), value(text, "tinyedge_prompt_tokens_total"), text);
        assertEquals(0, value(text, "tinyedge_queue_depth"), text);
        assertEquals(1.0, value(text, "tinyedge_model_state{tinyedge_model_state=\"online\"}"), text);
        assertEquals(0.0, value(text, "tinyedge_model_state{tinyedge_model_state=\"loading\"}"), text);
        assertTrue(value(text, "process_resident_memory_bytes") > 50e6, text);
        assertTrue(value(text, "tinyedge_decode_tokens_per_second") > 0, text);
    }

    private static String scrape(URI endpoint) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(endpoint).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(200, response.statusCode());
        return response.body();
    }

    /** The value of the sample {@code series} (name and labels exactly as exposed). */
    private static double value(String exposition, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(exposition);
        if (!m.find()) {
            throw new AssertionError("no sample " + series + " in\n" + exposition);
        }
        return Double.parseDouble(m.group(1));
    }
}
