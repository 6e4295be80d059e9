package dev.tinyedge.parity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the programs the parity tests compare: llama.cpp's oracle, bin/tinyedge, the Python model writer. */
final class Processes {

    private static final long TIMEOUT_SECONDS = 300;

    private Processes() {}

    /** Runs {@code command} with no input and returns its stdout; a nonzero exit throws with the stderr it printed. */
    static String stdout(List<String> command) throws IOException {
        Path stderr = Files.createTempFile("parity", ".stderr");
        try {
            Process process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
            process.getOutputStream().close();
            // reading to the end returns when the process closes its stdout, normally when it exits
            String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("did not finish in " + TIMEOUT_SECONDS + " s: " + String.join(" ", command));
            }
            if (process.exitValue() != 0) {
                throw new IOException("failed (exit " + process.exitValue() + "): " + String.join(" ", command)
                        + "\n" + Files.readString(stderr).strip());
            }
            return stdout;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        } finally {
            Files.deleteIfExists(stderr);
        }
    }
}
