package dev.tinyedge.parity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Small random-weight models for the parity tests, written by {@code bin/tinyedge synth} or by Python's gguf writer
 * into tests/target/parity-models: once per test run (the test classes share them), and anew in every run, so that
 * they always come from the current writers.
 */
final class TestModels {

    private static final Map<String, Path> written = new HashMap<>();

    private TestModels() {}

    /** {@code bin/tinyedge synth OUT --preset tiny --type TYPE}: Llama-2 vocabulary, random weights. */
    static synchronized Path synthTiny(String type) throws IOException {
        Path root = LlamaCpp.repositoryRoot();
        return write("synth-tiny-" + type + ".gguf", out ->
                List.of(root.resolve("bin/tinyedge").toString(), "synth", out.toString(), "--preset", "tiny", "--type", type));
    }

    /**
     * {@code tests/python/tiny_llama.py OUT --type TYPE}: a tiny model with a byte-level vocabulary written by the
     * reference {@code gguf} Python package (from the repository's .venv when there is one, which tests/run.sh makes).
     */
    static synchronized Path pythonTiny(String type) throws IOException {
        Path root = LlamaCpp.repositoryRoot();
        Path venvPython = root.resolve(".venv/bin/python");
        String python = Files.isExecutable(venvPython) ? venvPython.toString() : "python3";
        return write("python-tiny-" + type + ".gguf", out ->
                List.of(python, root.resolve("tests/python/tiny_llama.py").toString(), out.toString(), "--type", type));
    }

    /**
     * {@code tests/python/tokenizer_gguf.py OUT --family FAMILY [--pre PRE]}: a real tokenizer (from the pinned npm
     * packages, converted as llama.cpp's converter does) and no weights, which llama.cpp loads with vocab_only.
     */
    static synchronized Path tokenizer(String family, String pre) throws IOException {
        Path root = LlamaCpp.repositoryRoot();
        Path venvPython = root.resolve(".venv/bin/python");
        String python = Files.isExecutable(venvPython) ? venvPython.toString() : "python3";
        String name = "tokenizer-" + family + (pre == null ? "" : "-" + pre) + ".gguf";
        return write(name, out -> {
            List<String> command = new ArrayList<>(List.of(python, root.resolve("tests/python/tokenizer_gguf.py").toString(),
                    out.toString(), "--family", family));
            if (pre != null) {
                command.addAll(List.of("--pre", pre));
            }
            return command;
        });
    }

    /** Runs the command that {@code writer} gives for the output path, unless this run has written the file. */
    private static Path write(String name, Function<Path, List<String>> writer) throws IOException {
        Path existing = written.get(name);
        if (existing != null) {
            return existing;
        }
        Path dir = LlamaCpp.repositoryRoot().resolve("tests/target/parity-models");
        Files.createDirectories(dir);
        Path out = dir.resolve(name);
        Files.deleteIfExists(out);
        try {
            Processes.stdout(writer.apply(out));
        } catch (IOException e) {
            throw e.getMessage().contains("No module named")
                    ? new IOException(e.getMessage() + "\n(install the Python packages with tests/run.sh, or pip install gguf==0.19.0 numpy)", e)
                    : e;
        }
        written.put(name, out);
        return out;
    }
}
