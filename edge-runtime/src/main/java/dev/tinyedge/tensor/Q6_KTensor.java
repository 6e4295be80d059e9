package dev.tinyedge.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

import static dev.tinyedge.tensor.KQuants.QK_K;

/**
 * Q6_K (ggml block_q6_K, 210 bytes per 256 weights): 128 bytes of low nibbles, 64 bytes of high 2-bit
 * pairs, 16 signed 8-bit scales (one per 16 weights), fp16 d. Weight = d·scale·(q − 32). Each half of
 * 128 weights uses 64 nibble bytes and 32 high bytes: for l < 32, nibble byte l holds weights l (low) and
 * 64 + l (high), byte 32 + l holds 32 + l and 96 + l, and high byte l holds the top bits of l, 32 + l,
 * 64 + l and 96 + l at bits 0, 2, 4 and 6.
 */
public final class Q6_KTensor extends FloatTensor {
    static final int BYTES = GgmlType.Q6_K.typeSize;
    private static final int QH = 128;
    private static final int SCALES = 192;
    private static final int D = 208;

    Q6_KTensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public float getFloat(long index) {
        long block = index / QK_K * BYTES;
        int i = (int) (index % QK_K);
        int half = i / 128;
        int quarter = i % 128 / 32;
        int l = i % 32;
        int nibbles = KQuants.u8(data, block + half * 64 + (quarter & 1) * 32 + l);
        int low = quarter < 2 ? nibbles & 0xF : nibbles >> 4;
        int high = (KQuants.u8(data, block + QH + half * 32 + l) >> (2 * quarter)) & 3;
        int scale = data.get(ValueLayout.JAVA_BYTE, block + SCALES + i / 16);
        return BlockVectors.f16(data, block + D) * scale * ((low | high << 4) - 32);
    }

