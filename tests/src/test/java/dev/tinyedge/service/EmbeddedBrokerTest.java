package dev.tinyedge.service;

import dev.tinyedge.translate.Language;
import dev.tinyedge.translate.TinyModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code serve} with no broker to join: it starts HiveMQ in-process and serves MQTT 5 requests through it. */
class EmbeddedBrokerTest {
    @TempDir
    Path dir;

    @Test
    void servesThroughItsOwnBroker() throws Exception {
        assertTrue(Files.isDirectory(DaemonProcess.ROOT.resolve("broker-embedded/target/lib")),
                "the broker-embedded module is built before the tests");
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        String keys = "embedded_port = %d\nembedded_data_dir = \"%s\"".formatted(port, dir.resolve("broker"));
        try (DaemonProcess daemon = new DaemonProcess(dir, "solo", TinyModel.path(), "embedded", "tinyedge", keys)) {
            daemon.start();
            Request request = new Request(null, "Good evening", Language.of("pt").orElseThrow(), null, true, 256);
            try (TranslationClient client = new TranslationClient("tcp://127.0.0.1:" + port, "tinyedge")) {
                StringBuilder streamed = new StringBuilder();
                Reply.Final reply = client.translate(request, Duration.ofSeconds(30), Duration.ofSeconds(30),
                        partial -> streamed.append(partial.delta()));
                Reply.Result result = assertInstanceOf(Reply.Result.class, reply, reply.toString());
                assertEquals("solo", result.node());
                assertEquals(streamed.toString().strip(), result.translation());
            }
            assertTrue(daemon.log().contains("embedded MQTT 5 broker listening on tcp://127.0.0.1:" + port));
            daemon.terminate();
        }
    }
}
