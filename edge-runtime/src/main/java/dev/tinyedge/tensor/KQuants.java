package dev.tinyedge.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The pieces ggml's K-quant reference quantizers share (ggml-quants.c: nearest_int, make_qx_quants,
 * make_qkx2_quants, get_scale_min_k4). They are written step for step in the same float arithmetic, so
 * files written here carry the same bytes llama.cpp's {@code quantize_row_*_ref} would write.
 */
final class KQuants {
    /** Elements per super-block. */
    static final int QK_K = GgmlType.Q4_K.blockSize;
    /** Below this largest magnitude a group counts as all zero (ggml's GROUP_MAX_EPS). */
    static final float GROUP_MAX_EPS = 1e-15f;

    private KQuants() {
    }

    /** Round half to even, as ggml's nearest_int does with its 1.5·2²³ trick. */
    static int nearestInt(float f) {
        return (int) Math.rint(f);
    }

    /**
     * ggml's make_qx_quants for symmetric quants in [-nmax, nmax): a scale searched in 19 steps around
     * -nmax/max that minimizes the x²-weighted squared error (rmse_type 1, no importance weights).
     * Writes L[lOffset..+n) as l + nmax and returns the scale.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xOffset, byte[] L, int lOffset) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xOffset + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xOffset + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                L[lOffset + i] = 0;
            }
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xOffset + i];
            int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            L[lOffset + i] = (byte) (l + nmax);
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xOffset + i];
                int l = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
                float w = xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    L[lOffset + i] = (byte) (nmax + clamp(nearestInt(iscale * x[xOffset + i]), -nmax, nmax - 1));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * ggml's make_qkx2_quants for asymmetric quants in [0, nmax] with x ≈ scale·l − min: starts from the
     * range, then tries nstep+1 scales and keeps the weighted least-squares fit with the smallest error.
     * Writes L[lOffset..+n), stores the (non-negative) min in mins[minIndex] and returns the scale.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xOffset, float[] weights, byte[] L, int lOffset,
                                float[] mins, int minIndex, byte[] laux,
                                float rmin, float rdelta, int nstep) {
        float min = x[xOffset];
        float max = x[xOffset];
        float sumW = weights[0];
        float sumX = sumW * x[xOffset];
        for (int i = 1; i < n; i++) {
            float xi = x[xOffset + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                L[lOffset + i] = 0;
            }
            mins[minIndex] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++) {
            int l = clamp(nearestInt(iscale * (x[xOffset + i] - min)), 0, nmax);
            L[lOffset + i] = (byte) l;
            float diff = scale * l + min - x[xOffset + i];
            bestError += weights[i] * (diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXL = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xOffset + i];
                int l = clamp(nearestInt(iscale * (xi - min)), 0, nmax);
                laux[i] = (byte) l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * xi;
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXL - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xOffset + i];
                    error += weights[i] * (diff * diff);
                }
                if (error < bestError) {
                    System.arraycopy(laux, 0, L, lOffset, n);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        mins[minIndex] = -min;
        return scale;
    }

    /**
     * Q4_K and Q5_K keep eight 6-bit scales and eight 6-bit mins in 12 bytes: bytes 0-3 hold scales 0-3
     * and bytes 4-7 mins 0-3 in their low 6 bits; scales and mins 4-7 keep their low 4 bits in bytes 8-11
     * (scale low, min high) and their top 2 bits in the spare top bits of bytes 0-3 and 4-7.
     */
    static int scale6(MemorySegment block, long scalesOffset, int j) {
        if (j < 4) {
            return u8(block, scalesOffset + j) & 63;
        }
        return (u8(block, scalesOffset + j + 4) & 0xF) | ((u8(block, scalesOffset + j - 4) >> 6) << 4);
    }

    static int min6(MemorySegment block, long scalesOffset, int j) {
        if (j < 4) {
            return u8(block, scalesOffset + j + 4) & 63;
        }
        return (u8(block, scalesOffset + j + 4) >> 4) | ((u8(block, scalesOffset + j) >> 6) << 4);
    }

    /** The inverse of {@link #scale6}/{@link #min6}: packs 6-bit scales and mins into 12 bytes. */
    static void packScalesAndMins(int[] scales, int[] mins, byte[] packed) {
        Arrays.fill(packed, (byte) 0);
        for (int j = 0; j < 8; j++) {
            int ls = scales[j];
            int lm = mins[j];
            if (j < 4) {
                packed[j] = (byte) ls;
                packed[j + 4] = (byte) lm;
            } else {
                packed[j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte) ((ls >> 4) << 6);
                packed[j] |= (byte) ((lm >> 4) << 6);
            }
        }
    }

    static int u8(MemorySegment data, long offset) {
        return data.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
