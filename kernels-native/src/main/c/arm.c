/*
 * aarch64 tiers, one translation unit compiled three times (Makefile):
 *   neon     Armv8-A Advanced SIMD: int8 products widened with smull and pairwise-added (Raspberry Pi 4)
 *   dotprod  Armv8.2-A sdot: four int8 products into each int32 lane (Pi 5, RK3588, Orin)
 *   i8mm     Armv8.6-A smmla: a 2x8 by 8x2 int8 matrix product per instruction, for tiles of two rows by
 *            two vectors in Q4_0/Q8_0 batches; everything else as dotprod
 */
#include <arm_neon.h>
#include "tek.h"

#if defined(__ARM_FEATURE_DOTPROD)
#define DOT4(acc, a, b) vdotq_s32((acc), (a), (b))
#else
TEK_INLINE int32x4_t DOT4(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_s8(vget_high_s8(a), vget_high_s8(b)));
}
#endif
#define TILE_M 4
#define TILE_N 2

TEK_INLINE float f16(uint16_t h) {
    __fp16 v;
    memcpy(&v, &h, sizeof v);
    return (float) v;
}

/* ---- activation rounding ------------------------------------------------------------------------------ */

TEK_INLINE void quantize_q8_0_block(const float *x, int8_t *qs, float *d, int32_t *sum, uint8_t *qu) {
    float amax = 0;
    for (int j = 0; j < QK; j++) {
        amax = fmaxf(amax, fabsf(x[j]));
    }
    const float dd = amax / 127;
    const float id = dd != 0 ? 1.0f / dd : 0.0f;
    *d = (float) (__fp16) dd;
    int32_t s = 0;
    for (int j = 0; j < QK; j++) {
        const int v = (int) nearbyintf(x[j] * id);
        qs[j] = (int8_t) v;
        qu[j] = (uint8_t) (v + 128);
        s += v;
    }
    *sum = s;
}

TEK_EXPORT void TIER_FN(quantize)(TEK_QUANTIZE_ARGS) {
    const int64_t per_vector = (cols + QK_K - 1) / QK_K;
    for (int32_t c = from; c < to; c++) {
        const int64_t b = c / per_vector;
        const int64_t k = c % per_vector * QK_K;
        const float *xv = x + b * cols;
        uint8_t *rec = xq + b * stride;
        if (kind == TEK_Q8_K) {
            quantize_q8_K_block(xv + k, (int8_t *) rec + k, (float *) in_d(rec, cols) + k / QK_K,
                                (int16_t *) in_bsums(rec, cols) + k / 16, (int16_t *) in_bsums32(rec, cols) + k / 32);
        } else {
            const int64_t end = k + QK_K < cols ? k + QK_K : cols;
            for (int64_t j = k; j < end; j += QK) {
                quantize_q8_0_block(xv + j, (int8_t *) rec + j, (float *) in_d(rec, cols) + j / QK,
                                    (int32_t *) in_sum(rec, cols) + j / QK, (uint8_t *) in_qu(rec, cols) + j);
            }
        }
    }
}

/* ---- Q4_0 and Q8_0 -------------------------------------------------------------------------------------- */

/* A block's 32 weights as signed bytes, elements 0..15 and 16..31. */
TEK_INLINE void q4_0_weights(const block_q4_0 *blk, int8x16_t *lo, int8x16_t *hi) {
    const uint8x16_t packed = vld1q_u8(blk->qs);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(packed, vdupq_n_u8(0xF))), vdupq_n_s8(8));
    *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(packed, 4)), vdupq_n_s8(8));
}

TEK_INLINE void q8_0_weights(const block_q8_0 *blk, int8x16_t *lo, int8x16_t *hi) {
    *lo = vld1q_s8(blk->qs);
    *hi = vld1q_s8(blk->qs + 16);
}

