package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

import static dev.tinyedge.tensor.Q5_0Tensor.U32;

/**
 * Q5_1 (ggml block_q5_1, 24 bytes per 32 weights): fp16 d, fp16 m, a little-endian u32 of fifth bits
 * (bit j for weight j), 16 bytes of low nibbles laid out like Q4_0. Weight = q·d + m.
 */
public final class Q5_1Tensor extends FloatTensor {
    static final int BLOCK = GgmlType.Q5_1.blockSize;
    static final int BYTES = GgmlType.Q5_1.typeSize;
    private static final int QH = 4;
    private static final int QS = 8;

    Q5_1Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_1;
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK * BYTES;
        int j = (int) (index % BLOCK);
        int packed = KQuants.u8(data, block + QS + j % 16);
        int high = (data.get(U32, block + QH) >>> j) & 1;
        int q = (j < 16 ? packed & 0xF : packed >> 4) | high << 4;
        return q * BlockVectors.f16(data, block) + BlockVectors.f16(data, block + 2);
    }

    /** Σ w[offset + i]·x[xOffset + i] for i < n; offset and n are multiples of 32. */
    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / BLOCK; b++) {
            long block = (offset / BLOCK + b) * BYTES;
            float d = BlockVectors.f16(data, block);
            float m = BlockVectors.f16(data, block + 2);
            FifthBits.Quants q = FifthBits.unpack(data, block + QH, block + QS);
            acc = BlockVectors.accumulate(q.low(), d, m, x, xOffset + b * BLOCK, acc);
            acc = BlockVectors.accumulate(q.high(), d, m, x, xOffset + b * BLOCK + 16, acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i += BLOCK) {
            long block = (offset + i) / BLOCK * BYTES;
            float d = BlockVectors.f16(data, block);
            float m = BlockVectors.f16(data, block + 2);
            FifthBits.Quants q = FifthBits.unpack(data, block + QH, block + QS);
            BlockVectors.store(q.low(), d, m, out, outOffset + i);
            BlockVectors.store(q.high(), d, m, out, outOffset + i + 16);
        }
    }

    /** ggml's quantize_row_q5_1_ref: d = (max − min)/31, m = min, q = round((x − min)/d). */
    public static void quantize(float[] x, int xOffset, int n, ByteBuffer buffer) {
        MemorySegment out = BlockVectors.claim(buffer, (long) n / BLOCK * BYTES);
        for (int b = 0; b < n / BLOCK; b++) {
            int xb = xOffset + b * BLOCK;
            long block = (long) b * BYTES;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < BLOCK; j++) {
                // ggml's comparisons, not Math.min/max: of +0 and −0 they keep the first, and m stores its sign
                if (x[xb + j] < min) {
                    min = x[xb + j];
                }
                if (x[xb + j] > max) {
                    max = x[xb + j];
                }
            }
            float d = (max - min) / 31;
            float id = d != 0 ? 1f / d : 0f;
            BlockVectors.putF16(out, block, d);
            BlockVectors.putF16(out, block + 2, min);
            int highBits = 0;
            for (int j = 0; j < 16; j++) {
                // ggml casts to uint8_t without clamping; (x − min)·id never exceeds 31.5
                int q0 = (int) ((x[xb + j] - min) * id + 0.5f);
                int q1 = (int) ((x[xb + 16 + j] - min) * id + 0.5f);
                out.set(ValueLayout.JAVA_BYTE, block + QS + j, (byte) ((q0 & 0xF) | (q1 & 0xF) << 4));
                highBits |= ((q0 >> 4) & 1) << j | ((q1 >> 4) & 1) << (j + 16);
            }
            out.set(U32, block + QH, highBits);
        }
    }
}
