package dev.tinyedge.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tinyedge.board.Profile;
import dev.tinyedge.board.ProfileException;
import dev.tinyedge.service.ServeConfig;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Any bytes as the daemon's configuration file or as a board profile: read and checked, or refused with the
 * exception the command line turns into one {@code tinyedge: error:} line (IOException or
 * IllegalArgumentException for the configuration, ProfileException for a profile). What the checks let
 * through must be usable: a configuration whose MQTT settings Paho refuses, or a profile with a budget or
 * limits that make no sense, is a finding.
 */
class ConfigFuzzTest {
    private static final Path FILE = scratchFile();

    @FuzzTest(maxDuration = FuzzDuration.DEFAULT)
    @DictionaryEntries({"[mqtt]", "[service]", "node", "model", "profile", "backend", "threads", "context",
            "broker", "client_id", "topic_prefix", "share_group", "session_expiry_s", "keep_alive_s",
            "reconnect_max_s", "receive_maximum", "embedded_port", "queue_size", "request_timeout_s",
            "dedup_window_s", "dedup_max_entries", "max_input_chars", "max_payload_bytes", "max_tokens",
            "status_interval_s", "shutdown_grace_s", "prefix_cache", " = ", "\"\"", "true", "-1", "4294967296"})
    void readsOrRefusesAnyConfiguration(byte[] toml) throws IOException {
        Files.write(FILE, toml);
        ServeConfig config;
        try {
            config = ServeConfig.read(FILE);
            config.validate();
        } catch (IOException | IllegalArgumentException e) {
            assertNotNull(e.getMessage());
            return;
        }
        // what the daemon builds from a configuration that passed validate()
        assertTrue(config.mqtt.sessionExpiryS <= 0xFFFF_FFFFL, "MQTT 5 sends the session expiry in four bytes");
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setSessionExpiryInterval(config.mqtt.sessionExpiryS);
        options.setKeepAliveInterval(config.mqtt.keepAliveS);
        if (config.mqtt.receiveMaximum > 0) {
            options.setReceiveMaximum(config.mqtt.receiveMaximum);
        }
        assertTrue(config.mqtt.reconnectMaxS > 0, "reconnect_max_s " + config.mqtt.reconnectMaxS);
        assertTrue(config.mqtt.embeddedPort >= 0 && config.mqtt.embeddedPort <= 65535, "embedded_port");
        assertTrue(config.service.shutdownGraceS >= 0, "shutdown_grace_s " + config.service.shutdownGraceS);
        assertTrue(config.threads >= 0 && config.context >= 0, "threads/context");
        assertNotNull(config.clientId());
        assertNotNull(config.shareGroup());
    }

    @FuzzTest(maxDuration = FuzzDuration.DEFAULT)
    @DictionaryEntries({"[match]", "[memory]", "[compute]", "[model]", "[service]", "[thermal]", "[gpio]", "name",
            "description", "models", "compatibles", "arch", "ram_gb", "budget_mb", "os_reserve_mb", "threads",
            "backend", "opencl_device", "context_length", "kv_cache_type", "queue_length", "zone", "soft_c",
            "hard_c", "status_led", "button", "\"cpu\"", "\"f16\"", "nan", "inf", " = "})
    void readsOrRefusesAnyProfile(byte[] bytes) {
        String toml = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        Profile profile;
        try {
            profile = Profile.parse("fuzz.toml", toml);
        } catch (ProfileException e) {
            assertTrue(e.getMessage().startsWith("profile fuzz.toml: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            return;
        }
        assertTrue(profile.memory().budgetBytes() > 0, "memory budget");
        assertTrue(profile.memory().osReserveBytes() >= 0, "OS reserve");
        assertTrue(profile.compute().threadsFor(4) >= 1, "threads");
        assertTrue(profile.thermal().softC() < profile.thermal().hardC(), "soft below hard");
        assertTrue(profile.service().queueLength() >= 1, "queue length");
    }

    private static Path scratchFile() {
        try {
            Path dir = Files.createTempDirectory("tinyedge-fuzz-config");
            dir.toFile().deleteOnExit();
            Path file = dir.resolve("tinyedge.conf");
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
