package dev.tinyedge.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's run command as a new user runs it: {@code bin/tinyedge serve} with no model and no broker
 * starts the embedded broker and serves a synthesized model, saying plainly that its output is not a
 * translation; {@code bin/tinyedge translate} then gets a reply through that broker.
 */
class RunCommandTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path home;

    @Test
    void serveWithNothingConfiguredAnswersThroughItsEmbeddedBroker() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        // only the port differs from the defaults, so that the test never meets a broker already on 1883
        Path config = home.resolve("tinyedge.toml");
        Files.writeString(config, "[mqtt]\nembedded_port = " + port + "\n");
        Path log = home.resolve("serve.log");
        ProcessBuilder serve = new ProcessBuilder(ROOT.resolve("bin/tinyedge").toString(), "serve", "--config",
                config.toString()).redirectErrorStream(true).redirectOutput(log.toFile());
        serve.environment().put("TINYEDGE_JAVA_OPTS", "-Duser.home=" + home);
        Process daemon = serve.start();
        try {
            waitFor(log, "serving $share/", daemon); // the daemon has subscribed
            String text = Files.readString(log);
            assertTrue(text.contains("RANDOM weights") && text.contains("NOT translations"), text);
            assertTrue(Files.exists(home.resolve(".tinyedge/synthetic-tiny-q4_0.gguf")), text);

            Process client = new ProcessBuilder(ROOT.resolve("bin/tinyedge").toString(), "translate", "--broker",
                    "tcp://127.0.0.1:" + port, "--to", "es", "--json", "Where is the train station?").start();
            String reply = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String errors = new String(client.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(client.waitFor(60, TimeUnit.SECONDS), "translate hung");
            assertEquals(0, client.exitValue(), reply + errors);
            JsonNode json = new ObjectMapper().readTree(reply);
            assertEquals("ok", json.get("status").asText(), reply);
            assertEquals("es", json.get("target").asText(), reply);
            assertEquals("synthetic-tiny-q4_0", json.get("model").asText(), reply);
        } finally {
            daemon.destroy();
            if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
        }
    }

    private static void waitFor(Path log, String line, Process process) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains(line)) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("serve exited: " + Files.readString(log));
            }
            Thread.sleep(200);
        }
        throw new AssertionError("serve did not start within 90 s: " + Files.readString(log));
    }
}
