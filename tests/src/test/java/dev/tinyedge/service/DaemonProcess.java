package dev.tinyedge.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** {@code bin/tinyedge serve} as a separate process, as it runs on a board: killed and restarted by the tests. */
public final class DaemonProcess implements AutoCloseable {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    private final Path config;
    private final Path log;
    private Process process;

    /** Writes the daemon's configuration; {@link #start()} runs it. */
    public DaemonProcess(Path dir, String node, Path model, String brokerUrl, String prefix) throws IOException {
        this(dir, node, model, brokerUrl, prefix, "");
    }

    /** @param mqttKeys more lines for the configuration's [mqtt] table */
    public DaemonProcess(Path dir, String node, Path model, String brokerUrl, String prefix, String mqttKeys)
            throws IOException {
        this(dir, node, model, brokerUrl, prefix, mqttKeys, "");
    }

    /** @param serviceKeys more lines for the configuration's [service] table */
    public DaemonProcess(Path dir, String node, Path model, String brokerUrl, String prefix, String mqttKeys,
                         String serviceKeys) throws IOException {
        config = dir.resolve(node + ".toml");
        log = dir.resolve(node + ".log");
        Files.writeString(config, """
                node = "%s"
                model = "%s"

                [mqtt]
                broker = "%s"
                client_id = "tinyedge-test-%s-%s"
                topic_prefix = "%s"
                session_expiry_s = 600
                reconnect_max_s = 2
                %s

                [service]
                request_timeout_s = 60
                %s
                """.formatted(node, model, brokerUrl, prefix, node, prefix, mqttKeys, serviceKeys));
    }

    /** Starts the daemon and waits until it serves requests. */
    public DaemonProcess start() throws IOException, InterruptedException {
        long logStart = Files.exists(log) ? Files.size(log) : 0;
        process = new ProcessBuilder(ROOT.resolve("bin/tinyedge").toString(), "serve", "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String text = Files.readString(log);
            if (text.substring((int) Math.min(logStart, text.length())).contains("serving ")) {
                return this;
            }
            if (!process.isAlive()) {
                throw new IOException("the daemon exited: " + text);
            }
            Thread.sleep(100);
        }
        throw new IOException("the daemon did not start serving within 60 s: " + Files.readString(log));
    }

    /** Runs a daemon that is expected to give up (a model it cannot load), and returns its exit code. */
    int runToExit(int seconds) throws IOException, InterruptedException {
        process = new ProcessBuilder(ROOT.resolve("bin/tinyedge").toString(), "serve", "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new IOException("the daemon still runs after " + seconds + " s: " + Files.readString(log));
        }
        return process.exitValue();
    }

    /** kill -9: no reply, no acknowledgement, no offline status beyond the Last Will. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM: the graceful stop. */
    void terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    /** The running JVM's process id (bin/tinyedge execs java), for /proc; -1 when not running. */
    public long pid() {
        return process != null && process.isAlive() ? process.pid() : -1;
    }

    public String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            kill();
        }
    }
}
