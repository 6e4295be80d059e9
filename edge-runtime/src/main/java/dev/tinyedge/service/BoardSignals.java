package dev.tinyedge.service;

import dev.tinyedge.board.StatusLight;
import dev.tinyedge.board.ThermalGuard;

import java.util.OptionalDouble;

/**
 * What the board adds to the service: heat above the profile's hard limit pauses new work, the status
 * light shows whether a request is running, and the temperature goes into the status topic. Either part
 * may be absent (a machine without thermal zones or without a wired light).
 */
public final class BoardSignals {
    /** No thermal limits, no light: for tests and machines that are not boards. */
    public static final BoardSignals NONE = new BoardSignals(null, null);

    private final ThermalGuard thermal;
    private final StatusLight light;

    public BoardSignals(ThermalGuard thermal, StatusLight light) {
        this.thermal = thermal;
        this.light = light;
    }

    /** False while the board is above its hard temperature limit: new requests are answered busy. */
    boolean acceptsWork() {
        return thermal == null || thermal.poll().acceptsWork();
    }

    OptionalDouble temperatureC() {
        return thermal == null ? OptionalDouble.empty() : thermal.temperatureC();
    }

    /** A request started (busy) or the queue ran empty; a failed request shows as an error until the next. */
    void show(StatusLight.Signal signal) {
        if (light != null) {
            light.show(signal);
        }
    }
}
