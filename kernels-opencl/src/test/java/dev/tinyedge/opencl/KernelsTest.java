package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.tinyedge.opencl.TestDevice.randomFloats;
import static dev.tinyedge.opencl.TestDevice.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kernel against {@link Reference} on random inputs. Sizes are chosen awkward on purpose: row
 * counts and lengths that are not multiples of the work-group size (64) or of the matrix-matrix tile
 * (8 tokens), fewer rows than one work-group, and single-block rows. Bound: relative error 1e-5, a few float32
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
     * The one-token products with a work-group per row (the GPU split): rows of fewer blocks or 4-element
     * groups than the work-group has work-items, rows of more (several strides, the last one partial), F32/F16
     * rows with 1-3 elements past the last group of 4, and a single-block row.
     */
    @ParameterizedTest(name = "{0} [{1}][{2}], a work-group per row")
    @CsvSource({
            "F32, 37, 100", "F32, 70, 1001", "F32, 5, 7",
            "F16, 37, 102", "F16, 70, 1003", "F16, 5, 3",
            "Q8_0, 37, 224", "Q8_0, 70, 4192", "Q8_0, 3, 32",
            "Q4_0, 37, 224", "Q4_0, 70, 4192", "Q4_0, 3, 32",
    })
    void matVecWithAWorkGroupPerRowMatchesScalarReference(GgmlType type, int rows, int cols) {
        byte[] w = TestDevice.randomTensor(random, type, rows, cols);
        float[] x = randomFloats(random, cols, 1);
        DeviceMatrix matrix = device.uploadMatrix(type, w, rows, cols);
        long y = device.cl.buffer((long) rows * Float.BYTES);

        device.rowPerGroupKernels.matmul(matrix, device.upload(x), y, 1);

        float[] expected = Reference.matmul(type, w, rows, cols, x, 1);
        assertBelow(relativeError(device.download(y, rows), expected), type + " matmul, a work-group per row");
    }

    /**
     * Bit for bit what the CPU computes. Most values are put next to a rounding tie: x = (k + 1/2) / id, with id
     * the reciprocal of the block's scale as the CPU computes it, nudged by an ulp or not, so that a scale or
     * reciprocal one ulp off (a device's inexact division) sends some of them to the other integer. Blocks of
     * magnitudes from 1e-4 to 1e4, and one block of zeros (scale 0).
     */
    @Test
    void roundingToQ8_0IsBitExact() {
        float[] x = new float[256 * 32];
        for (int block = 1; block < 256; block++) {
            float amax = (1 + random.nextFloat()) * (float) Math.pow(10, random.nextInt(9) - 4);
            float id = 1 / (amax / 127);
            x[block * 32] = amax;
            for (int j = 1; j < 32; j++) {
                float nearTie = (random.nextInt(253) - 126 + 0.5f) / id;
                x[block * 32 + j] = switch (random.nextInt(3)) {
                    case 0 -> Math.nextDown(nearTie);
                    case 1 -> nearTie;
                    default -> Math.nextUp(nearTie);
                };
            }
        }

        long rounded = device.kernels.roundedToQ8_0(device.upload(x), x.length);

        assertArrayEquals(Reference.roundedToQ8_0(x), device.download(rounded, x.length));
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

    @ParameterizedTest(name = "{0} tokens from position {5}, {1} heads of {2}, rotating {3}")
    @CsvSource({"1, 4, 64, 64, 10000, 0", "7, 3, 64, 64, 10000, 1500", "3, 2, 10, 6, 500000, 17"})
    void ropeMatchesReference(int tokens, int heads, int headDim, int nRot, float base, int startPos) {
        float[] x = randomFloats(random, tokens * heads * headDim, 1);
        long buffer = device.upload(x);

        device.kernels.rope(buffer, tokens, heads, headDim, nRot, startPos, base);

        float[] expected = Reference.rope(x, tokens, heads, headDim, nRot, startPos, base);
        // theta reaches ~1500 rad: float32's pow and the angle's rounding (~1e-4 rad) bound the error here
        double error = relativeError(device.download(buffer, x.length), expected);
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

    @ParameterizedTest(name = "{0} tokens at position {4}, {1} heads on {2} kv heads of {3}")
    @CsvSource({"1, 4, 2, 64, 0", "1, 32, 4, 64, 37", "9, 6, 2, 16, 70", "5, 3, 3, 8, 0"})
    void attentionMatchesReference(int tokens, int heads, int kvHeads, int headDim, int startPos) {
        int context = startPos + tokens + 3;
        float[] q = randomFloats(random, tokens * heads * headDim, 1);
        float[] k = randomFloats(random, context * kvHeads * headDim, 1);
        float[] v = randomFloats(random, context * kvHeads * headDim, 1);
        long scores = device.cl.buffer((long) tokens * heads * context * Float.BYTES);
        long out = device.cl.buffer((long) tokens * heads * headDim * Float.BYTES);

        device.kernels.attention(device.upload(q), device.upload(k), device.upload(v), scores, out, tokens, heads,
                kvHeads, headDim, context, startPos);

        float[] expected = Reference.attention(q, k, v, tokens, heads, kvHeads, headDim, startPos);
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

    private static void assertBelow(double error, String what) {
        assertTrue(error < BOUND, what + " relative error " + error + " exceeds " + BOUND);
    }
}