    /** Σ w[offset + i]·x[xOffset + i] for i < n; offset and n are multiples of 256. */
    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        return F.length() >= 8 ? dotInIntLanes(offset, x, xOffset, n) : dotInByteLanes(offset, x, xOffset, n);
    }

    /**
     * The dot product with the quants unpacked in byte lanes, 16 weights per step: for 128-bit vectors, where
     * NEON shifts bytes natively.
     */
    private float dotInByteLanes(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += QK_K) {
            long block = (offset + i) / QK_K * BYTES;
            float d = BlockVectors.f16(data, block + D);
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l += 16) {
                    ByteVector a = BlockVectors.load16(data, block + half * 64 + l);
                    ByteVector b = BlockVectors.load16(data, block + half * 64 + 32 + l);
                    ByteVector h = BlockVectors.load16(data, block + QH + half * 32 + l);
                    long s = block + SCALES + half * 8 + l / 16;
                    int xi = xOffset + i + half * 128 + l;
                    // the quants are stored plus 32: fold the −32 into the bias rather than subtract per lane
                    float s0 = scale(d, s);
                    float s1 = scale(d, s + 2);
                    float s2 = scale(d, s + 4);
                    float s3 = scale(d, s + 6);
                    acc = BlockVectors.accumulate(quarter0(a, h), s0, -32 * s0, x, xi, acc);
                    acc = BlockVectors.accumulate(quarter1(b, h), s1, -32 * s1, x, xi + 32, acc);
                    acc = BlockVectors.accumulate(quarter2(a, h), s2, -32 * s2, x, xi + 64, acc);
                    acc = BlockVectors.accumulate(quarter3(b, h), s3, -32 * s3, x, xi + 96, acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * The same arithmetic with the quants unpacked in int lanes, one float vector of weights per step: x86
     * has no byte shifts, and the Vector API's emulation of them made this type's dot product (the output
     * head of llama.cpp's Q4_0 and Q4_K_M files, 6% of the weights) take a third of a decoded token. The four
     * quarters are a loop, not four copies: written out, the body was more than C2 inlines into one method
     * (NodeCountInliningCutoff) and fell back to boxed vectors.
     */
    private float dotInIntLanes(long offset, float[] x, int xOffset, int n) {
        int lanes = F.length();
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += QK_K) {
            long block = (offset + i) / QK_K * BYTES;
            float d = BlockVectors.f16(data, block + D);
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l += lanes) {
                    IntVector h = BlockVectors.loadUnsigned(data, block + QH + half * 32 + l);
                    for (int quarter = 0; quarter < 4; quarter++) {
                        // weight 32·quarter + l: the low (quarters 0, 1) or high (2, 3) nibble of byte l or
                        // 32 + l, and bits 2·quarter, 2·quarter+1 of h as bits 4-5
                        IntVector nibbles = BlockVectors.loadUnsigned(data, block + half * 64 + (quarter & 1) * 32 + l);
                        IntVector q = nibbles.lanewise(VectorOperators.LSHR, (quarter >> 1) * 4).and(0xF)
                                .or(h.lanewise(VectorOperators.LSHR, 2 * quarter).and(3).lanewise(VectorOperators.LSHL, 4));
                        float scale = scale(d, block + SCALES + half * 8 + l / 16 + 2 * quarter);
                        acc = BlockVectors.accumulate(q, scale, -32 * scale, x, xOffset + i + half * 128 + quarter * 32 + l, acc);
                    }
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** d·scale of the group of 16 weights whose signed 8-bit scale is at {@code at}. */
    private float scale(float d, long at) {
        return d * data.get(ValueLayout.JAVA_BYTE, at);
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i += QK_K) {
            long block = (offset + i) / QK_K * BYTES;
            float d = BlockVectors.f16(data, block + D);
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l += 16) {
                    ByteVector a = BlockVectors.load16(data, block + half * 64 + l);
                    ByteVector b = BlockVectors.load16(data, block + half * 64 + 32 + l);
                    ByteVector h = BlockVectors.load16(data, block + QH + half * 32 + l);
                    long s = block + SCALES + half * 8 + l / 16;
                    int o = outOffset + i + half * 128 + l;
                    // (q − 32)·(d·scale), rounded as ggml rounds it
                    BlockVectors.store(quarter0(a, h).sub((byte) 32), scale(d, s), out, o);
                    BlockVectors.store(quarter1(b, h).sub((byte) 32), scale(d, s + 2), out, o + 32);
                    BlockVectors.store(quarter2(a, h).sub((byte) 32), scale(d, s + 4), out, o + 64);
                    BlockVectors.store(quarter3(b, h).sub((byte) 32), scale(d, s + 6), out, o + 96);
                }
            }
        }
    }

    // Weights l, 32 + l, 64 + l, 96 + l of a half, as stored (0..63): a low or high nibble of byte a (l) or
    // b (32 + l), and bits 0-1, 2-3, 4-5 or 6-7 of h moved to bits 4-5.
    private static ByteVector quarter0(ByteVector a, ByteVector h) {
        return a.and((byte) 0xF).or(h.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30));
    }

    private static ByteVector quarter1(ByteVector b, ByteVector h) {
        return b.and((byte) 0xF).or(h.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30));
    }

    private static ByteVector quarter2(ByteVector a, ByteVector h) {
        return a.lanewise(VectorOperators.LSHR, 4).or(h.and((byte) 0x30));
    }

    private static ByteVector quarter3(ByteVector b, ByteVector h) {
        return b.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30));
    }

    /**
     * ggml's quantize_row_q6_K_ref: a symmetric 6-bit fit per 16 weights (make_qx_quants), the sixteen
     * scales quantized to 8 bits against the one of largest magnitude (mapped to −128), then every weight
     * requantized with the scales as stored.
     */
    public static void quantize(float[] x, int xOffset, int n, ByteBuffer buffer) {
        MemorySegment out = BlockVectors.claim(buffer, (long) n / QK_K * BYTES);
        byte[] L = new byte[QK_K];
        float[] scales = new float[16];
        byte[] storedScales = new byte[16];
        for (int b = 0; b < n / QK_K; b++) {
            int xb = xOffset + b * QK_K;
            long block = (long) b * BYTES;
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < 16; ib++) {
                scales[ib] = KQuants.makeQxQuants(16, 32, x, xb + 16 * ib, L, 16 * ib);
                if (Math.abs(scales[ib]) > maxAbsScale) {
                    maxAbsScale = Math.abs(scales[ib]);
                    maxScale = scales[ib];
                }
            }
            if (maxAbsScale < KQuants.GROUP_MAX_EPS) {
                out.asSlice(block, BYTES).fill((byte) 0);
                continue;
            }
            float iscale = -128f / maxScale;
            BlockVectors.putF16(out, block + D, 1 / iscale);
            for (int ib = 0; ib < 16; ib++) {
                storedScales[ib] = (byte) Math.min(127, KQuants.nearestInt(iscale * scales[ib]));
            }
            MemorySegment.copy(storedScales, 0, out, ValueLayout.JAVA_BYTE, block + SCALES, 16);

            float d = BlockVectors.f16(out, block + D);
            for (int j = 0; j < 16; j++) {
                float dj = d * storedScales[j];
                if (dj == 0) {
                    continue; // ggml keeps make_qx_quants' quants for a group whose scale rounds to zero
                }
                for (int i = 0; i < 16; i++) {
                    L[16 * j + i] = (byte) (KQuants.clamp(KQuants.nearestInt(x[xb + 16 * j + i] / dj), -32, 31) + 32);
                }
            }
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l++) {
                    int q1 = L[half * 128 + l];
                    int q2 = L[half * 128 + 32 + l];
                    int q3 = L[half * 128 + 64 + l];
                    int q4 = L[half * 128 + 96 + l];
                    out.set(ValueLayout.JAVA_BYTE, block + half * 64 + l, (byte) ((q1 & 0xF) | (q3 & 0xF) << 4));
                    out.set(ValueLayout.JAVA_BYTE, block + half * 64 + 32 + l, (byte) ((q2 & 0xF) | (q4 & 0xF) << 4));
                    out.set(ValueLayout.JAVA_BYTE, block + QH + half * 32 + l,
                            (byte) (q1 >> 4 | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6));
                }
            }
        }
    }
}
