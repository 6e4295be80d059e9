package dev.tinyedge.parity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Small random-weight models for the parity tests, written by {@code bin/tinyedge synth} or by Python's gguf writer. */
final class TestModels {

    private TestModels() {}

    /** {@code bin/tinyedge synth OUT --preset tiny --type TYPE}: Llama-2 vocabulary, random weights. */
    static Path synthTiny(Path dir, String type) throws IOException {
        Path root = LlamaCpp.repositoryRoot();
        Path out = dir.resolve("synth-tiny-" + type + ".gguf");
        if (!Files.exists(out)) {
            run(List.of(root.resolve("bin/tinyedge").toString(), "synth", out.toString(), "--preset", "tiny", "--type", type));
        }
        return out;
    }

    /**
     * {@code tests/python/tiny_llama.py OUT --type TYPE}: a tiny model with a byte-level vocabulary written by the
     * reference {@code gguf} Python package (from the repository's .venv when there is one, which tests/run.sh makes).
     */
    static Path pythonTiny(Path dir, String type) throws IOException {
        Path root = LlamaCpp.repositoryRoot();
        Path venvPython = root.resolve(".venv/bin/python");
        String python = Files.isExecutable(venvPython) ? venvPython.toString() : "python3";
        Path out = dir.resolve("python-tiny-" + type + ".gguf");
        if (!Files.exists(out)) {
            run(List.of(python, root.resolve("tests/python/tiny_llama.py").toString(), out.toString(), "--type", type));
        }
        return out;
    }

    private static void run(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        if (process.exitValue() != 0) {
            throw new IOException("failed (exit " + process.exitValue() + "): " + String.join(" ", command) + "\n" + output.strip()
                    + (output.contains("No module named") ? "\n(install the Python packages with tests/run.sh, or pip install gguf==0.19.0 numpy)" : ""));
        }
    }
}
