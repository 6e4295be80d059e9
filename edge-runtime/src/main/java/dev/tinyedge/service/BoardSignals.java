package dev.tinyedge.service;

import dev.tinyedge.board.StatusLight;
import dev.tinyedge.board.ThermalGuard;

import java.util.OptionalDouble;
import java.util.function.IntConsumer;

/**
 * What the board adds to the service: heat above the profile's soft limit runs the model on fewer threads
 * and above the hard limit pauses new work, the status light shows whether a request is running, and the
 * temperature goes into the status topic. Either part may be absent (a machine without thermal zones or
 * without a wired light).
 */
public final class BoardSignals {
    /** No thermal limits, no light: for tests and machines that are not boards. */
    public static final BoardSignals NONE = new BoardSignals(null, null, threads -> { });

    private final ThermalGuard thermal;
    private final StatusLight light;
    private final IntConsumer threadLimit;

    /** {@code threadLimit} receives the threads the model may use at the current temperature. */
    public BoardSignals(ThermalGuard thermal, StatusLight light, IntConsumer threadLimit) {
        this.thermal = thermal;
        this.light = light;
        this.threadLimit = threadLimit;
    }

    /**
     * Reads the temperature as a request arrives: sets the model's threads for it, and says false while the
     * board is above its hard limit (new requests are then answered busy).
     */
    boolean acceptsWork() {
        if (thermal == null) {
            return true;
        }
        ThermalGuard.Reading reading = thermal.poll();
        threadLimit.accept(reading.threads());
        return reading.acceptsWork();
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
