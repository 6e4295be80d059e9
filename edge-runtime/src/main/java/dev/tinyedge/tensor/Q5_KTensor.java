package dev.tinyedge.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;

import static dev.tinyedge.tensor.KQuants.QK_K;

/**
 * Q5_K (ggml block_q5_K, 176 bytes per 256 weights): Q4_K's header (fp16 d, fp16 dmin, 12 bytes of
 * 6-bit scales and mins), then 32 bytes of fifth bits and 128 bytes of low nibbles laid out like Q4_K.
 * Byte l of the fifth bits holds, for each 64-weight chunk j, weight 64j + l's bit at 2j and weight
 * 64j + 32 + l's bit at 2j + 1.
 */
public final class Q5_KTensor extends FloatTensor {
    static final int BYTES = GgmlType.Q5_K.typeSize;
    private static final int SCALES = 4;
    private static final int QH = 16;
    private static final int QS = 48;

    Q5_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public float getFloat(long index) {
        long block = index / QK_K * BYTES;
        int i = (int) (index % QK_K);
        int chunk = i / 64;
        int l = i % 64;
        int sub = 2 * chunk + l / 32;
        int packed = KQuants.u8(data, block + QS + chunk * 32 + l % 32);
        int high = (KQuants.u8(data, block + QH + l % 32) >> sub) & 1;
        int q = (l < 32 ? packed & 0xF : packed >> 4) | high << 4;
        float d = BlockVectors.f16(data, block) * KQuants.scale6(data, block + SCALES, sub);
        float m = BlockVectors.f16(data, block + 2) * KQuants.min6(data, block + SCALES, sub);
        return d * q - m;
    }

    /** d·scale of sub-block j of the super-block at {@code block}, whose d is given. */
    private float subScale(float d, long block, int j) {
        return d * KQuants.scale6(data, block + SCALES, j);
    }

    /** dmin·min of sub-block j of the super-block at {@code block}, whose dmin is given. */
    private float subMin(float dmin, long block, int j) {
        return dmin * KQuants.min6(data, block + SCALES, j);
    }

    /** Σ w[offset + i]·x[xOffset + i] for i < n; offset and n are multiples of 256. */
    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += QK_K) {
            long block = (offset + i) / QK_K * BYTES;
            float d = BlockVectors.f16(data, block);
            float dmin = BlockVectors.f16(data, block + 2);
            for (int half = 0; half < 2; half++) {
                // chunk j's fifth bits are bits 2j and 2j+1: shift them down to bits 0 and 1 chunk by chunk
                ByteVector highBits = BlockVectors.load16(data, block + QH + half * 16);
                for (int chunk = 0; chunk < 4; chunk++) {
                    ByteVector packed = BlockVectors.load16(data, block + QS + chunk * 32 + half * 16);
                    int xi = xOffset + i + chunk * 64 + half * 16;
                    acc = BlockVectors.accumulate(low(packed, highBits),
                            subScale(d, block, 2 * chunk), -subMin(dmin, block, 2 * chunk), x, xi, acc);
                    acc = BlockVectors.accumulate(high(packed, highBits),
                            subScale(d, block, 2 * chunk + 1), -subMin(dmin, block, 2 * chunk + 1), x, xi + 32, acc);
                    highBits = highBits.lanewise(VectorOperators.LSHR, 2);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i += QK_K) {
            long block = (offset + i) / QK_K * BYTES;
            float d = BlockVectors.f16(data, block);
            float dmin = BlockVectors.f16(data, block + 2);
            for (int half = 0; half < 2; half++) {
                ByteVector highBits = BlockVectors.load16(data, block + QH + half * 16);
                for (int chunk = 0; chunk < 4; chunk++) {
                    ByteVector packed = BlockVectors.load16(data, block + QS + chunk * 32 + half * 16);
                    int o = outOffset + i + chunk * 64 + half * 16;
                    BlockVectors.store(low(packed, highBits), subScale(d, block, 2 * chunk), -subMin(dmin, block, 2 * chunk), out, o);
                    BlockVectors.store(high(packed, highBits),
                            subScale(d, block, 2 * chunk + 1), -subMin(dmin, block, 2 * chunk + 1), out, o + 32);
                    highBits = highBits.lanewise(VectorOperators.LSHR, 2);
                }
            }
        }
    }

    /** The first 32 weights of a chunk: low nibbles, fifth bit from bit 0 of the (shifted) high bits. */
    private static ByteVector low(ByteVector packed, ByteVector highBits) {
        return packed.and((byte) 0xF).or(highBits.and((byte) 1).lanewise(VectorOperators.LSHL, 4));
    }

    /** The last 32 weights of a chunk: high nibbles, fifth bit from bit 1. */
    private static ByteVector high(ByteVector packed, ByteVector highBits) {
        return packed.lanewise(VectorOperators.LSHR, 4).or(highBits.and((byte) 2).lanewise(VectorOperators.LSHL, 3));
    }

    /**
     * ggml's quantize_row_q5_K_ref: Q4_K's procedure with 5-bit quants (make_qkx2_quants over [0, 31]
     * with its Q5_K search range).
     */
    public static void quantize(float[] x, int xOffset, int n, ByteBuffer buffer) {
        MemorySegment out = BlockVectors.claim(buffer, (long) n / QK_K * BYTES);
        byte[] L = new byte[QK_K];
        byte[] highBits = new byte[32];
        ScaleMinQuantizer header = new ScaleMinQuantizer(31, -0.5f, 0.1f, 15);
        for (int b = 0; b < n / QK_K; b++) {
            int xb = xOffset + b * QK_K;
            long block = (long) b * BYTES;
            header.quantize(x, xb, L, out, block);
            Arrays.fill(highBits, (byte) 0);
            for (int chunk = 0; chunk < 4; chunk++) {
                for (int l = 0; l < 32; l++) {
                    int lo = L[chunk * 64 + l];
                    int hi = L[chunk * 64 + 32 + l];
                    highBits[l] |= (byte) ((lo >> 4) << (2 * chunk) | (hi >> 4) << (2 * chunk + 1));
                    out.set(ValueLayout.JAVA_BYTE, block + QS + chunk * 32 + l, (byte) ((lo & 0xF) | (hi & 0xF) << 4));
                }
            }
            MemorySegment.copy(highBits, 0, out, ValueLayout.JAVA_BYTE, block + QH, 32);
        }
    }
}
