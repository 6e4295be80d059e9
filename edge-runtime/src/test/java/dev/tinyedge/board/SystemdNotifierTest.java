package dev.tinyedge.board;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The notifier against a real AF_UNIX datagram socket opened by Python (as systemd's would be), both a
 * path socket and an abstract one ("@name").
 */
class SystemdNotifierTest {
    @TempDir
    Path dir;

    @Test
    void sendsEachStateAsOneDatagramToAPathSocket() throws Exception {
        String socket = dir.resolve("notify").toString();
        List<String> received = receive(socket, 4, () -> {
            SystemdNotifier n = SystemdNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", socket), 1);
            assertTrue(n.enabled());
            n.ready();
            n.status("serving tinyllama\non cpu");
            n.watchdog();
            n.stopping();
        });
        assertEquals(List.of("READY=1", "STATUS=serving tinyllama on cpu", "WATCHDOG=1", "STOPPING=1"), received);
    }

    @Test
    void reachesAnAbstractSocket() throws Exception {
        String socket = "@tinyedge-test-" + ProcessHandle.current().pid();
        List<String> received = receive(socket, 1,
                () -> SystemdNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", socket), 1).ready());
        assertEquals(List.of("READY=1"), received);
    }

    @Test
    void theWatchdogPingsAtHalfTheTimeoutWhileHealthy() throws Exception {
        String socket = dir.resolve("watchdog").toString();
        try (SystemdNotifier n = SystemdNotifier.fromEnvironment(
                Map.of("NOTIFY_SOCKET", socket, "WATCHDOG_USEC", "400000", "WATCHDOG_PID", "7"), 7)) {
            assertEquals(Optional.of(Duration.ofMillis(200)), n.watchdogInterval());
            long start = System.nanoTime();
            List<String> received = receive(socket, 3, () -> n.startWatchdog(() -> true));
            assertEquals(List.of("WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"), received);
            assertTrue(System.nanoTime() - start >= 400_000_000L, "three pings take two intervals");
        }
    }

    @Test
    void anUnhealthyDaemonIsNotPinged() throws Exception {
        String socket = dir.resolve("unhealthy").toString();
        try (SystemdNotifier n = SystemdNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", socket, "WATCHDOG_USEC", "100000"), 7)) {
            List<String> received = receive(socket, 1, () -> {
                n.startWatchdog(() -> false);
                sleep(300);
                n.status("still here");
            });
            assertEquals(List.of("STATUS=still here"), received);
        }
    }

    @Test
    void outsideSystemdEverythingIsANoOp() {
        SystemdNotifier n = SystemdNotifier.fromEnvironment(Map.of(), 1);
        assertFalse(n.enabled());
        assertEquals(Optional.empty(), n.watchdogInterval());
        n.ready();
        n.startWatchdog(() -> true);
        n.close();
        // a watchdog meant for another process (WATCHDOG_PID) is not ours to feed
        assertEquals(Optional.empty(), SystemdNotifier.fromEnvironment(
                Map.of("NOTIFY_SOCKET", "/run/x", "WATCHDOG_USEC", "1000", "WATCHDOG_PID", "2"), 1).watchdogInterval());
    }

    @Test
    void aMissingSocketIsLoggedNotThrown() {
        SystemdNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", dir.resolve("absent").toString()), 1).ready();
    }

    /** Binds a datagram socket in Python, runs {@code send}, and returns the first {@code count} messages. */
    private static List<String> receive(String socket, int count, Runnable send) throws Exception {
        String address = socket.startsWith("@") ? "'\\0" + socket.substring(1) + "'" : "'" + socket + "'";
        String script = "import socket\n"
                + "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
                + "s.bind(" + address + ")\n"
                + "s.settimeout(10)\n"
                + "print('bound', flush=True)\n"
                + "for _ in range(" + count + "):\n"
                + "    print(s.recv(4096).decode().replace('\\n', '\\\\n'), flush=True)\n";
        Process python = new ProcessBuilder("python3", "-c", script).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("bound", out.readLine());
            send.run();
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                lines.add(out.readLine());
            }
            assertTrue(python.waitFor(10, TimeUnit.SECONDS));
            return lines;
        } finally {
            python.destroy();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
