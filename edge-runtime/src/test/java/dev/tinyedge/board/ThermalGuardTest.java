package dev.tinyedge.board;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The guard against a fake /sys/class/thermal tree whose temperatures the test sets. */
class ThermalGuardTest {
    static final Profile.Thermal PI_LIMITS = new Profile.Thermal("cpu-thermal", 75.0, 82.0);

    @TempDir
    Path root;

    @Test
    void throttlesAboveSoftPausesAboveHardAndRecoversWithHysteresis() throws IOException {
        zone(0, "cpu-thermal", 50_000);
        ThermalGuard guard = new ThermalGuard(root, PI_LIMITS, 4);
        assertEquals(OptionalDouble.empty(), guard.temperatureC(), "nothing read before the first poll");

        assertReading(guard.poll(), 50.0, ThermalGuard.Level.NORMAL, 4, true);
        setTemp(0, 75_000);
        assertReading(guard.poll(), 75.0, ThermalGuard.Level.SOFT, 2, true);
        setTemp(0, 82_500);
        assertReading(guard.poll(), 82.5, ThermalGuard.Level.HARD, 2, false);
        setTemp(0, 80_000); // below hard, but not by the hysteresis yet
        assertReading(guard.poll(), 80.0, ThermalGuard.Level.HARD, 2, false);
        setTemp(0, 78_900);
        assertReading(guard.poll(), 78.9, ThermalGuard.Level.SOFT, 2, true);
        setTemp(0, 72_500);
        assertReading(guard.poll(), 72.5, ThermalGuard.Level.SOFT, 2, true);
        setTemp(0, 71_900);
        assertReading(guard.poll(), 71.9, ThermalGuard.Level.NORMAL, 4, true);
        assertEquals(OptionalDouble.of(71.9), guard.temperatureC());
    }

    @Test
    void watchesOnlyTheProfilesZoneType() throws IOException {
        zone(0, "cpu-thermal", 60_000);
        zone(1, "gpu-thermal", 95_000);
        assertReading(new ThermalGuard(root, PI_LIMITS, 4).poll(), 60.0, ThermalGuard.Level.NORMAL, 4, true);
        assertReading(new ThermalGuard(root, new Profile.Thermal("auto", 75.0, 82.0), 4).poll(),
                95.0, ThermalGuard.Level.HARD, 2, false);
        // a profile naming a zone this board lacks watches them all rather than nothing
        assertEquals(95.0, new ThermalGuard(root, new Profile.Thermal("soc-thermal", 75.0, 82.0), 4).poll().celsius());
    }

    @Test
    void unreadableZonesAreSkippedAndNoSensorsMeansUnguarded() throws IOException {
        zone(0, "cpu-thermal", 70_000);
        zone(1, "cpu-thermal", 0);
        Files.writeString(root.resolve("sys/class/thermal/thermal_zone1/temp"), "");
        assertEquals(70.0, new ThermalGuard(root, PI_LIMITS, 4).poll().celsius());

        ThermalGuard none = new ThermalGuard(root.resolve("nothing"), PI_LIMITS, 1);
        ThermalGuard.Reading r = none.poll();
        assertTrue(Double.isNaN(r.celsius()));
        assertTrue(r.acceptsWork());
        assertEquals(1, r.threads());
        assertEquals(OptionalDouble.empty(), none.temperatureC());
    }

    @Test
    void oneThreadStaysOneThread() throws IOException {
        zone(0, "cpu-thermal", 76_000);
        assertEquals(1, new ThermalGuard(root, PI_LIMITS, 1).poll().threads());
    }

    private static void assertReading(ThermalGuard.Reading r, double celsius, ThermalGuard.Level level, int threads, boolean accepts) {
        assertEquals(celsius, r.celsius(), 1e-9);
        assertEquals(level, r.level());
        assertEquals(threads, r.threads());
        assertEquals(accepts, r.acceptsWork());
        if (!accepts) {
            assertFalse(r.acceptsWork());
        }
    }

    private void zone(int n, String type, int milliCelsius) throws IOException {
        Path zone = Files.createDirectories(root.resolve("sys/class/thermal/thermal_zone" + n));
        Files.writeString(zone.resolve("type"), type + "\n");
        setTemp(n, milliCelsius);
    }

    private void setTemp(int n, int milliCelsius) throws IOException {
        Files.writeString(root.resolve("sys/class/thermal/thermal_zone" + n + "/temp"), milliCelsius + "\n");
    }
}
