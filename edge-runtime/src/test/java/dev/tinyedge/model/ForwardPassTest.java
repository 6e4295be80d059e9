package dev.tinyedge.model;

import dev.tinyedge.backend.WorkerPool;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.reference.ScalarForward;
import dev.tinyedge.reference.TestModels;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.kernels.JavaKernels;
import dev.tinyedge.kernels.Products;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forward pass and each of its blocks against {@link ScalarForward}. Both read the same (dequantized)
 * weights, so for every type the only differences are float versus double arithmetic and summation order.
 */
class ForwardPassTest {
    enum Type { F32, F16, Q8_0, Q4_0 }

    /** Logits may differ by this much, relative to the largest logit (float vs double through 2 layers; measured ~5e-7). */
    private static final double LOGIT_TOLERANCE = 5e-6;
    /**
     * Q4_0 and Q8_0 products round their input to Q8_0 (as llama.cpp does, and the reference too). Float
     * and double activations differ in the last bits, and where an activation lies on a rounding boundary
     * (often, in these models: Q4_0 embeddings with norm weights of 1 give exact halves) the two round it
     * one step apart; through this tiny model one such step moves logits by up to ~4% of the largest.
     * The products themselves are checked tightly in FloatTensorTest and {@link #feedForwardMatchesTheReference}.
     */
    private static final double ROUNDED_INPUT_TOLERANCE = 1e-1;
    /**
     * The same float arithmetic may still differ in the last bits: Math.exp and the Vector API's lane
     * reductions are not bit-reproducible between the interpreter and compiled code.
     */
    private static final double SAME_ARITHMETIC = 1e-6;

    @TempDir
    static Path dir;
    private static final Map<Type, GgufFile> files = new EnumMap<>(Type.class);
    private static WorkerPool pool;

    @BeforeAll
    static void writeModels() throws Exception {
        for (Type t : Type.values()) {
            files.put(t, GgufFile.open(TestModels.write(dir, TestModels.SMALL, GgmlType.valueOf(t.name()), 42)));
        }
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void close() {
        files.values().forEach(GgufFile::close);
        pool.close();
    }

    private static ModelWeights model(Type t) throws Exception {
        return ModelWeights.load(files.get(t));
    }

    private static int[] tokens(int n, long seed) {
        return new SplittableRandom(seed).ints(n, 0, TestModels.SMALL.config().vocabSize()).toArray();
    }

    private static double tolerance(Type t) {
        return t == Type.Q4_0 || t == Type.Q8_0 ? ROUNDED_INPUT_TOLERANCE : LOGIT_TOLERANCE;
    }

    private static void assertLogitsClose(float[] expected, float[] actual, double relativeTolerance, String what) {
        float largest = 0;
        for (float e : expected) {
            largest = Math.max(largest, Math.abs(e));
        }
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= relativeTolerance * largest, what + ": max logit difference " + worst + " exceeds "
                + relativeTolerance + " x " + largest);
    }

    @ParameterizedTest
    @EnumSource(Type.class)
    void tokenByTokenMatchesTheScalarReference(Type t) throws Exception {
        ModelWeights model = model(t);
        ForwardPass forward = new ForwardPass(model, 80, pool);
        ScalarForward reference = new ScalarForward(model, 80);
        int[] tokens = tokens(20, 1);
        for (int pos = 0; pos < tokens.length; pos++) {
            float[] expected = reference.forward(tokens[pos], pos);
            float[] actual = forward.forward(new int[] {tokens[pos]}, 1, pos);
            assertLogitsClose(expected, actual, tolerance(t), t + " position " + pos);
        }
    }

    @ParameterizedTest
    @EnumSource(Type.class)
    void batchedPrefillMatchesTheScalarReferenceAndTokenByToken(Type t) throws Exception {
        ModelWeights model = model(t);
        int[] tokens = tokens(70, 2); // more than one batch of 64
        ScalarForward reference = new ScalarForward(model, 80);
        ForwardPass stepwise = new ForwardPass(model, 80, pool);
        float[] expected = null;
        float[] stepped = null;
        for (int pos = 0; pos < tokens.length; pos++) {
            expected = reference.forward(tokens[pos], pos);
            stepped = stepwise.forward(new int[] {tokens[pos]}, 1, pos).clone();
        }
        float[] batched = new ForwardPass(model, 80, pool).forward(tokens, tokens.length, 0);
        assertLogitsClose(expected, batched, tolerance(t), t + " batched vs scalar");
        assertLogitsClose(stepped, batched, tolerance(t), t + " batched vs token by token");
    }

    @Test
    void threadCountDoesNotChangeTheResult() throws Exception {
        ModelWeights model = model(Type.Q4_0);
        int[] tokens = tokens(9, 3);
        float[] one;
        try (WorkerPool single = new WorkerPool(1)) {
            one = new ForwardPass(model, 80, single).forward(tokens, tokens.length, 0).clone();
        }
        try (WorkerPool three = new WorkerPool(3)) {
            assertLogitsClose(one, new ForwardPass(model, 80, three).forward(tokens, tokens.length, 0), SAME_ARITHMETIC,
                    "3 threads vs 1");
        }
    }

