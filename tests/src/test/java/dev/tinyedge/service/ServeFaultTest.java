package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tinyedge.translate.Language;
import dev.tinyedge.translate.TinyModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing is lost: the daemon ({@code bin/tinyedge serve}, a separate process) and the broker (a real Mosquitto
 * with persistence) are killed and restarted under load, and every request still gets its answer.
 */
class ServeFaultTest {
    private static final int REQUESTS = 40;

    @TempDir
    Path dir;
    private Mosquitto mosquitto;
    private String prefix;
    private final List<DaemonProcess> daemons = new ArrayList<>();

    @BeforeEach
    void startBroker() throws Exception {
        mosquitto = new Mosquitto("");
        prefix = "f" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void stopAll() throws Exception {
        for (DaemonProcess daemon : daemons) {
            daemon.close();
        }
        mosquitto.close();
    }

    /** Requests each daemon translates at once. */
    int parallel() {
        return 1;
    }

    private DaemonProcess daemon(String node) throws Exception {
        DaemonProcess daemon = new DaemonProcess(dir, node, TinyModel.path(), mosquitto.url(), prefix, "",
                "parallel = " + parallel());
        daemons.add(daemon);
        return daemon;
    }

    /** The failure message of a test that waited in vain: what the daemon and Mosquitto logged. */
    private String unanswered(SessionClient client, DaemonProcess daemon) {
        try {
            return "answered: " + client.finals.size() + "\n--- daemon log:\n" + daemon.log()
                    + "\n--- Mosquitto log:\n" + Files.readString(mosquitto.log());
        } catch (java.io.IOException e) {
            return "answered: " + client.finals.size() + " (logs unreadable: " + e.getMessage() + ")";
        }
    }

    /** Every request has an ok result, carrying its own id; repeats (allowed by the contract) are counted. */
    private static void assertAllAnswered(Map<String, List<JsonNode>> finals, int count, String what) {
        assertEquals(count, finals.size(), what);
        int repeats = 0;
        for (Map.Entry<String, List<JsonNode>> entry : finals.entrySet()) {
            for (JsonNode reply : entry.getValue()) {
                assertEquals(entry.getKey(), reply.get("id").asText());
                assertEquals("ok", reply.get("status").asText(), reply.toString());
            }
            repeats += entry.getValue().size() - 1;
        }
        System.out.printf("%s: %d requests answered, %d repeated replies dropped by id%n", what, count, repeats);
    }

    @Test
    void aDaemonKilledMidLoadAnswersEverythingAfterItsRestart() throws Exception {
        DaemonProcess daemon = daemon("a").start();
        try (SessionClient client = new SessionClient(mosquitto.url(), prefix)) {
            for (int i = 0; i < REQUESTS; i++) {
                client.send("k" + i);
            }
            assertTrue(client.awaitAnswered(5, 60), "the daemon works before the kill");
            daemon.kill();
            int before = client.finals.size();
            assertTrue(before < REQUESTS, "killed mid-load");
            daemon.start();
            assertTrue(client.awaitAnswered(REQUESTS, 120), () -> unanswered(client, daemon));
            assertAllAnswered(client.finals, REQUESTS, "kill -9 after " + before + " replies");
        }
    }

    @Test
    void aBrokerRestartMidLoadLosesNothing() throws Exception {
        DaemonProcess daemon = daemon("a").start();
        try (SessionClient client = new SessionClient(mosquitto.url(), prefix)) {
            for (int i = 0; i < REQUESTS; i++) {
                client.send("b" + i);
            }
            assertTrue(client.awaitAnswered(5, 60), "the daemon works before the restart");
            mosquitto.restart();
            int before = client.finals.size();
            assertTrue(before < REQUESTS, "restarted mid-load");
            assertTrue(client.awaitAnswered(REQUESTS, 120), () -> unanswered(client, daemon));
            assertAllAnswered(client.finals, REQUESTS, "Mosquitto restart after " + before + " replies");
        }
    }

    /**
     * The broker stops reading while the daemon publishes replies, and is then restarted: those replies are in
     * flight at the daemon when it reconnects (what made Paho's own reconnect loop on Protocol Error).
     */
    @Test
    void aBrokerRestartWithRepliesInFlightLosesNothing() throws Exception {
        DaemonProcess daemon = daemon("a").start();
        try (SessionClient client = new SessionClient(mosquitto.url(), prefix)) {
            for (int i = 0; i < REQUESTS; i++) {
                client.send("i" + i);
            }
            assertTrue(client.awaitAnswered(5, 60), "the daemon works before the restart");
            mosquitto.freeze();
            Thread.sleep(1000); // the daemon publishes replies that the frozen broker never acknowledges
            mosquitto.restart();
            int before = client.finals.size();
            assertTrue(before < REQUESTS, "restarted mid-load");
            assertTrue(client.awaitAnswered(REQUESTS, 120), () -> unanswered(client, daemon));
            assertAllAnswered(client.finals, REQUESTS, "Mosquitto restart with replies in flight after " + before + " replies");
        }
    }

    @Test
    void requestsSentWhileNoDaemonRunsAreAnsweredWhenItStarts() throws Exception {
        DaemonProcess daemon = daemon("a").start(); // creates the session and its subscription
        daemon.terminate();
        try (SessionClient client = new SessionClient(mosquitto.url(), prefix)) {
            for (int i = 0; i < 20; i++) {
                client.send("w" + i);
            }
            Thread.sleep(500);
            assertEquals(0, client.finals.size(), "nobody serves while the daemon is down");
            daemon.start();
            assertTrue(client.awaitAnswered(20, 120), () -> unanswered(client, daemon));
            assertAllAnswered(client.finals, 20, "sent while down");
        }
    }

    @Test
    void withOneOfTwoDaemonsDeadClientRetriesGetEverythingAnswered() throws Exception {
        DaemonProcess a = daemon("a").start();
        DaemonProcess b = daemon("b").start();
        Map<String, Reply.Final> results = new ConcurrentHashMap<>();
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try (TranslationClient client = new TranslationClient(mosquitto.url(), prefix)) {
            List<Future<?>> sent = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                String id = "s" + i;
                sent.add(clients.submit(() -> {
                    Request request = new Request(id, "shared " + id, Language.of("it").orElseThrow(), null, false, 8);
                    // a retry can land on the dead daemon's session again: keep trying, well within the test's time
                    results.put(id, client.translate(request, Duration.ofSeconds(3), Duration.ofSeconds(90), partial -> { }));
                    return null;
                }));
                if (i == REQUESTS / 4) {
                    a.kill(); // and left dead: its queued requests wait in its session
                }
            }
            for (Future<?> future : sent) {
                try {
                    future.get();
                } catch (ExecutionException e) {
                    // whether one request or all went unanswered, and what b and Mosquitto said, tells the causes apart
                    throw new AssertionError(e.getCause().getMessage() + "; answered: " + results.keySet()
                            + "\n--- daemon b log:\n" + b.log() + "\n--- Mosquitto log:\n"
                            + Files.readString(mosquitto.log()), e);
                }
            }
        } finally {
            clients.shutdownNow();
        }
        assertEquals(REQUESTS, results.size());
        long byB = results.values().stream()
                .filter(r -> r instanceof Reply.Result result && result.node().equals("b")).count();
        for (Map.Entry<String, Reply.Final> entry : results.entrySet()) {
            assertEquals(entry.getKey(), entry.getValue().id());
            assertInstanceOf(Reply.Result.class, entry.getValue(), entry.getValue().toString());
        }
        System.out.printf("shared subscription, daemon a killed: %d of %d answered by b%n", byB, REQUESTS);
        assertTrue(byB > 0);
    }
}
