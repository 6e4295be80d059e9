package dev.tinyedge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.SyntheticModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's commands end to end through Main, on a synthesized tiny model. */
class EngineCommandsTest {
    @TempDir
    Path dir;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    private JsonNode json() throws Exception {
        return new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
    }

    private Path synthTiny() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        assertEquals(0, Main.run("synth", model.toString(), "--preset", "tiny", "--type", "q4_0", "--seed", "9"));
        return model;
    }

    @Test
    void synthWritesALoadableModelWithTheTinyShape() throws Exception {
        Path model = synthTiny();
        try (GgufFile file = GgufFile.open(model)) {
            assertEquals(SyntheticModel.TINY.config(), ModelConfig.fromGguf(file));
            assertEquals("llama", file.getString("general.architecture", null));
            assertTrue(file.get("tokenizer.ggml.tokens") != null);
        }
        err.reset();
        assertEquals(2, Main.run("synth", dir.resolve("x.gguf").toString(), "--preset", "huge"));
        assertTrue(err.toString().startsWith("tinyedge: error: unknown preset 'huge'"), err.toString());
    }

    @Test
    void logitsPrintsTheLargestFirstAndMatchesTheEngine() throws Exception {
        Path model = synthTiny();
        out.reset();
        assertEquals(0, Main.run("logits", "--model", model.toString(), "--prompt", "Hello", "--top", "4", "--threads", "1"));
        JsonNode top = json().get("top");
        assertEquals(4, top.size());
        try (Engine engine = Engine.load(model, new EngineOptions(0, 1, "cpu"))) {
            int[] tokens = engine.tokenizer().encode("Hello", true, false);
            float[] logits = engine.forward(tokens, tokens.length, 0);
            for (int i = 0; i < 4; i++) {
                int id = top.get(i).get("id").asInt();
                assertEquals(logits[id], top.get(i).get("logit").floatValue(), 1e-6f);
                if (i > 0) {
                    assertTrue(top.get(i - 1).get("logit").floatValue() >= top.get(i).get("logit").floatValue());
                }
            }
            float largest = Float.NEGATIVE_INFINITY;
            for (float l : logits) {
                largest = Math.max(largest, l);
            }
            assertEquals(largest, top.get(0).get("logit").floatValue(), 1e-6f);
        }
    }

    @Test
    void generateJsonHasTheContractFieldsAndIsDeterministicPerSeed() throws Exception {
        Path model = synthTiny();
        String[] args = {"generate", "--model", model.toString(), "--prompt", "Hi", "-n", "5", "--seed", "3", "--temp", "1", "--json"};
        out.reset();
        assertEquals(0, Main.run(args));
        JsonNode first = json();
        for (String field : new String[] {"prompt_tokens", "tokens", "text", "prefill_tok_s", "decode_tok_s"}) {
            assertTrue(first.has(field), field);
        }
        assertEquals(1, first.get("prompt_tokens").get(0).asInt(), "starts with BOS");
        out.reset();
        assertEquals(0, Main.run(args));
        assertEquals(first.get("tokens"), json().get("tokens"));
    }

    @Test
    void benchReportsSpeedsAndPeakRss() throws Exception {
        Path model = synthTiny();
        out.reset();
        assertEquals(0, Main.run("bench", "--model", model.toString(), "--prompt-tokens", "8", "--gen-tokens", "4", "--threads", "2"));
        JsonNode bench = json();
        assertTrue(bench.get("prefill_tok_s").asDouble() > 0);
        assertTrue(bench.get("decode_tok_s").asDouble() > 0);
        assertTrue(bench.get("peak_rss_mb").asLong() > 0);
        assertEquals(2, bench.get("threads").asInt());
        assertEquals("cpu", bench.get("backend").asText());
    }

    @Test
    void usageAndRuntimeErrorsAreOneLine() throws Exception {
        Path model = synthTiny();
        err.reset();
        assertEquals(2, Main.run("generate", "--model", model.toString(), "--prompt", "x", "--backend", "cuda"));
        assertTrue(err.toString().startsWith("tinyedge: error: --backend must be cpu or opencl"), err.toString());
        err.reset();
        assertEquals(1, Main.run("logits", "--model", dir.resolve("missing.gguf").toString(), "--prompt", "x"));
        assertEquals("tinyedge: error: " + dir.resolve("missing.gguf") + ": no such file", err.toString().strip());
    }

    /** translate --config reads the file before it connects: a missing or misspelt one is one line, no broker needed. */
    @Test
    void translateWithABadConfigFileIsOneLine() throws Exception {
        Path missing = dir.resolve("missing.toml");
        err.reset();
        assertEquals(1, Main.run("translate", "--broker", "tcp://127.0.0.1:1", "--config", missing.toString(), "--to", "de", "hi"));
        assertEquals("tinyedge: error: " + missing + ": no such file", err.toString().strip());
        Path misspelt = dir.resolve("misspelt.toml");
        Files.writeString(misspelt, "[mqtt]\nuser_name = \"alice\"\n");
        err.reset();
        assertEquals(1, Main.run("translate", "--broker", "tcp://127.0.0.1:1", "--config", misspelt.toString(), "--to", "de", "hi"));
        String line = err.toString().strip();
        assertTrue(line.startsWith("tinyedge: error: " + misspelt + ": ") && line.contains("user_name") && !line.contains("\n"), line);
    }
}
