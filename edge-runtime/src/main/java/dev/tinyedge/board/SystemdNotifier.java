package dev.tinyedge.board;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Tells systemd how the daemon is doing (the sd_notify protocol): {@code READY=1} once it serves,
 * {@code WATCHDOG=1} while it is healthy, {@code STOPPING=1} when it shuts down, {@code STATUS=...} for
 * {@code systemctl status}. Without {@code NOTIFY_SOCKET} (not started by systemd) every call does nothing.
 *
 * <p>The protocol is one datagram on the AF_UNIX socket named by {@code NOTIFY_SOCKET}. The JDK's
 * DatagramChannel does not support Unix domain sockets (it throws "Protocol family not supported"), so
 * this calls libc's socket/sendto/close through the FFM API: no helper process, no extra library.
 */
public final class SystemdNotifier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);
    // Linux values, the same on x86-64, arm64 and arm
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH_MAX = 108;

    private final String socket;
    private final Duration watchdogInterval;
    private ScheduledExecutorService watchdog;

    SystemdNotifier(String socket, Duration watchdogInterval) {
        this.socket = socket;
        this.watchdogInterval = watchdogInterval;
    }

    /** From NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, as systemd sets them for Type=notify units. */
    public static SystemdNotifier fromEnvironment() {
        return fromEnvironment(System.getenv(), ProcessHandle.current().pid());
    }

    static SystemdNotifier fromEnvironment(Map<String, String> env, long pid) {
        String socket = env.get("NOTIFY_SOCKET");
        String usec = env.get("WATCHDOG_USEC");
        String watchdogPid = env.get("WATCHDOG_PID");
        Duration interval = null;
        if (usec != null && (watchdogPid == null || watchdogPid.equals(Long.toString(pid)))) {
            // systemd's advice: ping at half the timeout
            interval = Duration.ofNanos(Long.parseLong(usec) * 1000 / 2);
        }
        return new SystemdNotifier(socket == null || socket.isEmpty() ? null : socket, interval);
    }

    /** Whether systemd listens (NOTIFY_SOCKET was set). */
    public boolean enabled() {
        return socket != null;
    }

    /** How often {@link #watchdog()} must be called: half of WatchdogSec; empty when the unit has no watchdog. */
    public Optional<Duration> watchdogInterval() {
        return socket == null ? Optional.empty() : Optional.ofNullable(watchdogInterval);
    }

    public void ready() {
        notify("READY=1");
    }

    public void stopping() {
        notify("STOPPING=1");
    }

    public void watchdog() {
        notify("WATCHDOG=1");
    }

    /** A one-line status shown by systemctl status, e.g. "serving tinyllama on cpu, 3 queued". */
    public void status(String text) {
        notify("STATUS=" + text.replace('\n', ' '));
    }

    /**
     * Sends WATCHDOG=1 every {@link #watchdogInterval()} while {@code healthy} says so; when it stops
     * saying so, systemd kills and restarts the service after WatchdogSec. Does nothing without a watchdog.
     */
    public synchronized void startWatchdog(BooleanSupplier healthy) {
        if (watchdogInterval().isEmpty() || watchdog != null) {
            return;
        }
        watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "systemd-watchdog");
            t.setDaemon(true);
            return t;
        });
        long period = watchdogInterval.toMillis();
        watchdog.scheduleAtFixedRate(() -> {
            if (healthy.getAsBoolean()) {
                watchdog();
            }
        }, 0, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void close() {
        if (watchdog != null) {
            watchdog.shutdownNow();
            watchdog = null;
        }
    }

    /** Sends one state line; failures are logged, never thrown: the daemon serves on without systemd's ear. */
    public void notify(String state) {
        if (socket == null) {
            return;
        }
        try {
            Libc.send(socket, state.getBytes(StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            log.warn("systemd notify '{}' to {} failed: {}", state, socket, e.getMessage());
        }
    }

    /** socket(2), sendto(2), close(2) through the FFM API, with errno captured. */
    private static final class Libc {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
        private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
        private static final VarHandle ERRNO_VALUE = CALL_STATE.varHandle(
                java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
        private static final MethodHandle SOCKET = function("socket", FunctionDescriptor.of(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        private static final MethodHandle SENDTO = function("sendto", FunctionDescriptor.of(
                ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        private static final MethodHandle CLOSE = LINKER.downcallHandle(
                LINKER.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

        private static MethodHandle function(String name, FunctionDescriptor descriptor) {
            return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, ERRNO);
        }

        static void send(String socketName, byte[] message) {
            // "@name" is an abstract socket: the address starts with a NUL byte and is not NUL-terminated
            byte[] path = socketName.getBytes(StandardCharsets.UTF_8);
            boolean abstractName = path[0] == '@';
            if (path.length + (abstractName ? 0 : 1) > SUN_PATH_MAX) {
                throw new IllegalArgumentException("NOTIFY_SOCKET is longer than " + SUN_PATH_MAX + " bytes");
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(CALL_STATE);
                MemorySegment address = arena.allocate(2 + SUN_PATH_MAX);
                address.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
                MemorySegment.copy(path, 0, address, ValueLayout.JAVA_BYTE, 2, path.length);
                if (abstractName) {
                    address.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
                }
                int addressLength = 2 + path.length + (abstractName ? 0 : 1);
                MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, message);

                int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0) {
                    throw new IllegalStateException("socket() failed, errno " + (int) ERRNO_VALUE.get(state, 0L));
                }
                try {
                    long sent = (long) SENDTO.invokeExact(state, fd, data, (long) message.length, MSG_NOSIGNAL,
                            address, addressLength);
                    if (sent < 0) {
                        throw new IllegalStateException("sendto() failed, errno " + (int) ERRNO_VALUE.get(state, 0L));
                    }
                } finally {
                    int ignored = (int) CLOSE.invokeExact(fd);
                }
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }
}
