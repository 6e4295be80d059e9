package dev.tinyedge.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Quantize → dequantize (with {@link GgmlReference}) stays within each format's error. */
class ReferenceQuantizersTest {

    static byte[] quantize(GgmlType type, float[] x) {
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(type.byteSize(x.length))).order(ByteOrder.LITTLE_ENDIAN);
        FloatTensor.encode(type, x, 0, x.length, out);
        assertEquals(out.capacity(), out.position(), "bytes written");
        return out.array();
    }

    /** Gaussian weights, with every fifth block shifted off zero and every seventh carrying an outlier. */
    static float[] weightLike(int n, Random random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian() * 0.02f;
        }
        for (int b = 0; b < n / 32; b++) {
            if (b % 5 == 0) {
                for (int i = 0; i < 32; i++) {
                    x[b * 32 + i] += 0.05f;
                }
            }
            if (b % 7 == 0) {
                x[b * 32 + random.nextInt(32)] *= 10;
            }
        }
        return x;
    }

    /**
     * Root-mean-square error over rms of the data on {@link #weightLike} data. The bound is the step a
     * format's bits give on Gaussian data (range/2^bits·1/√12 per weight) with room for outliers; a
     * layout or scale mistake lands far above it.
     */
    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "BF16"})
    void roundTripErrorIsWithinTheFormatsPrecision(GgmlType type) {
        float[] x = weightLike(256 * 16, new Random(7));
        float[] y = GgmlReference.dequantize(type, quantize(type, x));
        double err = 0;
        double sig = 0;
        for (int i = 0; i < x.length; i++) {
            err += (x[i] - y[i]) * (double) (x[i] - y[i]);
            sig += x[i] * (double) x[i];
        }
        double relative = Math.sqrt(err / sig);
        double bound = switch (type) {
            case Q4_1 -> 0.10;
            case Q4_K -> 0.09;
            case Q5_0 -> 0.08; // symmetric: blocks shifted off zero cost it a bit
            case Q5_1, Q5_K -> 0.05;
            case Q6_K -> 0.03;
            case BF16 -> 0.003;
            default -> throw new IllegalArgumentException(type.toString());
        };
        assertTrue(relative < bound, type + " relative rms error " + relative);
    }

    /** The per-weight bound the simple formats guarantee: half a step, plus fp16 rounding of d and m. */
    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_1"})
    void minMaxFormatsRoundEachWeightToTheNearestStep(GgmlType type) {
        float[] x = weightLike(32 * 64, new Random(11));
        float[] y = GgmlReference.dequantize(type, quantize(type, x));
        int levels = type == GgmlType.Q4_1 ? 15 : 31;
        for (int b = 0; b < x.length / 32; b++) {
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int i = 0; i < 32; i++) {
                min = Math.min(min, x[b * 32 + i]);
                max = Math.max(max, x[b * 32 + i]);
            }
            double step = (max - min) / levels;
            double bound = 0.5 * step + (levels * step + Math.abs(min)) * 0x1p-11 + 1e-9;
            for (int i = b * 32; i < b * 32 + 32; i++) {
                assertEquals(x[i], y[i], bound, type + " weight " + i);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "BF16"})
    void zerosStayZero(GgmlType type) {
        float[] y = GgmlReference.dequantize(type, quantize(type, new float[512]));
        assertArrayEquals(new float[512], y, 0f);
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaN() {
        assertEquals((short) 0x3f80, BF16Tensor.fromFloat(1f));
        // 1 + 2^-8 is halfway between bf16 1 and 1 + 2^-7: ties go to the even mantissa (1)
        assertEquals((short) 0x3f80, BF16Tensor.fromFloat(Float.intBitsToFloat(0x3f808000)));
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to the even one (1 + 2^-6)
        assertEquals((short) 0x3f82, BF16Tensor.fromFloat(Float.intBitsToFloat(0x3f818000)));
        assertEquals((short) 0x3f81, BF16Tensor.fromFloat(Float.intBitsToFloat(0x3f808001)));
        assertTrue(Float.isNaN(BF16Tensor.toFloat(BF16Tensor.fromFloat(Float.intBitsToFloat(0x7f800001)))));
    }
}
