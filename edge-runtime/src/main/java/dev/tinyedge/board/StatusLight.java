package dev.tinyedge.board;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalInput;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.io.gpio.digital.PullResistance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A status LED and a cancel button on GPIO lines, through Pi4J: ready = on, busy = slow blink,
 * error = fast blink, off when stopped. Pressing the button (wired to ground; the line is pulled up)
 * calls the cancel callback. Only lines the profile names are touched; a board without GPIO access
 * gets a light that does nothing, after one log line. Pi4J 3.0.3's gpiod provider opens the chip
 * labelled "pinctrl-*" and only on a Raspberry Pi, so line numbers are BCM GPIO numbers.
 */
public final class StatusLight implements AutoCloseable {
    /** The tick of the blink clock; a fast blink toggles every tick, a slow one every {@value #SLOW_TICKS}. */
    static final long TICK_MS = 100;
    static final int SLOW_TICKS = 5;
    static final long DEBOUNCE_MS = 30;
    private static final Logger log = LoggerFactory.getLogger(StatusLight.class);

    public enum Signal { READY, BUSY, ERROR, OFF }

    private final Context pi4j;
    private final DigitalOutput led;
    private final ScheduledExecutorService clock;
    private volatile Signal signal = Signal.OFF;
    private long tick;

    private StatusLight(Context pi4j, DigitalOutput led) {
        this.pi4j = pi4j;
        this.led = led;
        this.clock = led == null ? null : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "status-light");
            t.setDaemon(true);
            return t;
        });
        if (clock != null) {
            clock.scheduleAtFixedRate(this::tick, 0, TICK_MS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Opens the lines {@code pins} names on this board's GPIO chip (Pi4J's gpiod provider).
     *
     * @param pins     may be null: then nothing is opened
     * @param onCancel called from Pi4J's event thread when the button is pressed
     */
    public static StatusLight open(Profile.Gpio pins, Runnable onCancel) {
        if (pins == null || pins.statusLed() == null && pins.button() == null) {
            return new StatusLight(null, null);
        }
        if (!hasGpioChip()) {
            log.info("GPIO: no /dev/gpiochip* on this machine; status light and button are off");
            return new StatusLight(null, null);
        }
        Context context = null;
        try {
            context = Pi4J.newAutoContext();
            return open(context, pins, onCancel);
        } catch (RuntimeException | LinkageError e) {
            log.info("GPIO: not usable ({}); status light and button are off", e.getMessage());
            if (context != null) {
                context.shutdown();
            }
            return new StatusLight(null, null);
        }
    }

    /** Opens the lines on a given Pi4J context (tests use Pi4J's mock plugin); the light owns the context. */
    static StatusLight open(Context pi4j, Profile.Gpio pins, Runnable onCancel) {
        DigitalOutput led = pins.statusLed() == null ? null : pi4j.create(DigitalOutput.newConfigBuilder(pi4j)
                .id("status-led").name("tinyedge status").address(pins.statusLed())
                .initial(DigitalState.LOW).shutdown(DigitalState.LOW).build());
        if (pins.button() != null) {
            DigitalInput button = pi4j.create(DigitalInput.newConfigBuilder(pi4j)
                    .id("cancel-button").name("tinyedge cancel").address(pins.button())
                    .pull(PullResistance.PULL_UP).debounce(DEBOUNCE_MS, TimeUnit.MILLISECONDS).build());
            button.addListener(e -> {
                if (e.state() == DigitalState.LOW) {
                    onCancel.run();
                }
            });
        }
        return new StatusLight(pi4j, led);
    }

    public void show(Signal s) {
        signal = s;
    }

    public Signal showing() {
        return signal;
    }

    private synchronized void tick() {
        tick++;
        boolean on = switch (signal) {
            case READY -> true;
            case BUSY -> tick / SLOW_TICKS % 2 == 0;
            case ERROR -> tick % 2 == 0;
            case OFF -> false;
        };
        led.state(on ? DigitalState.HIGH : DigitalState.LOW);
    }

    /** Turns the light off and releases the lines. */
    @Override
    public void close() {
        signal = Signal.OFF;
        if (clock != null) {
            clock.shutdownNow();
            try {
                clock.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            led.low();
        }
        if (pi4j != null) {
            pi4j.shutdown();
        }
    }

    private static boolean hasGpioChip() {
        try (Stream<Path> dev = Files.list(Path.of("/dev"))) {
            return dev.anyMatch(p -> p.getFileName().toString().startsWith("gpiochip"));
        } catch (IOException e) {
            return false;
        }
    }
}
