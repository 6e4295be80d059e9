package dev.tinyedge.board;

import com.pi4j.Pi4J;
import com.pi4j.context.Context;
import com.pi4j.io.gpio.digital.DigitalOutput;
import com.pi4j.io.gpio.digital.DigitalState;
import com.pi4j.plugin.mock.platform.MockPlatform;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInput;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalInputProvider;
import com.pi4j.plugin.mock.provider.gpio.digital.MockDigitalOutputProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The light and button on Pi4J's mock GPIO provider, sampled the way an eye would see the LED. */
class StatusLightTest {
    final Context pi4j = Pi4J.newContextBuilder()
            .add(new MockPlatform())
            .add(MockDigitalOutputProvider.newInstance(), MockDigitalInputProvider.newInstance())
            .build();
    StatusLight light;

    @AfterEach
    void close() {
        if (light != null) {
            light.close();
        }
    }

    @Test
    void readyIsOnBusyBlinksSlowlyErrorBlinksFastOffIsOff() throws InterruptedException {
        light = StatusLight.open(pi4j, new Profile.Gpio(17, null), () -> { });
        DigitalOutput led = pi4j.getIO("status-led");

        light.show(StatusLight.Signal.READY);
        Thread.sleep(2 * StatusLight.TICK_MS);
        assertEquals(0, toggles(led, 600), "ready: steady");
        assertEquals(DigitalState.HIGH, led.state());

        light.show(StatusLight.Signal.BUSY);
        int slow = toggles(led, 2100); // 500 ms on, 500 ms off: about 4 changes in 2.1 s
        assertTrue(slow >= 3 && slow <= 5, "busy toggled " + slow + " times in 2.1 s");

        light.show(StatusLight.Signal.ERROR);
        int fast = toggles(led, 2100); // 100 ms on, 100 ms off: about 20 changes
        assertTrue(fast >= 14 && fast <= 22, "error toggled " + fast + " times in 2.1 s");

        light.show(StatusLight.Signal.OFF);
        Thread.sleep(2 * StatusLight.TICK_MS);
        assertEquals(0, toggles(led, 500), "off: steady");
        assertEquals(DigitalState.LOW, led.state());
    }

    @Test
    void closingTurnsTheLightOff() throws InterruptedException {
        light = StatusLight.open(pi4j, new Profile.Gpio(17, null), () -> { });
        DigitalOutput led = pi4j.getIO("status-led");
        light.show(StatusLight.Signal.READY);
        Thread.sleep(3 * StatusLight.TICK_MS);
        assertEquals(DigitalState.HIGH, led.state());
        light.close();
        assertEquals(DigitalState.LOW, led.state());
        light = null;
    }

    @Test
    void pressingTheButtonCancels() throws InterruptedException {
        AtomicInteger cancels = new AtomicInteger();
        light = StatusLight.open(pi4j, new Profile.Gpio(17, 27), cancels::incrementAndGet);
        MockDigitalInput button = pi4j.getIO("cancel-button");
        button.mockState(DigitalState.HIGH); // pulled up, not pressed
        assertEquals(0, cancels.get());
        button.mockState(DigitalState.LOW);  // pressed: the line goes to ground
        button.mockState(DigitalState.HIGH); // released
        Thread.sleep(100);
        assertEquals(1, cancels.get());
    }

    @Test
    void noPinsMeansNoGpioAtAll() {
        light = StatusLight.open(null, () -> { });
        light.show(StatusLight.Signal.BUSY);
        assertEquals(StatusLight.Signal.BUSY, light.showing());
    }

    /** Changes of the LED's state seen when sampling every 10 ms for {@code millis}. */
    private static int toggles(DigitalOutput led, long millis) throws InterruptedException {
        int changes = 0;
        DigitalState previous = led.state();
        for (long end = System.nanoTime() + millis * 1_000_000; System.nanoTime() < end; ) {
            Thread.sleep(10);
            DigitalState now = led.state();
            if (now != previous) {
                changes++;
                previous = now;
            }
        }
        return changes;
    }
}