/* RM rows by RN vectors, one int32x4 of partial sums per pair, scaled per block into float lanes. */
#define DOT_TILE(name, block_type, weights)                                                                  \
    TEK_INLINE void name(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride,                 \
                         float *out, int64_t out_stride, const int RM, const int RN) {                       \
        const int64_t nb = cols / QK;                                                                        \
        const int64_t row_bytes = nb * (int64_t) sizeof(block_type);                                        \
        float32x4_t acc[TILE_M][TILE_N];                                                                             \
        _Pragma("GCC unroll 8") for (int r = 0; r < RM; r++)                                                 \
        _Pragma("GCC unroll 8") for (int t = 0; t < RN; t++) acc[r][t] = vdupq_n_f32(0);                     \
        for (int64_t j = 0; j < nb; j++) {                                                                   \
            int8x16_t a0[TILE_N], a1[TILE_N];                                                                        \
            float da[TILE_N];                                                                                    \
            _Pragma("GCC unroll 8") for (int t = 0; t < RN; t++) {                                           \
                const uint8_t *rec = xq + t * stride;                                                        \
                a0[t] = vld1q_s8(in_qs(rec) + j * QK);                                                       \
                a1[t] = vld1q_s8(in_qs(rec) + j * QK + 16);                                                  \
                da[t] = in_d(rec, cols)[j];                                                                  \
            }                                                                                                \
            _Pragma("GCC unroll 8") for (int r = 0; r < RM; r++) {                                           \
                const block_type *blk = (const block_type *) (w + r * row_bytes) + j;                        \
                int8x16_t lo, hi;                                                                            \
                weights(blk, &lo, &hi);                                                                      \
                const float dw = f16(blk->d);                                                                \
                _Pragma("GCC unroll 8") for (int t = 0; t < RN; t++) {                                       \
                    const int32x4_t s = DOT4(DOT4(vdupq_n_s32(0), lo, a0[t]), hi, a1[t]);                    \
                    acc[r][t] = vfmaq_n_f32(acc[r][t], vcvtq_f32_s32(s), dw * da[t]);                        \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
        _Pragma("GCC unroll 8") for (int r = 0; r < RM; r++)                                                 \
        _Pragma("GCC unroll 8") for (int t = 0; t < RN; t++) out[t * out_stride + r] = vaddvq_f32(acc[r][t]); \
    }

DOT_TILE(dot_tile_q4_0, block_q4_0, q4_0_weights)
DOT_TILE(dot_tile_q8_0, block_q8_0, q8_0_weights)

#if defined(__ARM_FEATURE_MATMUL_INT8)
/* The low (high) 8 bytes of x and of y side by side: the 2x8 operand of smmla. */
TEK_INLINE int8x16_t low_halves(int8x16_t x, int8x16_t y) {
    return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(x), vreinterpretq_s64_s8(y)));
}
TEK_INLINE int8x16_t high_halves(int8x16_t x, int8x16_t y) {
    return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(x), vreinterpretq_s64_s8(y)));
}

/*
 * Pairs of rows by pairs of vectors: per block four smmla give the four dot products of rows (r, r+1) with
 * vectors (t, t+1) in one int32x4 [r.t, r.t+1, r+1.t, r+1.t+1]; RM and RN even.
 */
