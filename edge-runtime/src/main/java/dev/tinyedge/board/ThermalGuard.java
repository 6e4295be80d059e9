package dev.tinyedge.board;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;
import java.util.stream.Stream;

/**
 * Keeps a board out of thermal trouble: above the profile's soft limit requests run on half the threads,
 * above the hard limit new requests are refused (the service answers {@code busy}) until the board has
 * cooled {@value #HYSTERESIS_C} °C below the limit, so the state does not flap at the edge.
 *
 * <p>Temperatures come from {@code /sys/class/thermal/thermal_zone*&#47;temp} (millidegrees Celsius)
 * under a root that tests replace with a fake tree. A machine without sensors runs unguarded.
 */
public final class ThermalGuard {
    static final double HYSTERESIS_C = 3.0;
    private static final Logger log = LoggerFactory.getLogger(ThermalGuard.class);

    public enum Level { NORMAL, SOFT, HARD }

    /** @param celsius NaN when no sensor could be read */
    public record Reading(double celsius, Level level, int threads) {
        public boolean acceptsWork() {
            return level != Level.HARD;
        }
    }

    private final List<Path> sensors;
    private final Profile.Thermal limits;
    private final int fullThreads;
    private Reading last;

    /** @param fullThreads the threads to use while the board is cool */
    public ThermalGuard(Path root, Profile.Thermal limits, int fullThreads) {
        this.limits = limits;
        this.fullThreads = fullThreads;
        this.sensors = findSensors(root.resolve("sys/class/thermal"), limits.zone());
        this.last = new Reading(Double.NaN, Level.NORMAL, fullThreads);
    }

    public static ThermalGuard forThisMachine(Profile profile, int fullThreads) {
        return new ThermalGuard(Path.of("/"), profile.thermal(), fullThreads);
    }

    /** Reads the sensors now and moves between levels; changes are logged. Cheap: call it before each request. */
    public synchronized Reading poll() {
        double celsius = hottest();
        Level level = Double.isNaN(celsius) ? Level.NORMAL : next(last.level(), celsius);
        if (level != last.level()) {
            switch (level) {
                case HARD -> log.warn("board at {} °C, above the hard limit {} °C: refusing new requests until it cools",
                        celsius, limits.hardC());
                case SOFT -> log.warn("board at {} °C, above the soft limit {} °C: running on {} threads",
                        celsius, limits.softC(), throttledThreads());
                case NORMAL -> log.info("board at {} °C: back to {} threads", celsius, fullThreads);
            }
        }
        last = new Reading(celsius, level, level == Level.NORMAL ? fullThreads : throttledThreads());
        return last;
    }

    /** The last reading's temperature for the status topic; empty without sensors. */
    public synchronized OptionalDouble temperatureC() {
        return Double.isNaN(last.celsius()) ? OptionalDouble.empty() : OptionalDouble.of(last.celsius());
    }

    public synchronized Reading last() {
        return last;
    }

    private Level next(Level current, double celsius) {
        if (celsius >= limits.hardC()) {
            return Level.HARD;
        }
        if (current == Level.HARD && celsius > limits.hardC() - HYSTERESIS_C) {
            return Level.HARD;
        }
        if (celsius >= limits.softC()) {
            return Level.SOFT;
        }
        if (current != Level.NORMAL && celsius > limits.softC() - HYSTERESIS_C) {
            return Level.SOFT;
        }
        return Level.NORMAL;
    }

    private int throttledThreads() {
        return Math.max(1, fullThreads / 2);
    }

    private double hottest() {
        double max = Double.NaN;
        for (Path temp : sensors) {
            try {
                double c = Long.parseLong(Files.readString(temp).strip()) / 1000.0;
                max = Double.isNaN(max) ? c : Math.max(max, c);
            } catch (IOException | NumberFormatException e) {
                // some zones (a sleeping GPU, a disconnected probe) fail to read: the others still count
            }
        }
        return max;
    }

    /** The temp files of the zones whose type is {@code zone}, or of every zone for "auto" or no such type. */
    private static List<Path> findSensors(Path thermal, String zone) {
        List<Path> zones;
        try (Stream<Path> entries = Files.list(thermal)) {
            zones = entries.filter(p -> p.getFileName().toString().startsWith("thermal_zone")).sorted().toList();
        } catch (IOException e) {
            zones = List.of();
        }
        if (zones.isEmpty()) {
            log.info("no thermal zones in {}: running without a thermal guard", thermal);
            return List.of();
        }
        if (!zone.equals("auto")) {
            List<Path> named = zones.stream().filter(z -> zone.equals(type(z))).toList();
            if (!named.isEmpty()) {
                return named.stream().map(z -> z.resolve("temp")).toList();
            }
            log.info("no thermal zone of type '{}': watching the hottest of {} zones", zone, zones.size());
        }
        return zones.stream().map(z -> z.resolve("temp")).toList();
    }

    private static String type(Path zone) {
        try {
            return Files.readString(zone.resolve("type")).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
