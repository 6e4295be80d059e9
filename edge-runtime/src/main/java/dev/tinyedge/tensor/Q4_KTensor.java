package dev.tinyedge.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

import static dev.tinyedge.tensor.KQuants.QK_K;

/**
 * Q4_K (ggml block_q4_K, 144 bytes per 256 weights): fp16 d, fp16 dmin, 12 bytes of packed 6-bit
 * scales and mins for eight sub-blocks of 32, then 128 bytes of nibbles. Weight = d·scale·q − dmin·min.
 * The nibbles go by 64 weights: byte l of each 32-byte run holds weight l in its low nibble (sub-block
 * 2j) and weight 32 + l in its high nibble (sub-block 2j + 1).
 */
public final class Q4_KTensor extends FloatTensor {
    static final int BYTES = GgmlType.Q4_K.typeSize;
    private static final int SCALES = 4;
    private static final int QS = 16;

    Q4_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public float getFloat(long index) {
        long block = index / QK_K * BYTES;
        int i = (int) (index % QK_K);
        int chunk = i / 64;
        int l = i % 64;
        int sub = 2 * chunk + l / 32;
        int packed = KQuants.u8(data, block + QS + chunk * 32 + l % 32);
        int q = l < 32 ? packed & 0xF : packed >> 4;
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
            for (int chunk = 0; chunk < 4; chunk++) {
                for (int half = 0; half < 2; half++) {
                    ByteVector packed = BlockVectors.load16(data, block + QS + chunk * 32 + half * 16);
                    int xi = xOffset + i + chunk * 64 + half * 16;
                    acc = BlockVectors.accumulate(packed.and((byte) 0xF),
                            subScale(d, block, 2 * chunk), -subMin(dmin, block, 2 * chunk), x, xi, acc);
                    acc = BlockVectors.accumulate(packed.lanewise(VectorOperators.LSHR, 4),
                            subScale(d, block, 2 * chunk + 1), -subMin(dmin, block, 2 * chunk + 1), x, xi + 32, acc);
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
            for (int chunk = 0; chunk < 4; chunk++) {
                for (int half = 0; half < 2; half++) {
                    ByteVector packed = BlockVectors.load16(data, block + QS + chunk * 32 + half * 16);
                    int o = outOffset + i + chunk * 64 + half * 16;
                    BlockVectors.store(packed.and((byte) 0xF), subScale(d, block, 2 * chunk), -subMin(dmin, block, 2 * chunk), out, o);
                    BlockVectors.store(packed.lanewise(VectorOperators.LSHR, 4),
                            subScale(d, block, 2 * chunk + 1), -subMin(dmin, block, 2 * chunk + 1), out, o + 32);
                }
            }
        }
    }

    /**
     * ggml's quantize_row_q4_K_ref: per sub-block an asymmetric 4-bit fit (make_qkx2_quants weighted by
     * rms + |x|), the eight scales and mins quantized to 6 bits against the super-block's largest, then
     * every weight requantized with the scales as stored.
     */
    public static void quantize(float[] x, int xOffset, int n, ByteBuffer buffer) {
        MemorySegment out = BlockVectors.claim(buffer, (long) n / QK_K * BYTES);
        byte[] L = new byte[QK_K];
        ScaleMinQuantizer header = new ScaleMinQuantizer(15, -1f, 0.1f, 20);
        for (int b = 0; b < n / QK_K; b++) {
            int xb = xOffset + b * QK_K;
            long block = (long) b * BYTES;
            header.quantize(x, xb, L, out, block);
            for (int chunk = 0; chunk < 4; chunk++) {
                for (int l = 0; l < 32; l++) {
                    int lo = L[chunk * 64 + l];
                    int hi = L[chunk * 64 + 32 + l];
                    out.set(ValueLayout.JAVA_BYTE, block + QS + chunk * 32 + l, (byte) (lo | hi << 4));
                }
            }
        }
    }
}