#define MMLA_TILE(name, block_type, weights)                                                                 \
    TEK_INLINE void name(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride,                 \
                         float *out, int64_t out_stride, const int RM, const int RN) {                       \
        const int64_t nb = cols / QK;                                                                        \
        const int64_t row_bytes = nb * (int64_t) sizeof(block_type);                                        \
        float32x4_t acc[TILE_M / 2][TILE_N / 2];                                                                     \
        _Pragma("GCC unroll 8") for (int r = 0; r < RM / 2; r++)                                             \
        _Pragma("GCC unroll 8") for (int t = 0; t < RN / 2; t++) acc[r][t] = vdupq_n_f32(0);                 \
        for (int64_t j = 0; j < nb; j++) {                                                                   \
            int8x16_t b[TILE_N / 2][4];                                                                          \
            float32x4_t da[TILE_N / 2];                                                                          \
            _Pragma("GCC unroll 8") for (int t = 0; t < RN / 2; t++) {                                       \
                const uint8_t *r0 = xq + 2 * t * stride, *r1 = r0 + stride;                                  \
                const int8x16_t x0 = vld1q_s8(in_qs(r0) + j * QK), x1 = vld1q_s8(in_qs(r1) + j * QK);        \
                const int8x16_t y0 = vld1q_s8(in_qs(r0) + j * QK + 16), y1 = vld1q_s8(in_qs(r1) + j * QK + 16); \
                b[t][0] = low_halves(x0, x1);                                                                \
                b[t][1] = high_halves(x0, x1);                                                               \
                b[t][2] = low_halves(y0, y1);                                                                \
                b[t][3] = high_halves(y0, y1);                                                               \
                const float d0 = in_d(r0, cols)[j], d1 = in_d(r1, cols)[j];                                  \
                da[t] = (float32x4_t) {d0, d1, d0, d1};                                                      \
            }                                                                                                \
            _Pragma("GCC unroll 8") for (int r = 0; r < RM / 2; r++) {                                       \
                const block_type *k0 = (const block_type *) (w + 2 * r * row_bytes) + j;                     \
                const block_type *k1 = (const block_type *) (w + (2 * r + 1) * row_bytes) + j;               \
                int8x16_t lo0, hi0, lo1, hi1;                                                                \
                weights(k0, &lo0, &hi0);                                                                     \
                weights(k1, &lo1, &hi1);                                                                     \
                const int8x16_t a[4] = {low_halves(lo0, lo1), high_halves(lo0, lo1),                         \
                                        low_halves(hi0, hi1), high_halves(hi0, hi1)};                        \
                const float dw0 = f16(k0->d), dw1 = f16(k1->d);                                              \
                const float32x4_t dw = {dw0, dw0, dw1, dw1};                                                 \
                _Pragma("GCC unroll 8") for (int t = 0; t < RN / 2; t++) {                                   \
                    int32x4_t s = vmmlaq_s32(vdupq_n_s32(0), a[0], b[t][0]);                                 \
                    s = vmmlaq_s32(s, a[1], b[t][1]);                                                        \
                    s = vmmlaq_s32(s, a[2], b[t][2]);                                                        \
                    s = vmmlaq_s32(s, a[3], b[t][3]);                                                        \
                    acc[r][t] = vfmaq_f32(acc[r][t], vcvtq_f32_s32(s), vmulq_f32(dw, da[t]));                \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
        _Pragma("GCC unroll 8") for (int r = 0; r < RM / 2; r++)                                             \
        _Pragma("GCC unroll 8") for (int t = 0; t < RN / 2; t++) {                                           \
            out[2 * t * out_stride + 2 * r] = vgetq_lane_f32(acc[r][t], 0);                                  \
            out[(2 * t + 1) * out_stride + 2 * r] = vgetq_lane_f32(acc[r][t], 1);                            \
            out[2 * t * out_stride + 2 * r + 1] = vgetq_lane_f32(acc[r][t], 2);                              \
            out[(2 * t + 1) * out_stride + 2 * r + 1] = vgetq_lane_f32(acc[r][t], 3);                        \
        }                                                                                                    \
    }

MMLA_TILE(mmla_tile_q4_0, block_q4_0, q4_0_weights)
MMLA_TILE(mmla_tile_q8_0, block_q8_0, q8_0_weights)

TEK_INLINE void tile_q4_0(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                          int64_t out_stride, const int RM, const int RN) {
    if (RM % 2 == 0 && RN % 2 == 0) mmla_tile_q4_0(w, cols, xq, stride, out, out_stride, RM, RN);
    else dot_tile_q4_0(w, cols, xq, stride, out, out_stride, RM, RN);
}
TEK_INLINE void tile_q8_0(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                          int64_t out_stride, const int RM, const int RN) {
    if (RM % 2 == 0 && RN % 2 == 0) mmla_tile_q8_0(w, cols, xq, stride, out, out_stride, RM, RN);
    else dot_tile_q8_0(w, cols, xq, stride, out, out_stride, RM, RN);
}
#else
#define tile_q4_0 dot_tile_q4_0
#define tile_q8_0 dot_tile_q8_0
#endif

/* ---- K-quants: one row by RN vectors ---------------------------------------------------------------- */

/*
 * A super-block's scales and mins are decoded once for the RN vectors; the quants are unpacked per vector
 * (a mask or a shift per 16, less than keeping 256 of them in registers). Q4_K/Q5_K subtract their mins
 * through the input's sums of 16 (bsums); Q6_K's quants are offset by -32 before the products.
 */
#define KTILE_N 4

TEK_INLINE void ktile_q45_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                            int64_t out_stride, const int RN, const int has_high) {
    const int64_t nb = cols / QK_K;
    const size_t block_bytes = has_high ? sizeof(block_q5_K) : sizeof(block_q4_K);
    const uint8x16_t m4 = vdupq_n_u8(0xF), top = vdupq_n_u8(16);
    float sum[KTILE_N] = {0};
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *x = w + i * block_bytes;
        const uint16_t *dm = (const uint16_t *) x;
        const uint8_t *qs = has_high ? ((const block_q5_K *) x)->qs : ((const block_q4_K *) x)->qs;
        uint8_t sc[8], mn[8];
        scales_and_mins(x + 4, sc, mn);
        const float d = f16(dm[0]), dmin = f16(dm[1]);
        uint8x16_t h0 = vdupq_n_u8(0), h1 = vdupq_n_u8(0);
        if (has_high) {
            h0 = vld1q_u8(((const block_q5_K *) x)->qh);
            h1 = vld1q_u8(((const block_q5_K *) x)->qh + 16);
        }
        for (int t = 0; t < RN; t++) {
            const uint8_t *rec = xq + t * stride;
            const int8_t *a = in_qs(rec) + i * QK_K;
            const int16_t *bs = in_bsums(rec, cols) + i * 16;
            int32_t msum = 0;
            for (int j = 0; j < 8; j++) {
                msum += mn[j] * (bs[2 * j] + bs[2 * j + 1]);
            }
            int32x4_t acc = vdupq_n_s32(0);
            for (int j = 0; j < 4; j++) {
                const uint8x16_t b0 = vld1q_u8(qs + 32 * j), b1 = vld1q_u8(qs + 32 * j + 16);
                uint8x16_t l0 = vandq_u8(b0, m4), l1 = vandq_u8(b1, m4);
                uint8x16_t u0 = vshrq_n_u8(b0, 4), u1 = vshrq_n_u8(b1, 4);
                if (has_high) { /* bit 2j of qh[l] tops element 64j + l, bit 2j+1 element 64j + 32 + l */
                    const uint8x16_t bit_lo = vdupq_n_u8((uint8_t) (1 << (2 * j))), bit_hi = vdupq_n_u8((uint8_t) (2 << (2 * j)));
                    l0 = vorrq_u8(l0, vandq_u8(vtstq_u8(h0, bit_lo), top));
                    l1 = vorrq_u8(l1, vandq_u8(vtstq_u8(h1, bit_lo), top));
                    u0 = vorrq_u8(u0, vandq_u8(vtstq_u8(h0, bit_hi), top));
                    u1 = vorrq_u8(u1, vandq_u8(vtstq_u8(h1, bit_hi), top));
                }
                int32x4_t lo = DOT4(vdupq_n_s32(0), vreinterpretq_s8_u8(l0), vld1q_s8(a + 64 * j));
                lo = DOT4(lo, vreinterpretq_s8_u8(l1), vld1q_s8(a + 64 * j + 16));
                int32x4_t hi = DOT4(vdupq_n_s32(0), vreinterpretq_s8_u8(u0), vld1q_s8(a + 64 * j + 32));
                hi = DOT4(hi, vreinterpretq_s8_u8(u1), vld1q_s8(a + 64 * j + 48));
                acc = vmlaq_n_s32(acc, lo, sc[2 * j]);
                acc = vmlaq_n_s32(acc, hi, sc[2 * j + 1]);
            }
            const float dx = in_d(rec, cols)[i];
            sum[t] += dx * d * (float) vaddvq_s32(acc) - dx * dmin * (float) msum;
        }
    }
    for (int t = 0; t < RN; t++) out[t * out_stride] = sum[t];
}

TEK_INLINE void ktile_q4_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                           int64_t out_stride, const int RN) {
    ktile_q45_K(w, cols, xq, stride, out, out_stride, RN, 0);
}

