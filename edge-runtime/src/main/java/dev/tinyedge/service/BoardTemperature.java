package dev.tinyedge.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The SoC temperature the kernel reports (millidegrees in thermal zone 0), for the status topic. */
final class BoardTemperature {
    private static final Path ZONE = Path.of("/sys/class/thermal/thermal_zone0/temp");

    private BoardTemperature() {
    }

    /** Degrees Celsius, or null where the board has no thermal zone. */
    static Double celsius() {
        try {
            return Long.parseLong(Files.readString(ZONE).strip()) / 1000.0;
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }
}
