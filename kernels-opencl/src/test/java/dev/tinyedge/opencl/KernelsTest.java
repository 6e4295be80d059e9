package dev.tinyedge.opencl;

import dev.tinyedge.model.ForwardPass;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.Random;

import static dev.tinyedge.opencl.TestDevice.randomFloats;
import static dev.tinyedge.opencl.TestDevice.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kernel against {@link Reference} on random inputs. Sizes are chosen awkward on purpose: row
 * counts and lengths that are not multiples of the work-group size (64) or of the matrix-matrix tile
 * (8 tokens), fewer rows than one work-group, single-block rows, K-quant rows of one and of 17 super-blocks. Bound: relative error 1e-5, a few float32
 * roundings over sums of up to ~4000 terms against a double-precision reference.
 */
class KernelsTest {
    private static final double BOUND = 1e-5;
    private final TestDevice device = TestDevice.get();
    private final Random random = new Random(42);

    @ParameterizedTest(name = "{0} [{1}][{2}] x {3} tokens")
    @CsvSource({
            "F32, 37, 100, 1", "F32, 70, 1000, 5", "F32, 13, 33, 13",
            "F16, 37, 100, 1", "F16, 70, 1000, 11", "F16, 5, 7, 3",
            "Q8_0, 37, 224, 1", "Q8_0, 70, 4192, 1", "Q8_0, 45, 4192, 13", "Q8_0, 3, 32, 9",
            "Q4_0, 37, 224, 1", "Q4_0, 70, 4192, 1", "Q4_0, 45, 4192, 13", "Q4_0, 3, 32, 9",
            "Q4_K, 37, 256, 1", "Q4_K, 70, 4352, 1", "Q4_K, 45, 768, 13", "Q4_K, 3, 256, 9",
            "Q5_K, 37, 256, 1", "Q5_K, 70, 4352, 1", "Q5_K, 45, 768, 13", "Q5_K, 3, 256, 9",
            "Q6_K, 37, 256, 1", "Q6_K, 70, 4352, 1", "Q6_K, 45, 768, 13", "Q6_K, 3, 256, 9",
    })
    void matmulMatchesScalarReference(GgmlType type, int rows, int cols, int tokens) {
        byte[] w = TestDevice.randomTensor(random, type, rows, cols);
        float[] x = randomFloats(random, tokens * cols, 1);
        DeviceMatrix matrix = device.uploadMatrix(type, w, rows, cols);
        long y = device.cl.buffer((long) tokens * rows * Float.BYTES);

        device.kernels.matmul(matrix, device.upload(x), y, tokens);

        float[] expected = Reference.matmul(type, w, rows, cols, x, tokens);
        assertBelow(relativeError(device.download(y, tokens * rows), expected), type + " matmul");
    }

    /**
     * The one-token products with a GPU's split, several work-items per row: rows of fewer work units (blocks,
     * 16-byte runs of K-quant nibbles, vectors of floats) than the row has lanes, rows of more (several strides,
     * the last one partial), F32/F16 rows with elements past the last whole vector, single-block rows, and row
     * counts that leave the last work-group part empty.
     */
    @ParameterizedTest(name = "{0} [{1}][{2}], {3} lanes per row")
    @CsvSource({
            "F32, 37, 100, 8", "F32, 70, 1001, 32", "F32, 5, 7, 4",
            "F16, 37, 102, 8", "F16, 70, 1003, 32", "F16, 5, 3, 4",
            "Q8_0, 37, 224, 8", "Q8_0, 70, 4192, 32", "Q8_0, 3, 32, 4",
            "Q4_0, 37, 224, 8", "Q4_0, 70, 4192, 32", "Q4_0, 3, 32, 4",
            "Q4_K, 37, 256, 32", "Q4_K, 70, 4352, 8", "Q4_K, 3, 768, 4",
            "Q5_K, 37, 256, 32", "Q5_K, 70, 4352, 8", "Q5_K, 3, 768, 4",
            "Q6_K, 37, 256, 32", "Q6_K, 70, 4352, 8", "Q6_K, 3, 768, 4",
    })
    void matVecSplitAcrossLanesMatchesScalarReference(GgmlType type, int rows, int cols, int lanes) {
        byte[] w = TestDevice.randomTensor(random, type, rows, cols);
        float[] x = randomFloats(random, cols, 1);
        DeviceMatrix matrix = device.uploadMatrix(type, w, rows, cols);
        long y = device.cl.buffer((long) rows * Float.BYTES);

        device.withLanes(lanes).matmul(matrix, device.upload(x), y, 1);

        float[] expected = Reference.matmul(type, w, rows, cols, x, 1);
        assertBelow(relativeError(device.download(y, rows), expected), type + " matmul, " + lanes + " lanes per row");
    }

