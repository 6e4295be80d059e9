package dev.tinyedge.parity;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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

    private static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /**
     * llama.cpp runs on one thread: the machine is shared, and llama.cpp's threads spin while they wait for each other,
     * which makes two threads on a busy two-core machine very slow.
     */
    private static final int THREADS = 1;

    private final Path oracle;

    private LlamaCpp(Path oracle) {
        this.oracle = oracle;
    }

    /** The oracle of this checkout; fails with what to install when node or the pinned packages are missing. */
    public static LlamaCpp installed() {
        Path root = repositoryRoot();
        if (!Files.isRegularFile(root.resolve("tests/node/node_modules/node-llama-cpp/package.json"))) {
            throw new IllegalStateException("llama.cpp (node-llama-cpp) is not installed in " + root.resolve("tests/node")
                    + ": run tests/node/install.sh (or tests/run.sh, which installs everything the tests need)");
        }
        try {
            Processes.stdout(List.of("node", "--version"));
        } catch (IOException e) {
            throw new IllegalStateException("node does not run (" + e.getMessage() + "): install Node.js 20 or newer", e);
        }
        return new LlamaCpp(root.resolve("tests/node/oracle.mjs"));
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

    /** Token ids for each text as llama.cpp's llama_tokenize gives them, BOS first when the model adds one. */
    public int[][] tokenize(Path model, List<String> texts, boolean parseSpecial) throws IOException {
        Path textsFile = jsonFile(texts);
        try {
            List<String> args = new ArrayList<>(List.of("tokenize", model.toString(), "--texts", textsFile.toString()));
            if (parseSpecial) {
                args.add("--special");
            }
            return JSON.readValue(run(args), int[][].class);
        } finally {
            Files.deleteIfExists(textsFile);
        }
    }

    /** Token ids for each text both without and with special tokens parsed, from one load of the model. */
    public record BothWays(int[][] plain, int[][] special) {
        public int[][] get(boolean parseSpecial) {
            return parseSpecial ? special : plain;
        }
    }

    public BothWays tokenizeBothWays(Path model, List<String> texts) throws IOException {
        Path textsFile = jsonFile(texts);
        try {
            return JSON.readValue(run(List.of("tokenize", model.toString(), "--texts", textsFile.toString(), "--both")),
                    BothWays.class);
        } finally {
            Files.deleteIfExists(textsFile);
        }
    }

    /** For each prompt, the {@code top} most likely tokens after BOS + prompt, with an F32 KV cache. */
    public List<NextTokens> nextTokens(Path model, List<String> prompts, int top) throws IOException {
        return nextTokens(model, prompts, top, "F32");
    }

    /** {@link #nextTokens(Path, List, int)} with a KV cache of {@code kvType}: F32, or F16 (llama.cpp's default). */
    public List<NextTokens> nextTokens(Path model, List<String> prompts, int top, String kvType) throws IOException {
        Path promptsFile = jsonFile(prompts);
        try {
            String json = run(List.of("logits", model.toString(), "--prompts", promptsFile.toString(), "--top",
                    Integer.toString(top), "--kv-type", kvType));
            return List.of(JSON.readValue(json, NextTokens[].class));
        } finally {
            Files.deleteIfExists(promptsFile);
        }
    }

    /** {@code n} tokens of greedy continuation after BOS + {@code prompt}; end-of-sequence does not stop it. */
    public Continuation greedy(Path model, String prompt, int n) throws IOException {
        return JSON.readValue(run(List.of("greedy", model.toString(), "--prompt", prompt, "-n", Integer.toString(n))),
                Continuation.class);
    }

    private static Path jsonFile(List<String> strings) throws IOException {
        Path file = Files.createTempFile("oracle", ".json");
        JSON.writeValue(file.toFile(), strings);
        return file;
    }

    private String run(List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of("node", oracle.toString()));
        command.addAll(args);
        command.addAll(List.of("--threads", Integer.toString(THREADS)));
        return Processes.stdout(command);
    }
}