    @Test
    void cachedPrefixIsReusedAndLaterPositionsAreOverwritten() throws Exception {
        ModelWeights model = model(Type.Q8_0);
        int[] a = tokens(10, 4);
        int[] b = tokens(5, 5);
        int[] ab = new int[15];
        System.arraycopy(a, 0, ab, 0, 10);
        System.arraycopy(b, 0, ab, 10, 5);
        float[] whole = new ForwardPass(model, 80, pool).forward(ab, 15, 0).clone();

        ForwardPass forward = new ForwardPass(model, 80, pool);
        forward.forward(tokens(12, 6), 12, 0); // fills positions 0..11 with other tokens
        forward.forward(a, 10, 0);             // overwrites 0..9; 10, 11 stay stale until overwritten
        assertLogitsClose(whole, forward.forward(b, 5, 10), SAME_ARITHMETIC, "prefix evaluated once, continuation appended");
    }

    @Test
    void tiedEmbeddingsServeAsTheOutputHead() throws Exception {
        try (GgufFile file = GgufFile.open(TestModels.write(dir, TestModels.SMALL_TIED, GgmlType.F16, 7))) {
            ModelWeights model = ModelWeights.load(file);
            assertTrue(model.tiedOutput());
            int[] tokens = tokens(4, 8);
            ScalarForward reference = new ScalarForward(model, 80);
            for (int pos = 0; pos < 3; pos++) {
                reference.forward(tokens[pos], pos);
            }
            assertLogitsClose(reference.forward(tokens[3], 3), new ForwardPass(model, 80, pool).forward(tokens, 4, 0),
                    LOGIT_TOLERANCE, "tied output");
        }
    }

    // ---- the blocks, one at a time ----

    private static float[] randomVector(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static double[] toDouble(float[] v, int from, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = v[from + i];
        }
        return d;
    }

    @Test
    void rmsNormMatchesTheReference() throws Exception {
        ModelWeights model = model(Type.F32);
        float[] x = randomVector(3 * 96, 10);
        float[] out = new float[3 * 96];
        ForwardPass.rmsNorm(out, 96, x, 96, model.layers().get(0).attentionNorm(), 96, 1e-5f);
        double[] expected = ScalarForward.rmsNorm(toDouble(x, 96, 96), model.layers().get(0).attentionNorm(), 1e-5);
        for (int i = 0; i < 96; i++) {
            assertEquals(expected[i], out[96 + i], 1e-6 * (1 + Math.abs(expected[i])));
        }
    }

    @Test
    void ropeRotatesAdjacentPairsLikeTheReference() {
        int headDim = 16;
        int heads = 3;
        double[] frequencies = ForwardPass.ropeFrequencies(headDim, 10000f);
        for (int pos : new int[] {0, 1, 17, 2047}) {
            float[] v = randomVector(2 * heads * headDim, pos);
            float[] rotated = v.clone();
            ForwardPass.rope(rotated, 0, heads * headDim, 2, pos, heads, headDim, frequencies); // batch of 2: pos, pos+1
            for (int b = 0; b < 2; b++) {
                double[] expected = ScalarForward.rope(toDouble(v, b * heads * headDim, heads * headDim), pos + b, headDim, 10000);
                for (int i = 0; i < heads * headDim; i++) {
                    assertEquals(expected[i], rotated[b * heads * headDim + i], 2e-6 * (1 + Math.abs(expected[i])) * (1 + pos / 256.0),
                            "pos " + (pos + b) + " element " + i);
                }
            }
        }
        float[] v = randomVector(headDim, 99);
        float[] same = v.clone();
        ForwardPass.rope(same, 0, headDim, 1, 0, 1, headDim, frequencies);
        assertArrayEquals(v, same, "position 0 is the identity");
    }

    @Test
    void attentionHeadMatchesTheReference() {
        int headDim = 16;
        int kvDim = 2 * headDim;
        int positions = 37;
        float[] q = randomVector(headDim, 20);
        float[] keys = randomVector(positions * kvDim, 21);
        float[] values = randomVector(positions * kvDim, 22);
        float[] out = new float[headDim + 5];
        ForwardPass.attendHead(q, 0, keys, values, headDim, kvDim, positions, headDim, new float[positions], out, 5);
        double[][] k = new double[positions][];
        double[][] v = new double[positions][];
        for (int t = 0; t < positions; t++) {
            k[t] = toDouble(keys, t * kvDim, kvDim);
            v[t] = toDouble(values, t * kvDim, kvDim);
        }
        double[] expected = ScalarForward.attention(toDouble(q, 0, headDim), 0, k, v, headDim, positions, headDim);
        for (int i = 0; i < headDim; i++) {
            assertEquals(expected[i], out[5 + i], 1e-5, "element " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(Type.class)
    void feedForwardMatchesTheReference(Type t) throws Exception {
        ModelWeights.Layer w = model(t).layers().get(1);
        int dim = 96;
        int hidden = 160;
        float[] x = randomVector(dim, 30);
        float[] gate = new float[hidden];
        float[] up = new float[hidden];
        float[] out = new float[dim];
        Products products = new Products(JavaKernels.INSTANCE, 1, hidden);
        products.multiply(w.gate(), x, 1, dim, gate, 0, hidden);
        products.multiply(w.up(), x, 1, dim, up, 0, hidden);
        ForwardPass.swiglu(gate, up, 0, hidden);
        products.multiply(w.down(), gate, 1, hidden, out, 0, dim);
        double[] expected = ScalarForward.ffn(w, toDouble(x, 0, dim));
        for (int i = 0; i < dim; i++) {
            assertEquals(expected[i], out[i], 1e-5 * (1 + Math.abs(expected[i])), t + " element " + i);
        }
    }
}