    /** Products of one input with weights of both roundings share it, each rounding made once. */
    @Test
    void inputRoundedOnceServesProductsOfBothRoundings() {
        int cols = 512;
        float[] x = randomFloats(random, cols, 2);
        Kernels.Input input = device.kernels.input(device.upload(x), cols, 1);
        for (GgmlType type : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q6_K, GgmlType.Q8_0, GgmlType.Q4_K}) {
            byte[] w = TestDevice.randomTensor(random, type, 9, cols);
            long y = device.cl.buffer(9 * Float.BYTES);
            device.kernels.matmul(device.uploadMatrix(type, w, 9, cols), input, y);
            assertBelow(relativeError(device.download(y, 9), Reference.matmul(type, w, 9, cols, x, 1)), type + " matmul");
        }
        device.kernels.input(device.upload(x), cols, 1);
        assertThrows(IllegalStateException.class, () -> input.as(Kernels.Rounding.Q8_0), "an input used after the next");
    }

    /**
     * Bit for bit what the CPU computes. Most values are put next to a rounding tie: x = (k + 1/2) / id, with id
     * the reciprocal of the block's scale as the CPU computes it, nudged by an ulp or not, so that a scale or
     * reciprocal one ulp off (a device's inexact division) sends some of them to the other integer. Blocks of
     * magnitudes from 1e-4 to 1e4, and one block of zeros (scale 0). Two tokens' worth.
     */
    @Test
    void roundingToQ8_0IsBitExact() {
        float[] x = new float[2 * 128 * 32];
        for (int block = 1; block < x.length / 32; block++) {
            float amax = (1 + random.nextFloat()) * (float) Math.pow(10, random.nextInt(9) - 4);
            float id = 1 / (amax / 127);
            x[block * 32 + random.nextInt(32)] = random.nextBoolean() ? amax : -amax;
            for (int j = 0; j < 32; j++) {
                if (x[block * 32 + j] == 0) {
                    x[block * 32 + j] = nearTie(random.nextInt(253) - 126, id);
                }
            }
        }

        Kernels.Rounded rounded = device.kernels.input(device.upload(x), x.length / 2, 2).as(Kernels.Rounding.Q8_0);

        Reference.Q8_0 expected = Reference.Q8_0.of(x);
        assertArrayEquals(expected.quants(), device.downloadBytes(rounded.quants(), x.length));
        assertArrayEquals(expected.scales(), device.download(rounded.scales(), x.length / 32));
    }

    /**
     * Q8_K's rounding bit for bit as llama.cpp's, next to ties as above; blocks whose largest magnitude is
     * negative, and blocks holding it with both signs (the first one sets the sign of the scale), and a block of
     * zeros. Three tokens' worth.
     */
    @Test
    void roundingToQ8_KIsBitExact() {
        float[] x = new float[3 * 4 * 256];
        for (int block = 1; block < x.length / 256; block++) {
            float max = (1 + random.nextFloat()) * (float) Math.pow(10, random.nextInt(9) - 4);
            float signed = random.nextBoolean() ? max : -max;
            float iscale = -127f / signed;
            int first = random.nextInt(200);
            x[block * 256 + first] = signed;
            if (block % 3 == 0) {
                x[block * 256 + first + 1 + random.nextInt(55)] = -signed;
            }
            for (int j = 0; j < 256; j++) {
                if (x[block * 256 + j] == 0) {
                    x[block * 256 + j] = nearTie(random.nextInt(253) - 126, Math.abs(iscale));
                }
            }
        }

        Kernels.Rounded rounded = device.kernels.input(device.upload(x), x.length / 3, 3).as(Kernels.Rounding.Q8_K);

        Reference.Q8_K expected = Reference.Q8_K.of(x);
        assertArrayEquals(expected.quants(), device.downloadBytes(rounded.quants(), x.length));
        assertArrayEquals(expected.scales(), device.download(rounded.scales(), x.length / 256));
        assertArrayEquals(expected.sums(), device.downloadShorts(rounded.sums(), x.length / 16));
    }

    /** (k + 1/2) / scale, or the float just below or above it. */
    private float nearTie(int k, float inverseScale) {
        float tie = (k + 0.5f) / inverseScale;
        return switch (random.nextInt(3)) {
            case 0 -> Math.nextDown(tie);
            case 1 -> tie;
            default -> Math.nextUp(tie);
        };
    }

    /**
     * Qwen3's Q/K norms: each head of each token normalized on its own by one weight of the head's length, in place
     * (the rows are [token][head], the kernel's input and output one buffer).
     */
    @ParameterizedTest(name = "{0} tokens of {1} heads of {2}")
    @CsvSource({"1, 16, 128", "7, 4, 16", "3, 2, 64"})
    void rmsNormOfEachHeadInPlaceMatchesReference(int tokens, int heads, int headDim) {
        float[] x = randomFloats(random, tokens * heads * headDim, 3);
        float[] w = randomFloats(random, headDim, 1);
        long buffer = device.upload(x);

        device.kernels.rmsNorm(buffer, device.upload(w), buffer, tokens * heads, headDim, 1e-6f);

        assertBelow(relativeError(device.download(buffer, x.length), Reference.rmsNorm(x, w, tokens * heads, headDim,
                1e-6f)), "rms_norm per head");
    }

    /** Qwen2's Q/K/V biases: one bias row added to every token's row, exactly (one float addition each). */
    @ParameterizedTest(name = "{0} tokens of {1}")
    @CsvSource({"1, 896", "9, 128", "70, 48"})
    void addBiasAddsTheBiasToEveryRow(int tokens, int width) {
        float[] x = randomFloats(random, tokens * width, 4);
        float[] bias = randomFloats(random, width, 1);
        long buffer = device.upload(x);

        device.kernels.addBias(buffer, device.upload(bias), width, x.length);

        float[] expected = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            expected[i] = x[i] + bias[i % width];
        }
        assertArrayEquals(expected, device.download(buffer, x.length));
    }

    @ParameterizedTest(name = "{0} tokens of {1}")
    @CsvSource({"1, 100", "3, 2048", "5, 65"})
    void rmsNormMatchesReference(int tokens, int dim) {
        float[] x = randomFloats(random, tokens * dim, 3);
        float[] w = randomFloats(random, dim, 1);
        long out = device.cl.buffer((long) tokens * dim * Float.BYTES);

        device.kernels.rmsNorm(device.upload(x), device.upload(w), out, tokens, dim, 1e-5f);

        assertBelow(relativeError(device.download(out, tokens * dim), Reference.rmsNorm(x, w, tokens, dim, 1e-5f)),
                "rms_norm");
    }

    /**
     * Angles from the CPU backend's own table code (as the backend computes them), turned on the device: bit for bit
     * the CPU's rotation, and within float error of RoPE's definition. Adjacent pairs and NEOX halves; Llama 3's
     * per-dimension factors; a linear frequency scale; a head of 128 (qwen3); positions up to 1500 (theta
     * ~1500 rad: the float angle's rounding, ~1e-4 rad, bounds the distance to the double definition).
     */
    @ParameterizedTest(name = "{0} tokens from position {4}, {1} heads of {2}, base {3}, neox {5}, scale {6}, factors {7}")
    @CsvSource({"1, 4, 64, 10000, 0, false, 1, false", "7, 3, 64, 10000, 1500, false, 1, false",
            "3, 2, 10, 500000, 17, false, 1, false", "5, 3, 16, 1000000, 40, true, 1, false",
            "2, 2, 128, 1000000, 900, true, 1, false", "4, 3, 16, 500000, 60, false, 1, true",
            "3, 2, 32, 10000, 33, true, 0.25, true"})
    void ropeMatchesTheCpuAndItsDefinition(int tokens, int heads, int headDim, float base, int startPos, boolean neox,
                                           float scale, boolean withFactors) {
        int pairs = headDim / 2;
        float[] factors = withFactors ? randomFloats(random, pairs, 3.5f) : null;
        if (factors != null) {
            for (int i = 0; i < pairs; i++) {
                factors[i] = 4.5f + factors[i]; // 1..8, as Llama 3's
            }
        }
        float[] cos = new float[tokens * pairs];
        float[] sin = new float[tokens * pairs];
        for (int t = 0; t < tokens; t++) {
            ForwardPass.ropeAngles(startPos + t, pairs, base, scale, factors, cos, sin, t * pairs);
        }
        float[] x = randomFloats(random, tokens * heads * headDim, 1);
        long buffer = device.upload(x);

        device.kernels.rope(buffer, device.upload(cos), device.upload(sin), tokens, heads, headDim, neox);

        float[] actual = device.download(buffer, x.length);
        assertArrayEquals(Reference.rope(x, cos, sin, tokens, heads, headDim, neox), actual, "the CPU's rotation");
        double error = relativeError(actual, Reference.rope(x, tokens, heads, headDim, startPos, base, scale, factors, neox));
        assertTrue(error < 1e-4, "rope relative error " + error);
    }

    @Test
    void softmaxNormalizesTheCausalPrefixOfEachRow() {
        int rows = 6;
        int stride = 75;
        int firstLen = 63;
        int rowsPerStep = 2; // rows 0,1 see 63 entries, rows 2,3 see 64, rows 4,5 see 65
        float[] x = randomFloats(random, rows * stride, 20);
        long buffer = device.upload(x);

        device.kernels.softmax(buffer, rows, stride, firstLen, rowsPerStep);

        float[] expected = x.clone();
        for (int r = 0; r < rows; r++) {
            Reference.softmax(expected, r * stride, firstLen + r / rowsPerStep);
        }
        float[] actual = device.download(buffer, x.length);
        assertBelow(relativeError(actual, expected), "softmax");
        for (int r = 0; r < rows; r++) {
            int len = firstLen + r / rowsPerStep;
            for (int i = len; i < stride; i++) {
                assertTrue(actual[r * stride + i] == x[r * stride + i], "entry past the row's length was changed");
            }
        }
    }

    /**
     * Keys and values stored into the cache by store_kv (f32, or fp16 rounded to nearest even as ggml's F16 cache
     * holds them), then attention over it, against the reference over the same values rounded through fp16. Without
     * a window the cache holds the whole context (three positions past the batch too, which must stay unseen); with
     * one, a ring of the window + tokens - 1 positions the batch needs, as the backend keeps for local layers, so
     * that positions wrap around it.
     */
    @ParameterizedTest(name = "{0} tokens at position {4}, {1} heads on {2} kv heads of {3}, fp16 cache {5}, window {6}")
    @CsvSource({"1, 4, 2, 64, 0, false, 0", "1, 32, 4, 64, 37, false, 0", "9, 6, 2, 16, 70, false, 0",
            "5, 3, 3, 8, 0, false, 0", "1, 32, 4, 64, 37, true, 0", "9, 6, 2, 16, 70, true, 0", "5, 3, 3, 8, 0, true, 0",
            "1, 4, 1, 256, 37, false, 8", "9, 6, 2, 16, 70, false, 5", "9, 6, 2, 16, 70, true, 5",
            "12, 4, 2, 32, 0, true, 8", "3, 4, 2, 16, 2, false, 1"})
    void attentionOverTheStoredCacheMatchesReference(int tokens, int heads, int kvHeads, int headDim, int startPos,
                                                    boolean half, int window) {
        int context = startPos + tokens + 3;
        int perToken = kvHeads * headDim;
        int kvValues = context * perToken;
        int ring = window > 0 ? Math.min(context, window + tokens - 1) : context;
        float[] q = randomFloats(random, tokens * heads * headDim, 1);
        float[] k = randomFloats(random, kvValues, 1);
        float[] v = randomFloats(random, kvValues, 1);
        Kernels kernels = half ? device.withHalfKv() : device.kernels;
        long keyCache = device.cl.buffer((long) ring * perToken * (half ? 2 : 4));
        long valueCache = device.cl.buffer((long) ring * perToken * (half ? 2 : 4));
        // the positions before the batch that the ring holds, then the batch's (and without a window the rest), as
        // the backend stores them
        int first = Math.max(0, startPos + tokens - ring);
        int end = window > 0 ? startPos + tokens : context;
        for (int[] range : new int[][] {{first, startPos}, {startPos, end}}) {
            if (range[1] > range[0]) {
                kernels.storeKv(device.upload(Arrays.copyOfRange(k, range[0] * perToken, range[1] * perToken)), keyCache,
                        range[0], range[1] - range[0], perToken, ring);
                kernels.storeKv(device.upload(Arrays.copyOfRange(v, range[0] * perToken, range[1] * perToken)),
                        valueCache, range[0], range[1] - range[0], perToken, ring);
            }
        }
        long scores = device.cl.buffer((long) tokens * heads * context * Float.BYTES);
        long out = device.cl.buffer((long) tokens * heads * headDim * Float.BYTES);

        float scale = (float) (1 / Math.sqrt(headDim));
        kernels.attention(device.upload(q), keyCache, valueCache, scores, out, tokens, heads, kvHeads, headDim, context,
                startPos, scale, window, ring);

        if (half) {
            if (window == 0) {
                assertArrayEquals(Reference.toHalfBits(k), device.downloadShorts(keyCache, kvValues), "keys stored as fp16");
            }
            k = Reference.roundedToHalf(k);
            v = Reference.roundedToHalf(v);
        }
        float[] expected = Reference.attention(q, k, v, tokens, heads, kvHeads, headDim, startPos, scale, window);
        assertBelow(relativeError(device.download(out, expected.length), expected), "attention");
    }

    @Test
    void swigluMatchesReference() {
        float[] gate = randomFloats(random, 1013, 6);
        float[] up = randomFloats(random, 1013, 2);
        long buffer = device.upload(gate);

        device.kernels.swiglu(buffer, device.upload(up), gate.length);

        assertBelow(relativeError(device.download(buffer, gate.length), Reference.swiglu(gate, up)), "swiglu");
    }

    /**
     * Gemma's GELU gate against the CPU's arithmetic: inputs across -12..12 (past both cut-offs) and exactly at them.
     * The device's tanh may differ from the CPU's by a few ulp (OpenCL allows it). Below about -3, where tanh is
     * near -1, 0.5 x (1 + tanh) cancels and that difference shows, but stays a few 1e-7 absolute; elsewhere the
     * rounding of the result to fp16 hides it, so results there are bit for bit the CPU's but for the odd one
     * next to an fp16 tie, one fp16 step (2^-11 relative) away.
     */
    @Test
    void gegluMatchesTheCpusArithmetic() {
        float[] gate = randomFloats(random, 4099, 12);
        gate[0] = -10f;
        gate[1] = 10f;
        gate[2] = 0f;
        float[] up = randomFloats(random, gate.length, 2);
        long buffer = device.upload(gate);

        device.kernels.geglu(buffer, device.upload(up), gate.length);

        float[] actual = device.download(buffer, gate.length);
        float[] expected = Reference.geglu(gate, up);
        int away = 0;
        int differing = 0;
        for (int i = 0; i < gate.length; i++) {
            assertTrue(Math.abs(actual[i] - expected[i]) <= Math.abs(expected[i]) * 0x1p-10 + 1e-6 * Math.abs(up[i]),
                    "geglu(" + gate[i] + ") * " + up[i] + ": " + actual[i] + ", expected " + expected[i]);
            if (gate[i] > -3) {
                away++;
                differing += actual[i] == expected[i] ? 0 : 1;
            }
        }
        assertTrue(differing <= away / 100, differing + " of " + away + " results for inputs above -3 differ");
    }

    @Test
    void addAccumulatesTheResidual() {
        float[] x = randomFloats(random, 999, 4);
        float[] y = randomFloats(random, 999, 4);
        long buffer = device.upload(x);

        device.kernels.add(buffer, device.upload(y), x.length);

        float[] expected = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            expected[i] = x[i] + y[i];
        }
        assertArrayEquals(expected, device.download(buffer, x.length));
    }

    @Test
    void copyKernelCopies() {
        float[] x = randomFloats(random, 4096 + 4, 1);
        long dst = device.cl.buffer((long) x.length * Float.BYTES);

        device.kernels.copy(device.upload(x), dst, (long) x.length * Float.BYTES);

        assertArrayEquals(x, device.download(dst, x.length));
    }

    private static void assertBelow(double error, String what) {
        assertTrue(error < BOUND, what + " relative error " + error + " exceeds " + BOUND);
    }
}
