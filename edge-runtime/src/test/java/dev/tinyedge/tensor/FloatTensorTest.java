package dev.tinyedge.tensor;

import dev.tinyedge.kernels.JavaKernels;
import dev.tinyedge.kernels.Products;
import dev.tinyedge.reference.ScalarForward;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tensor types against the block layouts decoded by hand, and the vectorized kernels against plain
 * double-precision loops. Run with -Dtinyedge.vector.bits=128 (NEON width) and 256 as well as the default.
 */
class FloatTensorTest {
    enum Type { F32, F16, Q8_0, Q4_0 }

    private static GgmlType ggml(Type t) {
        return GgmlType.valueOf(t.name());
    }

    static float[] randomFloats(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    static FloatTensor encode(GgmlType type, float[] x) {
        ByteBuffer buffer = ByteBuffer.allocate((int) type.byteSize(x.length)).order(ByteOrder.LITTLE_ENDIAN);
        FloatTensor.encode(type, x, 0, x.length, buffer);
        assertEquals(buffer.capacity(), buffer.position(), "encoder wrote the whole tensor");
        return FloatTensor.of(type, MemorySegment.ofBuffer(buffer.flip()), x.length);
    }

    /** Decodes element i of the encoded bytes with the layouts of ggml-common.h, independently of the tensor classes. */
    static float decodeByHand(GgmlType type, ByteBuffer bytes, int i) {
        return switch (type) {
            case F32 -> bytes.getFloat(4 * i);
            case F16 -> Float.float16ToFloat(bytes.getShort(2 * i));
            case Q8_0 -> {
                int block = i / 32;
                float d = Float.float16ToFloat(bytes.getShort(34 * block));
                yield bytes.get(34 * block + 2 + i % 32) * d;
            }
            case Q4_0 -> {
                int block = i / 32;
                int j = i % 32;
                float d = Float.float16ToFloat(bytes.getShort(18 * block));
                int packed = bytes.get(18 * block + 2 + j % 16) & 0xff;
                int q = j < 16 ? packed & 0x0f : packed >> 4;
                yield (q - 8) * d;
            }
            default -> throw new AssertionError(type);
        };
    }

    @ParameterizedTest
    @EnumSource(Type.class)
    void elementsDecodeAsTheBlockLayoutSays(Type t) {
        GgmlType type = ggml(t);
        float[] x = randomFloats(32 * 7, 1);
        FloatTensor tensor = encode(type, x);
        ByteBuffer bytes = ByteBuffer.allocate((int) type.byteSize(x.length)).order(ByteOrder.LITTLE_ENDIAN);
        FloatTensor.encode(type, x, 0, x.length, bytes);
        float[] dequantized = new float[x.length + 3];
        tensor.dequantize(32, dequantized, 3, x.length - 64);
        for (int i = 0; i < x.length; i++) {
            float expected = decodeByHand(type, bytes, i);
            assertEquals(expected, tensor.getFloat(i), 0f, "getFloat " + i);
            if (i >= 32 && i < x.length - 32) {
                assertEquals(expected, dequantized[3 + i - 32], 0f, "dequantize " + i);
            }
            // the reference quantizers keep each value within half a step plus the fp16 rounding of the scale
            // (2^-11 relative, times at most 127 steps); Q4_0 clamps at +8 steps, one whole step off
            if (type == GgmlType.F32) {
                assertEquals(x[i], expected, 0f);
            } else if (type == GgmlType.F16) {
                assertEquals(x[i], expected, Math.abs(x[i]) / 1024);
            } else if (type == GgmlType.Q8_0) {
                assertEquals(x[i], expected, maxAbs(x, i / 32 * 32) / 127 * (0.5f + 127f / 2048));
            } else {
                assertTrue(Math.abs(x[i] - expected) <= maxAbs(x, i / 32 * 32) / 8 * 1.01f + 1e-6f, "q4_0 error at " + i);
            }
        }
    }

    private static float maxAbs(float[] x, int from) {
        float m = 0;
        for (int i = from; i < from + 32; i++) {
            m = Math.max(m, Math.abs(x[i]));
        }
        return m;
    }

    @Test
    void q4_0MatchesGgmlOnAHandComputedBlock() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = j - 16; // largest magnitude -16, so d = -16 / -8 = 2 and q = min(15, (int) (v / 2 + 8.5))
        }
        ByteBuffer out = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        Q4_0Tensor.quantize(x, 0, 32, out);
        assertEquals(2.0f, Float.float16ToFloat(out.getShort(0)));
        assertEquals(0x80, out.get(2) & 0xff, "element 0 (-16) -> 0, element 16 (0) -> 8");
        assertEquals(0x91, out.get(3) & 0xff, "element 1 (-15 -> 1.0) -> 1, element 17 (1 -> 9.0) -> 9");
        assertEquals(0xf8, out.get(17) & 0xff, "element 15 (-1 -> 8.0) -> 8, element 31 (15 -> 16.0) clamps to 15");
    }

    @Test
    void q8_0RoundsHalvesAwayFromZeroLikeRoundf() {
        float[] x = new float[32];
        x[0] = 127; // amax 127: d = 1
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = -0.49f;
        ByteBuffer out = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        Q8_0Tensor.quantize(x, 0, 32, out);
        assertEquals(1.0f, Float.float16ToFloat(out.getShort(0)));
        assertEquals(127, out.get(2));
        assertEquals(3, out.get(3));
        assertEquals(-3, out.get(4));
        assertEquals(0, out.get(5));
    }

    @Test
    void halfToFloatVectorConversionIsExactForEveryHalf() {
        VectorSpecies<Integer> ints = IntVector.SPECIES_PREFERRED;
        int[] halves = new int[ints.length()];
        float[] converted = new float[ints.length()];
        for (int base = 0; base < 65536; base += ints.length()) {
            for (int j = 0; j < halves.length; j++) {
                halves[j] = (short) (base + j); // sign-extended, as the F16 kernel loads them
            }
            Float16.toFloat(IntVector.fromArray(ints, halves, 0)).intoArray(converted, 0);
            for (int j = 0; j < halves.length; j++) {
                float expected = Float.float16ToFloat((short) halves[j]);
                if (Float.isNaN(expected)) {
                    assertTrue(Float.isNaN(converted[j]), "NaN half " + Integer.toHexString(base + j));
                } else {
                    assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(converted[j]),
                            "half " + Integer.toHexString(base + j));
                }
            }
        }
    }

    /** Plain double-precision dot product over getFloat. */
    private static double referenceDot(FloatTensor w, long offset, float[] x, int xOffset, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) w.getFloat(offset + i) * x[xOffset + i];
        }
        return sum;
    }

    private static double magnitude(FloatTensor w, long offset, float[] x, int xOffset, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.abs((double) w.getFloat(offset + i) * x[xOffset + i]);
        }
        return sum;
    }

    @ParameterizedTest
    @EnumSource(Type.class)
    void dotMatchesThePlainLoopOnAwkwardSizes(Type t) {
        GgmlType type = ggml(t);
        float[] weights = randomFloats(32 * 200, 2);
        FloatTensor w = encode(type, weights);
        float[] x = randomFloats(32 * 200, 3);
        int[] sizes = type.isQuantized() ? new int[] {32, 64, 96, 160, 32 * 129} : new int[] {1, 3, 7, 17, 31, 33, 100, 1001};
        for (int n : sizes) {
            for (long offset : new long[] {0, 32, 32L * 37}) {
                int xOffset = type.isQuantized() ? 5 : 3;
                double expected = referenceDot(w, offset, x, xOffset, n);
                // float accumulation in a different order: relative to the sum of magnitudes
                double tolerance = 1e-6 * magnitude(w, offset, x, xOffset, n) + 1e-6;
                assertEquals(expected, w.dot(offset, x, xOffset, n), tolerance, type + " n=" + n + " offset=" + offset);
            }
        }
    }

    /**
     * Products of the Vector API kernels ({@link JavaKernels}): Q4_0 and Q8_0 weights take the input rounded to Q8_0 (as
     * llama.cpp does), single vectors with the integer kernels and batches with the transposed float kernel;
     * the reference rounds as llama.cpp's vectorized quantizer does and multiplies in double precision.
     * 21 rows split at 11, as two threads would split them, give whole tiles of eight rows and partial
     * ones; the batches give one vector of tokens, pairs, and a pair with a partial vector at every width.
     * One input serves batches of different sizes in turn, as in a forward pass.
     */
    @ParameterizedTest
    @EnumSource(Type.class)
    void matmulOfMatmulInputMatchesTheReference(Type t) {
        GgmlType type = ggml(t);
        int rows = 21;
        int outOffset = 3;
        for (int cols : new int[] {32, 96, 160}) {
            FloatTensor w = encode(type, randomFloats(rows * cols, 40 + cols));
            Products products = new Products(JavaKernels.INSTANCE, 40, cols);
            for (int batch : new int[] {1, 2, 5, 40, 9, 1, 17}) {
                float[] x = randomFloats(batch * cols, 50 + batch);
                float[] out = new float[outOffset + batch * rows];
                products.multiply(w, x, batch, cols, out, outOffset, rows, 11);
                for (int b = 0; b < batch; b++) {
                    double[] xb = new double[cols];
                    for (int i = 0; i < cols; i++) {
                        xb[i] = x[b * cols + i];
                    }
                    if (type == GgmlType.Q4_0 || type == GgmlType.Q8_0) {
                        xb = ScalarForward.roundToQ8_0(xb);
                    }
                    for (int r = 0; r < rows; r++) {
                        double expected = 0;
                        double magnitude = 0;
                        for (int i = 0; i < cols; i++) {
                            expected += w.getFloat((long) r * cols + i) * xb[i];
                            magnitude += Math.abs(w.getFloat((long) r * cols + i) * xb[i]);
                        }
                        assertEquals(expected, out[outOffset + b * rows + r], 1e-6 * magnitude + 1e-6,
                                type + " cols=" + cols + " batch=" + batch + " b=" + b + " r=" + r);
                    }
                }
                for (int i = 0; i < outOffset; i++) {
                    assertEquals(0f, out[i], "nothing written before outOffset");
                }
            }
        }
    }

    /** A single vector's Q8_0 rounding sends halves to the even quant, as llama.cpp's vectorized quantizer does. */
    @Test
    void singleVectorRoundingSendsHalvesToEven() {
        float[] x = new float[32];
        x[0] = 127; // the scale is then 1, and the quants are the values rounded
        float[] halves = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 125.5f, -126.5f, 0.49999997f, 2.5000002f};
        System.arraycopy(halves, 0, x, 1, halves.length);
        MatmulInput input = new MatmulInput(1, 32);
        input.set(x, 1, 32);
        for (int j = 0; j < 32; j++) {
            float actual = input.quants[MatmulInput.BLOCK_ORDER ? j : MatmulInput.interleaved(j)] * input.scales[0];
            assertEquals((float) Math.rint(x[j]), actual, 0f, "element " + j + " = " + x[j]); // -0 and 0 multiply alike
        }
    }

    @Test
    void vectorWidthIsThePreferredOneUnlessOverridden() {
        int requested = Integer.getInteger("tinyedge.vector.bits", 0);
        int expected = requested > 0 ? requested : Math.clamp(FloatVector.SPECIES_PREFERRED.vectorBitSize(), 128, 512);
        assertEquals(expected, Simd.vectorBits());
    }

    @Test
    void simdKernelsMatchPlainLoops() {
        float[] a = randomFloats(203, 8);
        float[] b = randomFloats(203, 9);
        float[] c = randomFloats(1 + 3 * 200 + 203, 10);
        for (int n : new int[] {0, 1, 5, 16, 17, 64, 190}) {
            double expected = 0;
            for (int i = 0; i < n; i++) {
                expected += (double) a[2 + i] * b[11 + i];
            }
            assertEquals(expected, Simd.dot(a, 2, b, 11, n), 1e-5);
            float[] y = b.clone();
            Simd.axpy(0.5f, a, 2, y, 11, n);
            for (int i = 0; i < b.length; i++) {
                float want = i >= 11 && i < 11 + n ? b[i] + 0.5f * a[2 + i - 11] : b[i];
                assertEquals(want, y[i], 1e-6f);
            }
        }
    }
}
