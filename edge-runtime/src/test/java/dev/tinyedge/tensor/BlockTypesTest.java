package dev.tinyedge.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Dequantization and dot products of the block types against {@link GgmlReference}, on random blocks
 * (random quants and scales, sane fp16 deltas). Run with -Dtinyedge.vector.bits=128 (NEON width) and 256
 * as well as the default.
 */
class BlockTypesTest {

    /** Random bytes with every fp16 scale field replaced by a finite value of either sign. */
    static byte[] randomBlocks(GgmlType type, int blocks, Random random) {
        byte[] bytes = new byte[blocks * type.typeSize];
        random.nextBytes(bytes);
        for (int b = 0; b < blocks; b++) {
            int at = b * type.typeSize;
            switch (type) {
                case Q4_1, Q5_1, Q4_K, Q5_K -> {
                    putHalf(bytes, at, (float) random.nextGaussian() * 0.01f);
                    putHalf(bytes, at + 2, (float) random.nextGaussian() * 0.01f);
                }
                case Q5_0 -> putHalf(bytes, at, (float) random.nextGaussian() * 0.01f);
                case Q6_K -> putHalf(bytes, at + 208, (float) random.nextGaussian() * 0.001f);
                case BF16 -> {
                    int bits = Float.floatToIntBits((float) random.nextGaussian()) >>> 16;
                    bytes[at] = (byte) bits;
                    bytes[at + 1] = (byte) (bits >> 8);
                }
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return bytes;
    }

    static void putHalf(byte[] bytes, int at, float value) {
        short h = Float.floatToFloat16(value);
        bytes[at] = (byte) h;
        bytes[at + 1] = (byte) (h >> 8);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "BF16"})
    void getFloatMatchesGgmlDequantization(GgmlType type) {
        int blocks = type.blockSize == 1 ? 999 : 7;
        byte[] bytes = randomBlocks(type, blocks, new Random(type.id));
        float[] expected = GgmlReference.dequantize(type, bytes);
        FloatTensor tensor = FloatTensor.of(type, MemorySegment.ofArray(bytes), expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], tensor.getFloat(i), type + " element " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "BF16"})
    void dequantizeMatchesGgmlDequantization(GgmlType type) {
        int blocks = type.blockSize == 1 ? 999 : 7;
        byte[] bytes = randomBlocks(type, blocks, new Random(50 + type.id));
        float[] expected = GgmlReference.dequantize(type, bytes);
        FloatTensor tensor = FloatTensor.of(type, MemorySegment.ofArray(bytes), expected.length);
        // a range that starts at the second block and ends one block short, written at an offset
        int from = type.blockSize;
        int n = expected.length - 2 * type.blockSize;
        float[] out = new float[n + 3];
        tensor.dequantize(from, out, 3, n);
        assertArrayEquals(Arrays.copyOfRange(expected, from, from + n), Arrays.copyOfRange(out, 3, n + 3), type.toString());
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "BF16"})
    void dotMatchesDequantizeThenDot(GgmlType type) {
        Random random = new Random(100 + type.id);
        // row lengths in blocks: one block, odd counts, and a run that spans several vector widths
        int[] rowBlocks = type.blockSize == 1 ? new int[] {1, 3, 4, 17, 33, 100, 259} : new int[] {1, 3, 5, 11};
        for (int blocksPerRow : rowBlocks) {
            int n = blocksPerRow * type.blockSize;
            int rows = 3;
            byte[] bytes = randomBlocks(type, rows * blocksPerRow, random);
            float[] weights = GgmlReference.dequantize(type, bytes);
            FloatTensor tensor = FloatTensor.of(type, MemorySegment.ofArray(bytes), weights.length);
            int xOffset = 5; // activations need not start at 0
            float[] x = new float[xOffset + n + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            for (int row = 0; row < rows; row++) {
                double expected = 0;
                double magnitude = 0;
                for (int i = 0; i < n; i++) {
                    expected += (double) weights[row * n + i] * x[xOffset + i];
                    magnitude += Math.abs((double) weights[row * n + i] * x[xOffset + i]);
                }
                float actual = tensor.dot((long) row * n, x, xOffset, n);
                assertEquals(expected, actual, 1e-5 * magnitude + 1e-30, type + " n=" + n + " row " + row);
            }
        }
    }
}
