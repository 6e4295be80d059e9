package dev.tinyedge.engine;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.reference.ScalarForward;
import dev.tinyedge.reference.TestModels;
import dev.tinyedge.sampling.Sampler;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneratorTest {
    @TempDir
    static Path dir;
    static Path modelPath;
    static Engine engine;

    @BeforeAll
    static void load() throws Exception {
        modelPath = TestModels.writeWithVocabulary(dir, dev.tinyedge.model.SyntheticModel.TINY, GgmlType.Q8_0, 3);
        engine = Engine.load(modelPath, new EngineOptions(100, 2, "cpu"));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** Greedy tokens from the plain scalar reference. */
    private static int[] scalarGreedy(int[] prompt, int n) throws Exception {
        try (GgufFile file = GgufFile.open(modelPath)) {
            ScalarForward reference = new ScalarForward(ModelWeights.load(file), 100);
            float[] logits = null;
            for (int pos = 0; pos < prompt.length; pos++) {
                logits = reference.forward(prompt[pos], pos);
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int t = 1; t < logits.length; t++) {
                    if (logits[t] > logits[best]) {
                        best = t;
                    }
                }
                out[i] = best;
                logits = reference.forward(best, prompt.length + i);
            }
            return out;
        }
    }

    @Test
    void greedyGenerationFollowsTheScalarReference() throws Exception {
        int[] prompt = {1, 500, 9000, 31000, 42};
        List<Integer> streamed = new ArrayList<>();
        Generator.Result result = new Generator(engine).generate(prompt, 6, Sampler.greedy(), token -> streamed.add(token));
        int[] expected = scalarGreedy(prompt, 6);
        assertArrayEquals(expected, result.tokens());
        assertEquals(List.of(expected[0], expected[1], expected[2], expected[3], expected[4], expected[5]), streamed);
        assertEquals(Generator.StopReason.MAX_TOKENS, result.stopReason());
        assertEquals(5, result.promptTokens());
        assertEquals(5, result.decodedTokens(), "the last token is sampled, not evaluated");
        assertTrue(result.prefillTokensPerSecond() > 0 && result.decodeTokensPerSecond() > 0);
    }

    @Test
    void cachedPrefixIsNotEvaluatedAgain() {
        Generator generator = new Generator(engine);
        int[] a = {1, 600, 700, 800, 900};
        int[] b = {1, 600, 700, 5, 6, 7};
        int[] fresh = generator.generate(a, 4, Sampler.greedy(), t -> true).tokens();
        generator.generate(b, 3, Sampler.greedy(), t -> true); // leaves 1, 600, 700 at positions 0..2
        Generator.Result reused = generator.generate(a, 3, 4, Sampler.greedy(), t -> true);
        assertArrayEquals(fresh, reused.tokens());
        assertEquals(2, reused.prefilledTokens());
        assertThrows(IllegalArgumentException.class, () -> generator.generate(a, 5, 4, Sampler.greedy(), t -> true));
    }

    @Test
    void listenerStopsAndContextBoundsGeneration() {
        Generator generator = new Generator(engine);
        Generator.Result stopped = generator.generate(new int[] {1, 7}, 50, new Sampler(1f, 0, 1f, 1), token -> false);
        assertEquals(1, stopped.tokens().length);
        assertEquals(Generator.StopReason.STOPPED, stopped.stopReason());

        int[] longPrompt = new int[97];
        java.util.Arrays.fill(longPrompt, 300);
        Generator.Result full = generator.generate(longPrompt, 50, new Sampler(1f, 0, 1f, 2), token -> true);
        // 3 positions are left; a token sampled after the last one is never reported... unless it is EOS
        assertTrue(full.stopReason() == Generator.StopReason.CONTEXT_FULL && full.tokens().length == 3
                || full.stopReason() == Generator.StopReason.END_OF_SEQUENCE, full.toString());

        assertThrows(IllegalArgumentException.class, () -> generator.generate(new int[100], 5, Sampler.greedy(), t -> true));
    }

    @Test
    void engineReportsItsSetup() {
        assertEquals("synthetic-tiny-q8_0", engine.modelName());
        assertEquals(100, engine.contextLength());
        assertTrue(engine.backendDescription().startsWith("cpu (2 threads, "), engine.backendDescription());
        assertEquals(64, engine.config().dim());
        assertThrows(IllegalArgumentException.class,
                () -> Engine.load(modelPath, new EngineOptions(257, 1, "cpu")), "beyond the model's 256");
        assertThrows(IllegalArgumentException.class, () -> Engine.load(modelPath, new EngineOptions(0, 1, "nope")));
    }
}
