package dev.tinyedge.service;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServeConfigTest {
    @TempDir
    Path dir;

    /** The example in docs/MQTT.md names every key; it must stay a valid configuration. */
    @Test
    void readsTheDocumentedExample() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "MQTT.md"));
        int start = doc.indexOf("```toml\n") + "```toml\n".length();
        Path file = dir.resolve("tinyedge.conf");
        Files.writeString(file, doc.substring(start, doc.indexOf("```", start)));
        ServeConfig config = ServeConfig.read(file);
        config.validate();
        assertEquals("pi5-kitchen", config.node);
        assertEquals("tcp://192.0.2.10:1883", config.mqtt.broker);
        assertEquals("tinyedge-pi5-kitchen", config.clientId());
        assertEquals(604800, config.mqtt.sessionExpiryS);
        assertEquals("/etc/tinyedge/mqtt-password", config.mqtt.passwordFile);
        assertEquals(64, config.service.queueSize);
        assertTrue(config.service.prefixCache);
    }

    @Test
    void defaultsEverythingButTheModel() throws IOException {
        Path file = dir.resolve("min.conf");
        Files.writeString(file, "model = \"m.gguf\"\n");
        ServeConfig config = ServeConfig.read(file);
        config.validate();
        assertEquals("embedded", config.mqtt.broker);
        assertEquals("tinyedge", config.shareGroup());
        assertEquals("tinyedge-" + config.node, config.clientId());
        assertEquals(600, config.service.dedupWindowS);
    }

    @Test
    void refusesUnknownKeysAndUnsafeValues() throws IOException {
        Path typo = dir.resolve("typo.conf");
        Files.writeString(typo, "[mqtt]\nbrokr = \"tcp://x:1883\"\n");
        assertTrue(assertThrows(IOException.class, () -> ServeConfig.read(typo)).getMessage().contains("brokr"));

        Path small = dir.resolve("small.conf");
        Files.writeString(small, "[service]\nqueue_size = 10\n");
        ServeConfig config = ServeConfig.read(small);
        assertThrows(IllegalArgumentException.class, config::validate);
    }
}
