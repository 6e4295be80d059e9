package dev.tinyedge.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model families through the real launcher: {@code synth} writes each family's tiny preset, {@code generate} runs
 * it, {@code inspect} shows what its block has and plans its memory; a model of another architecture is one error
 * line for every command.
 */
class FamiliesCommandTest {
    @TempDir
    static Path dir;

    private record Result(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout: " + stdout + "\nstderr: " + stderr;
        }
    }

    private static Result tinyedge(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(InspectCommandTest.ROOT.resolve("bin/tinyedge").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String stdout = read(p.getInputStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "tinyedge " + String.join(" ", args) + " hung");
        return new Result(p.exitValue(), stdout, stderr.join());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2", "tiny-qwen3", "tiny-llama3", "tiny-gemma3"})
    void eachFamilysSynthModelGenerates(String preset) throws Exception {
        Path model = dir.resolve(preset + ".gguf");
        Result synth = tinyedge("synth", model.toString(), "--preset", preset, "--type", "q8_0");
        assertEquals(0, synth.exit, synth.toString());
        Result generate = tinyedge("generate", "--model", model.toString(), "--prompt", "The capital of France is",
                "-n", "12", "--temp", "0", "--threads", "1", "--json");
        assertEquals(0, generate.exit, generate.toString());
        assertEquals(12, new ObjectMapper().readTree(generate.stdout).get("tokens").size(), generate.toString());
    }

    @Test
    void inspectShowsAFamilysBlockAndPlansItsWindowedCache() throws Exception {
        Path model = dir.resolve("inspect-gemma3.gguf");
        Result synth = tinyedge("synth", model.toString(), "--preset", "tiny-gemma3", "--type", "q8_0");
        assertEquals(0, synth.exit, synth.toString());
        Result text = tinyedge("inspect", model.toString(), "--profile", "raspberry-pi-5-4gb", "--ctx", "256");
        assertEquals(0, text.exit, text.toString());
        assertTrue(text.stdout.lines().anyMatch(l -> l.matches("runs\\s+4 heads of 32 over 2 KV heads, NEOX RoPE, Q/K norms,"
                + " post-norms, GeGLU \\(tanh\\), embeddings x sqrt\\(dim\\), sliding window of 8 on 5 of 6 layers"
                + " \\(RoPE base 10000.0\\), output tied to the embedding")), text.stdout);

        JsonNode json = new ObjectMapper().readTree(tinyedge("inspect", "--json", model.toString(),
                "--profile", "raspberry-pi-5-4gb", "--ctx", "256").stdout);
        assertTrue(json.get("unsupported").isNull());
        // one global layer of 256 positions, five local ones of 8 + 63, of 2 KV heads of 32, keys and values in f32,
        // for each of the 4 requests the profile translates at once
        assertEquals(4, json.get("memory_plan").get("parallel").asInt());
        assertEquals(4 * 2L * (256 + 5 * 71) * 2 * 32 * 4, json.get("memory_plan").get("kv_cache_bytes").asLong());
    }

    @Test
    void anotherArchitectureIsOneErrorLineForEveryCommand() throws Exception {
        Path model = dir.resolve("phi3.gguf");
        var writer = SyntheticModel.writer(SyntheticModel.TINY, GgmlType.Q8_0, 1)
                .put("general.architecture", GgufValue.string("phi3"));
        SyntheticModel.writeVocabulary(SyntheticModel.TINY, writer);
        writer.write(model);
        String refusal = "tinyedge: error: " + model + ": architecture 'phi3' is not supported (supported: llama, qwen2, qwen3, gemma3)";
        for (List<String> command : List.of(List.of("generate", "--model", model.toString(), "--prompt", "hi"),
                List.of("logits", "--model", model.toString(), "--prompt", "hi"),
                List.of("bench", "--model", model.toString()))) {
            Result r = tinyedge(command.toArray(String[]::new));
            assertEquals(1, r.exit, r.toString());
            assertEquals(List.of(refusal), r.stderr.lines().filter(l -> l.startsWith("tinyedge: error:")).toList(), r.toString());
            assertEquals(1, r.stderr.lines().count(), r.toString());
        }
        Result inspect = tinyedge("inspect", model.toString());
        assertEquals(0, inspect.exit, "inspect describes what it cannot run: " + inspect);
        assertTrue(inspect.stdout.contains("runs            no: architecture 'phi3' is not supported"), inspect.stdout);
        assertTrue(inspect.stdout.contains("memory plan     none: tinyedge cannot run this model"), inspect.stdout);
    }
}
