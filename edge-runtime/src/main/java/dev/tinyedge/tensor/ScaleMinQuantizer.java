package dev.tinyedge.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The half of ggml's quantize_row_q4_K_ref / quantize_row_q5_K_ref that the two formats share: their
 * 16-byte super-block header (fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins) and the quants
 * recomputed against the scales as stored. Per sub-block of 32 it fits x ≈ scale·q − min with
 * make_qkx2_quants weighted by rms + |x|, quantizes the eight scales and mins to 6 bits against the
 * largest, and requantizes every weight. Holds scratch arrays: one instance per thread.
 */
final class ScaleMinQuantizer {
    private final int nmax;
    private final float rmin;
    private final float rdelta;
    private final int nstep;

    private final byte[] laux = new byte[32];
    private final float[] weights = new float[32];
    private final float[] scales = new float[8];
    private final float[] mins = new float[8];
    private final int[] ls = new int[8];
    private final int[] lm = new int[8];
    private final byte[] packed = new byte[12];

    /** nmax 15 for Q4_K, 31 for Q5_K; rmin, rdelta, nstep: the scale search each format uses. */
    ScaleMinQuantizer(int nmax, float rmin, float rdelta, int nstep) {
        this.nmax = nmax;
        this.rmin = rmin;
        this.rdelta = rdelta;
        this.nstep = nstep;
    }

    /** Writes the header of the super-block x[xb..xb+256) at out[block..block+16) and its quants into L. */
    void quantize(float[] x, int xb, byte[] L, MemorySegment out, long block) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) {
                sumX2 += x[xb + 32 * j + l] * x[xb + 32 * j + l];
            }
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) {
                weights[l] = avX + Math.abs(x[xb + 32 * j + l]);
            }
            scales[j] = KQuants.makeQkx2Quants(32, nmax, x, xb + 32 * j, weights, L, 32 * j, mins, j, laux, rmin, rdelta, nstep);
            if (scales[j] > maxScale) {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin) {
                maxMin = mins[j];
            }
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++) {
            // ggml stores nearest_int into a uint8_t before clamping: keep the same wrap-around
            ls[j] = Math.min(63, KQuants.nearestInt(invScale * scales[j]) & 0xFF);
            lm[j] = Math.min(63, KQuants.nearestInt(invMin * mins[j]) & 0xFF);
        }
        KQuants.packScalesAndMins(ls, lm, packed);
        BlockVectors.putF16(out, block, maxScale / 63f);
        BlockVectors.putF16(out, block + 2, maxMin / 63f);
        MemorySegment.copy(packed, 0, out, ValueLayout.JAVA_BYTE, block + 4, packed.length);

        float d = BlockVectors.f16(out, block);
        float dmin = BlockVectors.f16(out, block + 2);
        for (int j = 0; j < 8; j++) {
            float dj = d * ls[j];
            if (dj == 0) {
                continue; // ggml keeps make_qkx2_quants' quants for a sub-block whose scale rounds to zero
            }
            float mj = dmin * lm[j];
            for (int i = 0; i < 32; i++) {
                L[32 * j + i] = (byte) KQuants.clamp(KQuants.nearestInt((x[xb + 32 * j + i] + mj) / dj), 0, nmax);
            }
        }
    }
}
