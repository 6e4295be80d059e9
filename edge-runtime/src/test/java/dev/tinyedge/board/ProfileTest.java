package dev.tinyedge.board;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProfileTest {
    static final String VALID = """
            name = "test-board"
            description = "a board for tests"
            [match]
            models = ["Test Board"]
            arch = "aarch64"
            ram_gb = 2
            [memory]
            budget_mb = 1500
            os_reserve_mb = 100
            [compute]
            threads = 4
            backend = "opencl"
            opencl_device = "Mali"
            [model]
            context_length = 1024
            kv_cache_type = "f16"
            [service]
            queue_length = 32
            [thermal]
            zone = "cpu-thermal"
            soft_c = 70
            hard_c = 80.5
            [gpio]
            status_led = 17
            """;

    @Test
    void parsesEveryKey() {
        Profile p = Profile.parse("t.toml", VALID);
        assertEquals("test-board", p.name());
        assertEquals(List.of("Test Board"), p.match().models());
        assertEquals(List.of(), p.match().compatibles());
        assertEquals(2, p.match().ramGb());
        assertEquals(1500L << 20, p.memory().budgetBytes());
        assertEquals(100L << 20, p.memory().osReserveBytes());
        assertEquals("opencl", p.compute().backend());
        assertEquals("Mali", p.compute().openclDevice());
        assertEquals(1024, p.model().contextLength());
        assertEquals(KvCacheType.F16, p.model().kvCacheType());
        assertEquals(32, p.service().queueLength());
        assertEquals(80.5, p.thermal().hardC());
        assertEquals(17, p.gpio().statusLed());
        assertNull(p.gpio().button());
    }

    @Test
    void threadsAreCappedByTheCpusAndZeroMeansAll() {
        Profile.Compute four = new Profile.Compute(4, "cpu", "");
        assertEquals(2, four.threadsFor(2));
        assertEquals(4, four.threadsFor(8));
        assertEquals(6, new Profile.Compute(0, "cpu", "").threadsFor(6));
    }

    @Test
    void unknownKeyIsNamedWithItsSection() {
        String message = error(VALID.replace("budget_mb", "budget_mib"));
        assertEquals("profile t.toml: unknown key 'memory.budget_mib' (known here: budget_mb, os_reserve_mb)", message);
    }

    @Test
    void unknownSectionIsNamed() {
        assertTrue(error(VALID + "[extra]\nx = 1\n").startsWith("profile t.toml: unknown key 'extra'"));
    }

    @Test
    void badValuesNameTheKeyAndWhatWasExpected() {
        assertEquals("profile t.toml: compute.threads has the wrong type, expected an integer",
                error(VALID.replace("threads = 4", "threads = \"four\"")));
        assertEquals("profile t.toml: model.kv_cache_type is \"q8_0\", expected one of f32, f16",
                error(VALID.replace("\"f16\"", "\"q8_0\"")));
        assertEquals("profile t.toml: compute.backend must be \"cpu\" or \"opencl\", not \"cuda\"",
                error(VALID.replace("\"opencl\"", "\"cuda\"")));
        assertEquals("profile t.toml: thermal.soft_c (90.0) must be below thermal.hard_c (80.5)",
                error(VALID.replace("soft_c = 70", "soft_c = 90")));
        assertEquals("profile t.toml: gpio.button is the same line as gpio.status_led",
                error(VALID + "button = 17\n"));
        assertEquals("profile t.toml: service.queue_length must be at least 20 (the broker may have that many "
                + "requests in flight)", error(VALID.replace("queue_length = 32", "queue_length = 10")));
    }

    @Test
    void missingValuesAreErrors() {
        assertEquals("profile t.toml: memory.budget_mb is missing", error(VALID.replace("budget_mb = 1500\n", "")));
        assertEquals("profile t.toml: compute.threads is missing (0 for all CPUs)", error(VALID.replace("threads = 4\n", "")));
        assertEquals("profile t.toml: [thermal] is missing",
                error(VALID.substring(0, VALID.indexOf("[thermal]")) + "[gpio]\n"));
    }

    @Test
    void tomlSyntaxErrorsGiveTheLine() {
        String message = error("name = \"x\"\n[memory\n");
        assertTrue(message.startsWith("profile t.toml: ") && message.endsWith("(line 2)"), message);
    }

    @Test
    void everyBuiltInParsesAndTheCatalogHasEveryBoard() {
        ProfileCatalog catalog = ProfileCatalog.load(List.of());
        assertEquals(List.of("generic-arm64", "generic-x86_64", "jetson-orin-nano-8gb",
                        "raspberry-pi-4-1gb", "raspberry-pi-4-2gb", "raspberry-pi-4-4gb", "raspberry-pi-4-8gb",
                        "raspberry-pi-5-16gb", "raspberry-pi-5-4gb", "raspberry-pi-5-8gb", "rk3588-16gb", "rk3588-8gb"),
                catalog.all().stream().map(Profile::name).toList());
        for (Profile p : catalog.all()) {
            assertTrue(p.memory().budgetMb() <= Math.max(p.match().ramGb(), 4) * 1024L, p.name() + " budget exceeds its RAM");
            assertEquals(p.name().startsWith("rk3588") ? "opencl" : "cpu", p.compute().backend(), p.name());
        }
    }

    @Test
    void aFolderProfileReplacesTheBuiltInAndSelectResolvesNamesAndFiles(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("rk3588-8gb.toml"), VALID.replace("test-board", "rk3588-8gb"));
        Files.writeString(dir.resolve("notes.txt"), "not a profile");
        ProfileCatalog catalog = ProfileCatalog.load(List.of(dir, dir.resolve("missing")));
        BoardFacts none = BoardFacts.read(dir, "aarch64");
        assertEquals(1500, catalog.select("rk3588-8gb", none).memory().budgetMb());
        Path file = dir.resolve("mine.toml");
        Files.writeString(file, VALID);
        assertEquals("test-board", catalog.select(file.toString(), none).name());
        String unknown = assertThrows(ProfileException.class, () -> catalog.select("pi-zero", none)).getMessage();
        assertTrue(unknown.startsWith("unknown profile 'pi-zero' (known: generic-arm64, "), unknown);
        assertFalse(unknown.contains("\n"));
    }

    private static String error(String toml) {
        String message = assertThrows(ProfileException.class, () -> Profile.parse("t.toml", toml)).getMessage();
        assertFalse(message.contains("\n"), message);
        return message;
    }
}
