package dev.tinyedge.service;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real Mosquitto for tests: its own configuration and persistence folder, a free loopback port, stopped by
 * its pid. {@link #restart()} keeps the port and the persisted sessions (Mosquitto writes them on SIGTERM).
 */
public final class Mosquitto implements AutoCloseable {
    private final Path dir;
    private final int port;
    private Process process;

    /** @param extraConfig more mosquitto.conf lines, e.g. {@code max_inflight_messages 100} */
    public Mosquitto(String extraConfig) throws IOException, InterruptedException {
        dir = Files.createTempDirectory("tinyedge-mosquitto");
        // started as root, Mosquitto drops to the mosquitto user: it must still write its database and log here
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        Files.writeString(dir.resolve("mosquitto.conf"), """
                listener %d 127.0.0.1
                allow_anonymous true
                set_tcp_nodelay true
                persistence true
                persistence_location %s/
                max_queued_messages 1000
                log_dest file %s/mosquitto.log
                log_type error
                log_type warning
                log_type notice
                %s
                """.formatted(port, dir, dir, extraConfig));
        start();
    }

    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Path log() {
        return dir.resolve("mosquitto.log");
    }

    private void start() throws IOException, InterruptedException {
        process = new ProcessBuilder("mosquitto", "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IOException("mosquitto exited: " + Files.readString(dir.resolve("stdout.log")));
                }
                Thread.sleep(50);
            }
        }
        throw new IOException("mosquitto did not open port " + port);
    }

    /** SIGTERM (Mosquitto saves its sessions), then a new broker on the same port and folder. */
    public void restart() throws IOException, InterruptedException {
        stop();
        start();
    }

    /**
     * SIGSTOP: the broker stops reading, so what clients publish now waits unacknowledged in its socket buffers.
     * A frozen broker that is then stopped saves its sessions and exits without reading those publishes: they
     * are still in flight at the clients when the broker comes back.
     */
    public void freeze() throws IOException, InterruptedException {
        signal("STOP");
    }

    private void signal(String name) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
    }

    private void stop() throws IOException, InterruptedException {
        process.destroy();
        signal("CONT"); // SIGTERM is handled once a frozen broker runs again; harmless for one that runs
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    @Override
    public void close() throws InterruptedException, IOException {
        stop();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
