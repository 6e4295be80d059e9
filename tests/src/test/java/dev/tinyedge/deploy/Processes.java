package dev.tinyedge.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the programs the deployment tests drive (dpkg, openssl, mosquitto) and fails with their output. */
final class Processes {
    static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    private Processes() {
    }

    /** Runs {@code command} in {@code dir} and returns its stdout; throws with stdout and stderr when it fails. */
    static String run(Path dir, Map<String, String> env, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().putAll(env);
        Path err = java.nio.file.Files.createTempFile("stderr", ".txt");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " timed out");
        }
        String stderr = java.nio.file.Files.readString(err);
        java.nio.file.Files.delete(err);
        if (p.exitValue() != 0) {
            throw new AssertionError(command + " exited " + p.exitValue() + "\nstdout: " + out + "\nstderr: " + stderr);
        }
        return out;
    }

    static String run(Path dir, String... command) throws IOException, InterruptedException {
        return run(dir, Map.of(), List.of(command));
    }
}