TEK_INLINE void ktile_q5_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                           int64_t out_stride, const int RN) {
    ktile_q45_K(w, cols, xq, stride, out, out_stride, RN, 1);
}

TEK_INLINE void ktile_q6_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                           int64_t out_stride, const int RN) {
    const int64_t nb = cols / QK_K;
    const uint8x16_t m4 = vdupq_n_u8(0xF), m2 = vdupq_n_u8(3);
    const int8x16_t offset = vdupq_n_s8(32);
    float sum[KTILE_N] = {0};
    for (int64_t i = 0; i < nb; i++) {
        const block_q6_K *x = (const block_q6_K *) w + i;
        const float d = f16(x->d);
        for (int t = 0; t < RN; t++) {
            const uint8_t *rec = xq + t * stride;
            const int8_t *a = in_qs(rec) + i * QK_K;
            int32x4_t acc = vdupq_n_s32(0);
            for (int h = 0; h < 2; h++) {
                for (int half = 0; half < 2; half++) { /* 16 of the 32 l's at a time */
                    const int o = 16 * half;
                    const uint8x16_t l0 = vld1q_u8(x->ql + 64 * h + o), l1 = vld1q_u8(x->ql + 64 * h + 32 + o);
                    const uint8x16_t hb = vld1q_u8(x->qh + 32 * h + o);
                    int8x16_t q[4];
                    q[0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m2), 4)));
                    q[1] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m2), 4)));
                    q[2] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m2), 4)));
                    q[3] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4)));
                    for (int k = 0; k < 4; k++) {
                        const int e = 128 * h + 32 * k + o; /* the first of these 16 elements */
                        const int32x4_t p = DOT4(vdupq_n_s32(0), vsubq_s8(q[k], offset), vld1q_s8(a + e));
                        acc = vmlaq_n_s32(acc, p, x->scales[e / 16]);
                    }
                }
            }
            sum[t] += in_d(rec, cols)[i] * d * (float) vaddvq_s32(acc);
        }
    }
    for (int t = 0; t < RN; t++) out[t * out_stride] = sum[t];
}

/* ---- the product ---------------------------------------------------------------------------------------- */

TEK_EXPORT void TIER_FN(matmul)(TEK_MATMUL_ARGS) {
    switch (type) {
        case TEK_Q4_0:
            if (batch == 1) SINGLE_ROWS(tile_q4_0, block_q4_0);
            else ROWS(tile_q4_0, block_q4_0, QK, row_start);
            break;
        case TEK_Q8_0:
            if (batch == 1) SINGLE_ROWS(tile_q8_0, block_q8_0);
            else ROWS(tile_q8_0, block_q8_0, QK, row_start);
            break;
        case TEK_Q4_K: K_ROWS(ktile_q4_K, block_q4_K, row_start); break;
        case TEK_Q5_K: K_ROWS(ktile_q5_K, block_q5_K, row_start); break;
        case TEK_Q6_K: K_ROWS(ktile_q6_K, block_q6_K, row_start); break;
        default: break;
    }
}
