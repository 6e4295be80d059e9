package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Q5_0 (ggml block_q5_0, 22 bytes per 32 weights): fp16 d, a little-endian u32 of fifth bits (bit j
 * for weight j), 16 bytes of low nibbles laid out like Q4_0. Weight = (q − 16)·d.
 */
public final class Q5_0Tensor extends FloatTensor {
    static final int BLOCK = GgmlType.Q5_0.blockSize;
    static final int BYTES = GgmlType.Q5_0.typeSize;
    private static final int QH = 2;
    private static final int QS = 6;
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    Q5_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_0;
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK * BYTES;
        int j = (int) (index % BLOCK);
        int packed = KQuants.u8(data, block + QS + j % 16);
        int high = (data.get(U32, block + QH) >>> j) & 1;
        int q = (j < 16 ? packed & 0xF : packed >> 4) | high << 4;
        return (q - 16) * BlockVectors.f16(data, block);
    }

    /** Σ w[offset + i]·x[xOffset + i] for i < n; offset and n are multiples of 32. */
    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < n / BLOCK; b++) {
            long block = (offset / BLOCK + b) * BYTES;
            float d = BlockVectors.f16(data, block);
            FifthBits.Quants q = FifthBits.unpack(data, block + QH, block + QS);
            acc = BlockVectors.accumulate(q.low().sub((byte) 16), d, 0f, x, xOffset + b * BLOCK, acc);
            acc = BlockVectors.accumulate(q.high().sub((byte) 16), d, 0f, x, xOffset + b * BLOCK + 16, acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i += BLOCK) {
            long block = (offset + i) / BLOCK * BYTES;
            float d = BlockVectors.f16(data, block);
            FifthBits.Quants q = FifthBits.unpack(data, block + QH, block + QS);
            BlockVectors.store(q.low().sub((byte) 16), d, out, outOffset + i);
            BlockVectors.store(q.high().sub((byte) 16), d, out, outOffset + i + 16);
        }
    }

    /** ggml's quantize_row_q5_0_ref: d = m/−16 for the signed value m of largest magnitude, q = x/d + 16.5 truncated. */
    public static void quantize(float[] x, int xOffset, int n, ByteBuffer buffer) {
        MemorySegment out = BlockVectors.claim(buffer, (long) n / BLOCK * BYTES);
        for (int b = 0; b < n / BLOCK; b++) {
            int xb = xOffset + b * BLOCK;
            long block = (long) b * BYTES;
            float amax = 0;
            float max = 0;
            for (int j = 0; j < BLOCK; j++) {
                if (amax < Math.abs(x[xb + j])) {
                    amax = Math.abs(x[xb + j]);
                    max = x[xb + j];
                }
            }
            float d = max / -16;
            float id = d != 0 ? 1f / d : 0f;
            BlockVectors.putF16(out, block, d);
            int highBits = 0;
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(31, (int) (x[xb + j] * id + 16.5f));
                int q1 = Math.min(31, (int) (x[xb + 16 + j] * id + 16.5f));
                out.set(ValueLayout.JAVA_BYTE, block + QS + j, (byte) ((q0 & 0xF) | (q1 & 0xF) << 4));
                highBits |= (q0 >> 4) << j | (q1 >> 4) << (j + 16);
            }
            out.set(U32, block + QH, highBits);
        }
    }
}
