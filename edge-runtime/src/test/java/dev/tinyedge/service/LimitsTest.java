package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tinyedge.translate.Language;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a hostile client cannot make the daemon do, through a real Mosquitto: send it packets larger than it
 * reads, take more than its rate of requests, or fill its memory with QoS 0 requests or with repeats of one id
 * that wait for a translation. The dedup store's bound is
 * in {@link DedupCacheTest}, the deadline during the prefill in {@code PrefillStopTest}.
 */
class LimitsTest {
    private static Mosquitto mosquitto;
    private String prefix;
    private MqttDaemon daemon;
    private final List<TestClient> clients = new ArrayList<>();

    @BeforeAll
    static void startBroker() throws Exception {
        mosquitto = new Mosquitto("");
    }

    @AfterAll
    static void stopBroker() throws Exception {
        mosquitto.close();
    }

    private void startDaemon(ScriptedTranslator translator, Consumer<ServeConfig> adjust) throws Exception {
        prefix = "l" + UUID.randomUUID().toString().substring(0, 8);
        ServeConfig config = new ServeConfig();
        config.node = "limits";
        config.mqtt.clientId = "daemon-" + prefix;
        config.mqtt.topicPrefix = prefix;
        config.service.maxPayloadBytes = 2000;
        config.service.queueSize = 20;
        adjust.accept(config);
        config.validate();
        daemon = new MqttDaemon(config, mosquitto.url(), "test");
        daemon.connect();
        daemon.serve(translator, BoardSignals.NONE);
    }

    private TestClient client() throws Exception {
        TestClient client = new TestClient(mosquitto.url());
        clients.add(client);
        return client;
    }

    @AfterEach
    void stop() throws Exception {
        for (TestClient client : clients) {
            client.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    private String topic() {
        return prefix + "/v1/translate";
    }

    private static byte[] request(String id, int paddedTo) {
        String json = "{\"id\":\"" + id + "\",\"text\":\"a b\",\"target\":\"de\",\"pad\":\"";
        return (json + "x".repeat(Math.max(0, paddedTo - json.length() - 2)) + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void answersTooLongUpToItsPacketSizeAndTheBrokerDropsLargerPackets() throws Exception {
        startDaemon(new ScriptedTranslator(1), config -> { });
        TestClient client = client();
        client.request(topic(), request("over", 3000), client.replyTopic, new byte[]{1});
        JsonNode tooLong = client.nextFinal(10).json();
        assertEquals("too_long", tooLong.path("error").path("code").asText(), tooLong.toString());

        int huge = (int) (2000 + MqttDaemon.MAX_PACKET_HEADROOM + 1024);
        client.request(topic(), request("huge", huge), client.replyTopic, new byte[]{2});
        client.request(topic(), request("after", 100), client.replyTopic, new byte[]{3});
        TestClient.Received next = client.nextFinal(10);
        assertArrayEquals(new byte[]{3}, next.correlationData(), "the request after the dropped one is served");
        assertEquals("ok", next.json().path("status").asText());
        assertNull(client.received.poll(2, TimeUnit.SECONDS), "the broker never handed the daemon the huge packet");
    }

    @Test
    void answersBusyToAClientOverItsRateAndServesTheOthers() throws Exception {
        startDaemon(new ScriptedTranslator(1), config -> config.service.clientRequestsPerS = 1);
        TestClient flooder = client();
        TestClient other = client();
        int sent = 12;
        long started = System.nanoTime();
        for (int i = 0; i < sent; i++) {
            flooder.request(topic(), request("f" + i, 60), flooder.replyTopic, new byte[]{(byte) i});
        }
        other.request(topic(), request("o", 60), other.replyTopic, new byte[]{99});
        assertEquals("ok", other.nextFinal(10).json().path("status").asText(), "another client is not held back");

        int busy = 0;
        int ok = 0;
        for (int i = 0; i < sent; i++) {
            JsonNode reply = flooder.nextFinal(10).json();
            if (reply.path("error").path("code").asText().equals("busy")) {
                busy++;
                assertTrue(reply.path("retry_after_ms").asLong() > 0, reply.toString());
            } else {
                assertEquals("ok", reply.path("status").asText(), reply.toString());
                ok++;
            }
        }
        // a burst of twice the rate, plus at most what the bucket refilled while the requests went out and in
        long seconds = (long) Math.ceil((System.nanoTime() - started) / 1e9);
        assertTrue(ok >= 2 && ok <= 2 + seconds, ok + " served, " + busy + " busy, in " + seconds + " s");
        assertEquals(sent, ok + busy);
    }

    /**
     * The QoS 0 bound, without a broker. Through Mosquitto, a flood of 20,000 QoS 0 requests was seen both to pass
     * (the daemon dropped some and went on serving) and, on a loaded machine, to leave the daemon's window of
     * unacknowledged replies full for over two minutes, so that a request sent after the flood went unanswered:
     * not yet understood, so not a test of the suite (see bench/RESULTS.md).
     */
    @Test
    void dropsQos0ArrivalsBeyondItsBoundButNeverQos1() throws Exception {
        Arrivals arrivals = new Arrivals(3);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<Integer> handled = new CopyOnWriteArrayList<>();
        try {
            assertTrue(arrivals.offer(1, () -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            Thread.sleep(100); // the handling thread has taken the blocking task: three may wait now
            for (int i = 0; i < 3; i++) {
                int n = i;
                assertTrue(arrivals.offer(0, () -> handled.add(n)), "QoS 0 message " + i + " waits");
            }
            assertTrue(!arrivals.offer(0, () -> handled.add(99)), "a fourth QoS 0 message is dropped");
            assertTrue(arrivals.offer(1, () -> handled.add(100)), "a QoS 1 message is always taken");
            assertEquals(1, arrivals.droppedQos0());
            release.countDown();
            for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); handled.size() < 4 && System.nanoTime() < end; ) {
                Thread.sleep(10);
            }
            assertEquals(List.of(0, 1, 2, 100), handled, "in order");
        } finally {
            arrivals.shutdownNow();
        }
    }

    @Test
    void answersBusyToAnIdRepeatedBeyondTheArrivalsOneJobKeeps() throws Exception {
        List<Reply.Final> finals = new CopyOnWriteArrayList<>();
        ReplyChannel channel = new ReplyChannel() {
            @Override
            public boolean partial(Delivery delivery, Reply.Partial reply) {
                return true;
            }

            @Override
            public void complete(Delivery delivery, Reply.Final reply) {
                finals.add(reply);
            }
        };
        TranslationService service = new TranslationService(new ScriptedTranslator(100),
                new TranslationService.Limits(20, Duration.ofSeconds(30), Duration.ofMinutes(10), 100), "n", channel,
                BoardSignals.NONE);
        try {
            Request same = new Request("same", "a b", Language.of("de").orElseThrow(), null, false, 10);
            int repeats = 100;
            for (int i = 0; i < repeats; i++) {
                service.submit(same, new Delivery("client/replies", null, i + 1, 1, 1, false));
            }
            for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                 finals.size() < repeats && System.nanoTime() < deadline; ) {
                Thread.sleep(20);
            }
            long busy = finals.stream().filter(r -> r instanceof Reply.Busy).count();
            long ok = finals.stream().filter(r -> r instanceof Reply.Result).count();
            assertEquals(TranslationService.MAX_DELIVERIES_PER_JOB, ok, finals.toString());
            assertEquals(repeats - TranslationService.MAX_DELIVERIES_PER_JOB, busy);
        } finally {
            service.stop(Duration.ZERO);
        }
    }
}
