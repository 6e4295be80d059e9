package dev.tinyedge.parity;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp, the reference implementation, as the tests see it: runs {@code tests/node/oracle.mjs} (node-llama-cpp's
 * CPU build) with {@code node} and parses its JSON. Fails with a message that says what to install when node or the
 * pinned npm packages are missing.
 */
public final class LlamaCpp {

    /** One of the most likely next tokens, with its natural-log probability. */
    public record TopToken(int id, double lnp) {}

    /** The tokens llama.cpp evaluated (BOS + prompt) and the most likely next tokens, most likely first. */
    public record NextTokens(int[] promptTokens, List<TopToken> top) {}

    /** The tokens llama.cpp evaluated (BOS + prompt) and its greedy continuation. */
    public record Continuation(int[] promptTokens, int[] tokens) {}

    private static final long TIMEOUT_SECONDS = 300;
    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final Path root;
    private final Path oracle;
    private final int threads;

    private LlamaCpp(Path root, int threads) {
        this.root = root;
        this.oracle = root.resolve("tests/node/oracle.mjs");
        this.threads = threads;
    }

    /**
     * The oracle of this checkout, running llama.cpp on one thread: the machine is shared, and llama.cpp's threads
     * spin while they wait for each other, which makes two threads on a busy two-core machine very slow.
     */
    public static LlamaCpp installed() {
        Path root = repositoryRoot();
        if (!Files.isRegularFile(root.resolve("tests/node/node_modules/node-llama-cpp/package.json"))) {
            throw new IllegalStateException("llama.cpp (node-llama-cpp) is not installed in " + root.resolve("tests/node")
                    + ": run tests/node/install.sh (or tests/run.sh, which installs everything the tests need)");
        }
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("node is not on PATH: install Node.js 20 or newer (Debian: apt-get install nodejs npm)", e);
        }
        return new LlamaCpp(root, 1);
    }

    /** The checkout's root: the nearest folder at or above the working directory that holds the oracle. */
    public static Path repositoryRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("tests/node/oracle.mjs"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no tests/node/oracle.mjs at or above " + Path.of("").toAbsolutePath());
    }

    public Path root() {
        return root;
    }

    /** Token ids for each text as llama.cpp's llama_tokenize gives them, BOS first when the model adds one. */
    public int[][] tokenize(Path model, List<String> texts, boolean parseSpecial) throws IOException {
        Path textsFile = Files.createTempFile("oracle-texts", ".json");
        try {
            JSON.writeValue(textsFile.toFile(), texts);
            List<String> args = new ArrayList<>(List.of("tokenize", model.toString(), "--texts", textsFile.toString()));
            if (parseSpecial) {
                args.add("--special");
            }
            return JSON.readValue(run(args), int[][].class);
        } finally {
            Files.deleteIfExists(textsFile);
        }
    }

    /** The {@code top} most likely tokens after BOS + {@code prompt}, with an F32 KV cache. */
    public NextTokens nextTokens(Path model, String prompt, int top) throws IOException {
        return JSON.readValue(run(List.of("logits", model.toString(), "--prompt", prompt, "--top", Integer.toString(top))),
                NextTokens.class);
    }

    /** {@code n} tokens of greedy continuation after BOS + {@code prompt}; end-of-sequence does not stop it. */
    public Continuation greedy(Path model, String prompt, int n) throws IOException {
        return JSON.readValue(run(List.of("greedy", model.toString(), "--prompt", prompt, "-n", Integer.toString(n))),
                Continuation.class);
    }

    private String run(List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of("node", oracle.toString()));
        command.addAll(args);
        command.addAll(List.of("--threads", Integer.toString(threads)));
        Path stderr = Files.createTempFile("oracle", ".stderr");
        try {
            Process process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
            process.getOutputStream().close();
            // stdout is one JSON document; reading it to the end returns when the process closes it
            String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("llama.cpp oracle did not finish in " + TIMEOUT_SECONDS + " s: " + String.join(" ", command));
            }
            if (process.exitValue() != 0) {
                throw new IOException("llama.cpp oracle failed (exit " + process.exitValue() + "): " + String.join(" ", command)
                        + "\n" + Files.readString(stderr).strip());
            }
            return stdout;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running the llama.cpp oracle", e);
        } finally {
            Files.deleteIfExists(stderr);
        }
    }
}
