package dev.tinyedge.model;

import dev.tinyedge.backend.WorkerPool;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.reference.ScalarForward;
import dev.tinyedge.reference.TestModels;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.tinyedge.model.ForwardPassTest.assertLogitsClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole models of every family (synth's tiny presets) through the forward pass against {@link ScalarForward}: token
 * by token, in batches longer than Gemma's window and than one prefill batch, and across rewinds of the KV cache.
 */
class FamiliesForwardTest {
    /** Float against double through a few layers (measured below 1e-6 on these models). */
    private static final double LOGIT_TOLERANCE = 1e-5;
    /**
     * Gemma's GELU rounds its input to fp16 (as ggml does, and the reference too), so where a gate value lies within
     * float-versus-double noise of an fp16 rounding boundary (about 1 in 10^4 of them) the two round it one fp16 step
     * apart: that activation moves by about 1e-3 of itself, and the logits by a few 1e-5 (measured up to 3.3e-5 of the
     * largest logit). The GELU itself is checked tightly in ForwardPassTest.gegluIsGgmlsTableGeluTimesUp.
     */
    private static final double GELU_TOLERANCE = 2e-4;
    private static final List<SyntheticModel.Preset> FAMILIES = List.of(SyntheticModel.TINY_QWEN2,
            SyntheticModel.TINY_QWEN3, SyntheticModel.TINY_LLAMA3, SyntheticModel.TINY_GEMMA3);

    @TempDir
    static Path dir;
    private static final Map<String, GgufFile> files = new HashMap<>();
    private static WorkerPool pool;

    @BeforeAll
    static void writeModels() throws Exception {
        for (SyntheticModel.Preset preset : FAMILIES) {
            files.put(preset.name(), GgufFile.open(TestModels.write(dir, preset, GgmlType.F32, 11)));
        }
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void close() {
        files.values().forEach(GgufFile::close);
        pool.close();
    }

    private static ModelWeights model(String preset) throws Exception {
        return ModelWeights.load(files.get(preset));
    }

    private static double tolerance(String preset) {
        return preset.contains("gemma") ? GELU_TOLERANCE : LOGIT_TOLERANCE;
    }

    private static int[] tokens(int n, long seed) {
        return new SplittableRandom(seed).ints(n, 0, 32000).toArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2", "tiny-qwen3", "tiny-llama3", "tiny-gemma3"})
    void tokenByTokenMatchesTheScalarReference(String preset) throws Exception {
        ModelWeights model = model(preset);
        ForwardPass forward = new ForwardPass(model, 256, pool);
        ScalarForward reference = new ScalarForward(model, 256);
        int[] tokens = tokens(24, 1); // three times Gemma's window of 8
        for (int pos = 0; pos < tokens.length; pos++) {
            assertLogitsClose(reference.forward(tokens[pos], pos), forward.forward(new int[] {tokens[pos]}, 1, pos),
                    tolerance(preset), preset + " position " + pos);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-qwen2", "tiny-qwen3", "tiny-llama3", "tiny-gemma3"})
    void batchedPrefillMatchesTheScalarReference(String preset) throws Exception {
        ModelWeights model = model(preset);
        int[] tokens = tokens(150, 2); // past Gemma's ring of 8 + 63 positions twice, in three batches
        ScalarForward reference = new ScalarForward(model, 256);
        float[] expected = null;
        for (int pos = 0; pos < tokens.length; pos++) {
            expected = reference.forward(tokens[pos], pos);
        }
        assertLogitsClose(expected, new ForwardPass(model, 256, pool).forward(tokens, tokens.length, 0), tolerance(preset),
                preset + " batched");
    }

    @ParameterizedTest
    @CsvSource({"150, 20", "150, 140", "100, 95", "30, 10"})
    void aRewindSeesThePrefixItWouldHaveSeenFresh(int evaluated, int rewindTo) throws Exception {
        ModelWeights model = model("tiny-gemma3");
        int[] first = tokens(evaluated, 3);
        int[] continuation = tokens(5, 4);
        int[] fresh = new int[rewindTo + continuation.length];
        System.arraycopy(first, 0, fresh, 0, rewindTo);
        System.arraycopy(continuation, 0, fresh, rewindTo, continuation.length);
        float[] expected = new ForwardPass(model, 256, pool).forward(fresh, fresh.length, 0).clone();

        ForwardPass forward = new ForwardPass(model, 256, pool);
        forward.forward(first, first.length, 0);
        // the ring of 71 has overwritten what position 20 sees after 150 positions, not what 140 sees
        assertLogitsClose(expected, forward.forward(continuation, continuation.length, rewindTo), 1e-6,
                "evaluated " + evaluated + ", continued at " + rewindTo);
    }

    /**
     * Decoding allocates nothing once the JIT has compiled the pass: until then (and for a while after a
     * deoptimization) the Vector API's vectors are objects. So some window of 100 tokens must allocate nothing;
     * an allocation in the pass's own code would show in every one.
     */
    @Test
    void decodingAllocatesNothing() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        for (SyntheticModel.Preset preset : FAMILIES) {
            try (WorkerPool single = new WorkerPool(1)) { // every task on this thread, so that its allocations count
                ForwardPass forward = new ForwardPass(model(preset.name()), 256, single);
                int[] token = {7};
                long fewest = Long.MAX_VALUE;
                for (int window = 0; window < 30 && fewest > 0; window++) {
                    long before = threads.getCurrentThreadAllocatedBytes();
                    for (int pos = 0; pos < 100; pos++) { // past Gemma's ring of 71 positions
                        forward.forward(token, 1, pos);
                    }
                    fewest = Math.min(fewest, threads.getCurrentThreadAllocatedBytes() - before);
                }
                assertEquals(0, fewest, preset.name() + ": bytes allocated by the least allocating 100 tokens");
            }
        }
    }

    @Test
    void threadCountDoesNotChangeTheResult() throws Exception {
        for (SyntheticModel.Preset preset : FAMILIES) {
            ModelWeights model = model(preset.name());
            int[] tokens = tokens(40, 5);
            float[] one;
            try (WorkerPool single = new WorkerPool(1)) {
                one = new ForwardPass(model, 256, single).forward(tokens, tokens.length, 0).clone();
            }
            try (WorkerPool three = new WorkerPool(3)) {
                assertLogitsClose(one, new ForwardPass(model, 256, three).forward(tokens, tokens.length, 0), 1e-6,
                        preset.name() + ": 3 threads vs 1");
            }
        }
    }

    /**
     * The Llama-2 block of tiny-gemma3's weights with one feature switched on, against the reference with the same
     * one: each operation on its own, in a whole model. Each must also change the logits, or it tested nothing.
     */
    @ParameterizedTest
    @ValueSource(strings = {"neox", "rope factors", "rope scaling", "biases", "qk norms", "post-norms", "gelu",
            "embedding scale", "window"})
    void eachFeatureOnItsOwnMatchesTheScalarReference(String feature) throws Exception {
        ModelWeights gemma = model("tiny-gemma3");
        ModelWeights qwen2 = model("tiny-qwen2");
        ModelWeights plain = withFeatures(gemma, Features.LLAMA2, ModelConfig.SlidingWindow.NONE, 1f, null, null);
        Features.RopeStyle rope = Features.RopeStyle.ADJACENT_PAIRS;
        Features.Activation silu = Features.Activation.SILU;
        ModelWeights one = switch (feature) {
            case "neox" -> withFeatures(gemma, new Features(Features.RopeStyle.NEOX, false, false, false, false, silu, false),
                    ModelConfig.SlidingWindow.NONE, 1f, null, null);
            case "rope factors" -> withFeatures(qwen2, new Features(rope, true, false, false, false, silu, false),
                    ModelConfig.SlidingWindow.NONE, 1f, model("tiny-llama3").ropeFactors(), null); // heads of 16
            case "rope scaling" -> withFeatures(gemma, Features.LLAMA2, ModelConfig.SlidingWindow.NONE, 0.25f, null, null);
            case "biases" -> withFeatures(qwen2, new Features(rope, false, true, false, false, silu, false),
                    ModelConfig.SlidingWindow.NONE, 1f, null, qwen2.layers());
            case "qk norms" -> withFeatures(gemma, new Features(rope, false, false, true, false, silu, false),
                    ModelConfig.SlidingWindow.NONE, 1f, null, null);
            case "post-norms" -> withFeatures(gemma, new Features(rope, false, false, false, true, silu, false),
                    ModelConfig.SlidingWindow.NONE, 1f, null, null);
            case "gelu" -> withFeatures(gemma, new Features(rope, false, false, false, false, Features.Activation.GELU_TANH, false),
                    ModelConfig.SlidingWindow.NONE, 1f, null, null);
            case "embedding scale" -> withFeatures(gemma, new Features(rope, false, false, false, false, silu, true),
                    ModelConfig.SlidingWindow.NONE, 1f, null, null);
            case "window" -> withFeatures(gemma, Features.LLAMA2, new ModelConfig.SlidingWindow(5, 3, 100f), 1f, null, null);
            default -> throw new IllegalArgumentException(feature);
        };
        if (feature.equals("biases") || feature.equals("rope factors")) {
            plain = withFeatures(qwen2, Features.LLAMA2, ModelConfig.SlidingWindow.NONE, 1f, null, null);
        }
        double tolerance = feature.equals("gelu") ? GELU_TOLERANCE : LOGIT_TOLERANCE;
        int[] tokens = tokens(80, 6);
        ScalarForward reference = new ScalarForward(one, 256);
        ForwardPass stepwise = new ForwardPass(one, 256, pool);
        float[] expected = null;
        for (int pos = 0; pos < tokens.length; pos++) {
            expected = reference.forward(tokens[pos], pos);
            if (pos < 12) {
                assertLogitsClose(expected, stepwise.forward(new int[] {tokens[pos]}, 1, pos), tolerance, feature + " position " + pos);
            }
        }
        assertLogitsClose(expected, new ForwardPass(one, 256, pool).forward(tokens, tokens.length, 0), tolerance, feature + " batched");
        float[] without = new ForwardPass(plain, 256, pool).forward(tokens, tokens.length, 0);
        assertFalse(maxDifference(expected, without) < 1e-2, feature + " changes nothing");
    }

    private static double maxDifference(float[] a, float[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    /** The model's tensors under another block: biases only from {@code biasLayers}, RoPE factors only if given. */
    private static ModelWeights withFeatures(ModelWeights m, Features features, ModelConfig.SlidingWindow window,
                                             float ropeScale, FloatTensor ropeFactors,
                                             List<ModelWeights.Layer> biasLayers) {
        ModelConfig c = m.config();
        ModelConfig config = new ModelConfig(Architecture.LLAMA, features, c.vocabSize(), c.dim(), c.ffnDim(), c.layers(),
                c.heads(), c.kvHeads(), c.headDim(), c.contextLength(), c.rmsEps(), c.ropeBase(), ropeScale, window);
        List<ModelWeights.Layer> layers = new ArrayList<>();
        for (int i = 0; i < c.layers(); i++) {
            ModelWeights.Layer l = m.layers().get(i);
            ModelWeights.Layer b = biasLayers == null ? null : biasLayers.get(i);
            layers.add(new ModelWeights.Layer(l.attentionNorm(), l.query(), l.key(), l.value(), l.attentionOutput(),
                    l.ffnNorm(), l.gate(), l.up(), l.down(), b == null ? null : b.queryBias(), b == null ? null : b.keyBias(),
                    b == null ? null : b.valueBias(), l.queryNorm(), l.keyNorm(), l.postAttentionNorm(), l.postFfnNorm()));
        }
        return new ModelWeights(config, m.tokenEmbedding(), layers, m.outputNorm(), m.output(), ropeFactors);
    }

    @Test
    void eachFamilyLoadsWithItsFeatures() throws Exception {
        ModelWeights qwen2 = model("tiny-qwen2");
        assertEquals(Architecture.QWEN2, qwen2.config().architecture());
        assertEquals(Features.RopeStyle.NEOX, qwen2.config().features().rope());
        assertTrue(qwen2.config().features().qkvBias());
        assertNotNull(qwen2.layers().get(1).valueBias());
        assertNull(qwen2.layers().get(1).queryNorm());
        assertTrue(qwen2.tiedOutput());

        ModelWeights qwen3 = model("tiny-qwen3");
        assertTrue(qwen3.config().features().qkNorm());
        assertFalse(qwen3.config().features().qkvBias());
        assertEquals(128, qwen3.config().qDim(), "4 heads of 32 from a stream of 64");
        assertEquals(32L, qwen3.layers().get(0).keyNorm().size());

        ModelWeights llama3 = model("tiny-llama3");
        assertEquals(Features.RopeStyle.ADJACENT_PAIRS, llama3.config().features().rope());
        assertTrue(llama3.config().features().ropeFactors());
        assertEquals(8L, llama3.ropeFactors().size());

        ModelWeights gemma3 = model("tiny-gemma3");
        ModelConfig c = gemma3.config();
        assertEquals(Features.Activation.GELU_TANH, c.features().activation());
        assertTrue(c.features().postNorms() && c.features().scaledEmbedding() && c.features().qkNorm());
        assertEquals(new ModelConfig.SlidingWindow(8, 6, 10_000f), c.window());
        for (int l = 0; l < 5; l++) {
            assertTrue(c.isLocal(l), "layer " + l);
            assertEquals(10_000f, c.ropeBase(l));
        }
        assertFalse(c.isLocal(5), "llama.cpp's pattern: every sixth layer is global");
        assertEquals(1_000_000f, c.ropeBase(5));
        assertEquals((float) (1 / Math.sqrt(32)), c.attentionScale(), "from the key length, not dim / heads");
        assertEquals((float) Math.sqrt(64), c.embeddingScale());
    }

    @Test
    void realShapesAreTheConfigsOfTheModels() {
        ModelConfig qwen25 = SyntheticModel.QWEN2_5_0_5B.config();
        assertEquals(64, qwen25.headDim());
        assertEquals(128, qwen25.kvDim());
        ModelConfig qwen3 = SyntheticModel.QWEN3_0_6B.config();
        assertEquals(2048, qwen3.qDim());
        assertEquals(1024, qwen3.dim());
        ModelConfig gemma1b = SyntheticModel.GEMMA_3_1B.config();
        long global = java.util.stream.IntStream.range(0, 26).filter(l -> !gemma1b.isLocal(l)).count();
        assertEquals(4, global, "layers 5, 11, 17 and 23 of 26");
        ModelConfig gemma270m = SyntheticModel.GEMMA_3_270M.config();
        assertEquals(List.of(5, 11, 17), java.util.stream.IntStream.range(0, 18).filter(l -> !gemma270m.isLocal(l))
                .boxed().toList());
        // parameter counts as the models state them
        assertEquals(494_032_768L, parameters(SyntheticModel.QWEN2_5_0_5B), "Qwen2.5-0.5B: 0.49B");
        assertEquals(1_235_814_400L + 32, parameters(SyntheticModel.LLAMA_3_2_1B), "Llama-3.2-1B: 1.24B, and rope_freqs");
        assertEquals(999_885_952L, parameters(SyntheticModel.GEMMA_3_1B), "Gemma-3-1B: 1.00B");
    }

    private static long parameters(SyntheticModel.Preset preset) {
        return SyntheticModel.tensorShapes(preset).values().stream()
                .mapToLong(s -> s.length == 1 ? s[0] : s[0] * s[1]).sum();
    }
}
