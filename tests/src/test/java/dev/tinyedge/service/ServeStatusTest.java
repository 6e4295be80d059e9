package dev.tinyedge.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.translate.TinyModel;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's retained status (CONTRACTS §2) as {@code bin/tinyedge serve} publishes it to a real Mosquitto: it
 * connects before it loads the model, so the status says {@code loading} first, then {@code online}; a model
 * that cannot be loaded leaves {@code error} with the reason, and the daemon exits with one error line.
 */
class ServeStatusTest {
    @TempDir
    Path dir;
    private Mosquitto mosquitto;
    private String prefix;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void startBroker() throws Exception {
        mosquitto = new Mosquitto("");
        prefix = "s" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        mosquitto.close();
    }

    /** Subscribes to node {@code node}'s status topic; statuses arrive in order, the retained one first. */
    private BlockingQueue<JsonNode> statuses(String node) throws Exception {
        BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
        ObjectMapper json = new ObjectMapper();
        BrokerConnection client = new BrokerConnection(BrokerConnection.Settings.cleanSession(mosquitto.url(),
                "status-" + UUID.randomUUID(), new ServeConfig.Mqtt()), (topic, message, connection) -> {
                    try {
                        received.add(json.readTree(message.getPayload()));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
        client.connect();
        toClose.add(client);
        client.subscribe(new MqttSubscription(prefix + "/v1/status/" + node, 1));
        return received;
    }

    private static String nextState(BlockingQueue<JsonNode> statuses) throws InterruptedException {
        JsonNode status = statuses.poll(60, TimeUnit.SECONDS);
        assertNotNull(status, "no status within 60 s");
        return status.path("state").asText();
    }

    @Test
    void aSubscriberSeesLoadingThenOnline() throws Exception {
        BlockingQueue<JsonNode> statuses = statuses("a");
        DaemonProcess daemon = new DaemonProcess(dir, "a", TinyModel.path(), mosquitto.url(), prefix);
        toClose.add(daemon);
        daemon.start();
        assertEquals("loading", nextState(statuses), daemon.log());
        JsonNode online = statuses.poll(60, TimeUnit.SECONDS);
        assertNotNull(online, "no second status: " + daemon.log());
        assertEquals("online", online.path("state").asText(), online.toString());
        assertEquals("synthetic-tiny-q4_0", online.path("model").asText(), online.toString());
    }

    @Test
    void aModelThatCannotBeLoadedLeavesAnErrorStatusAndOneErrorLine() throws Exception {
        Path broken = dir.resolve("broken.gguf");
        Files.writeString(broken, "this is not a GGUF file");
        DaemonProcess daemon = new DaemonProcess(dir, "a", broken, mosquitto.url(), prefix);
        toClose.add(daemon);
        BlockingQueue<JsonNode> statuses = statuses("a");

        assertEquals(1, daemon.runToExit(60), daemon.log());
        List<String> errors = daemon.log().lines().filter(l -> l.startsWith("tinyedge: error: ")).toList();
        assertEquals(1, errors.size(), daemon.log());
        assertTrue(errors.getFirst().contains(broken.toString()), errors.getFirst());
        assertTrue(daemon.log().lines().noneMatch(l -> l.startsWith("\tat ")), "a stack trace: " + daemon.log());

        assertEquals("loading", nextState(statuses), daemon.log());
        JsonNode error = statuses.poll(10, TimeUnit.SECONDS);
        assertNotNull(error, "no error status: " + daemon.log());
        assertEquals("error", error.path("state").asText(), error.toString());
        assertEquals(errors.getFirst().substring("tinyedge: error: ".length()), error.path("error").asText());
        // what a subscriber that comes later finds: the error, not an offline from the Last Will
        assertEquals("error", nextState(statuses(("a"))));
    }
}
