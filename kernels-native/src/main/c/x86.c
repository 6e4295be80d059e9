/*
 * x86-64 tiers, one translation unit compiled three times (Makefile):
 *   avx2         AVX2 + FMA + F16C: int8 products as maddubs (u8 x s8 -> pairs of s16) then madd with ones
 *   avx2_vnni    the same with AVX-VNNI's vpdpbusd (VEX encoding: Alder Lake and later, Zen 5)
 *   avx512_vnni  AVX-512 VNNI's vpdpbusd at 256 bits (EVEX, AVX512VL) and 32 registers for larger tiles
 * Blocks of 32 quants fill one 256-bit register; 512-bit registers would hold two blocks whose scales then
 * have to be spread over the halves, and Zen 4 splits 512-bit operations in two anyway.
 */
#include <immintrin.h>
#include "tek.h"

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
/* acc + sum of 4 adjacent u8*s8 products per int32 lane */
#define DOT_U8S8(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define TILE_M 4
#define TILE_N 4
#define KTILE_N 4
#elif defined(__AVXVNNI__)
#define DOT_U8S8(acc, u, s) _mm256_dpbusd_avx_epi32((acc), (u), (s))
#define TILE_M 4
#define TILE_N 2
#define KTILE_N 1
#else
/* maddubs saturates past 32767: both operands here stay below (|u| <= 128 with |s| <= 127, or u <= 63) */
#define DOT_U8S8(acc, u, s) _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1)))
#define TILE_M 4
#define TILE_N 2
#define KTILE_N 1
#endif

/* Vectors that a rows-in-lanes kernel runs against one transposition of its rows (partial sums on the stack). */
#define PANEL 64

TEK_INLINE float f16(uint16_t h) {
    return _cvtsh_ss(h);
}

TEK_INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TEK_INLINE int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

/* The 32 nibbles of a Q4_0 block as bytes 0..15, in element order (low nibbles are elements 0..15). */
TEK_INLINE __m256i nibbles(const uint8_t *qs) {
    __m128i packed = _mm_loadu_si128((const __m128i *) qs);
    __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
    return _mm256_and_si256(both, _mm256_set1_epi8(0xF));
}

/*
 * The rows8 kernels read eight rows in lockstep: eight streams through memory, which the hardware prefetchers
 * serve at half the rate of one (bench/RESULTS.md). The eight rows lie one after another, so each step also
 * prefetches its share of the next eight rows, [from, from + bytes) past next: one linear stream, a group ahead.
 */
TEK_INLINE void prefetch_next_rows(const uint8_t *next, int64_t from, int64_t bytes) {
    for (int64_t l = 0; l < bytes; l += 64) _mm_prefetch((const char *) (next + from + l), _MM_HINT_T0);
}

/* ---- activation rounding ------------------------------------------------------------------------------ */

/* One block of 32 to Q8_0: d = amax/127 kept as fp16, quants x*(1/d) rounded half to even. */
TEK_INLINE void quantize_q8_0_block(const float *x, int8_t *qs, float *d, int32_t *sum, uint8_t *qu) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int i = 0; i < 4; i++) {
        v[i] = _mm256_loadu_ps(x + 8 * i);
        amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[i]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float dd = _mm_cvtss_f32(m) / 127;
    const float id = dd != 0 ? 1.0f / dd : 0.0f;
    *d = _cvtsh_ss(_cvtss_sh(dd, _MM_FROUND_TO_NEAREST_INT));
    const __m256 mul = _mm256_set1_ps(id);
    __m256i q[4];
    for (int i = 0; i < 4; i++) {
        q[i] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[i], mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    *sum = hsum_i32(s);
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *) qs, p);
    _mm256_storeu_si256((__m256i *) qu, _mm256_xor_si256(p, _mm256_set1_epi8((char) 0x80)));
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

/* ---- Q4_0 and Q8_0: tiles of RM rows by RN vectors -------------------------------------------------- */

/*
 * Q4_0: the nibbles (0..15) are the unsigned operand and the input's quants the signed one; the integer
 * accumulator of each block starts at -8 * (sum of the input's quants), which subtracts 8 from every
 * nibble. Each block's integer sums are scaled by d_w * d_x and added into float lanes, summed at the end.
 */
TEK_INLINE void tile_q4_0(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride,
                          float *out, int64_t out_stride, const int RM, const int RN) {
    const int64_t nb = cols / QK;
    const int64_t row_bytes = nb * sizeof(block_q4_0);
    __m256 acc[TILE_M][TILE_N]; /* fixed sizes (not RM, RN): a variable-length array stays in memory */
#pragma GCC unroll 8
    for (int r = 0; r < RM; r++)
#pragma GCC unroll 8
        for (int t = 0; t < RN; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t j = 0; j < nb; j++) {
        __m256i a[TILE_N], bias[TILE_N];
        float da[TILE_N];
#pragma GCC unroll 8
        for (int t = 0; t < RN; t++) {
            const uint8_t *rec = xq + t * stride;
            a[t] = _mm256_loadu_si256((const __m256i *) (in_qs(rec) + j * QK));
            bias[t] = _mm256_zextsi128_si256(_mm_cvtsi32_si128(-8 * in_sum(rec, cols)[j]));
            da[t] = in_d(rec, cols)[j];
        }
#pragma GCC unroll 8
        for (int r = 0; r < RM; r++) {
            const block_q4_0 *blk = (const block_q4_0 *) (w + r * row_bytes) + j;
            const __m256i u = nibbles(blk->qs);
            const float dw = f16(blk->d);
#pragma GCC unroll 8
            for (int t = 0; t < RN; t++) {
                const __m256i s = DOT_U8S8(bias[t], u, a[t]);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(dw * da[t]), acc[r][t]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < RM; r++)
#pragma GCC unroll 8
        for (int t = 0; t < RN; t++) out[t * out_stride + r] = hsum(acc[r][t]);
}

/* Q8_0: |w| is the unsigned operand, the input's quants with w's signs the signed one. */
TEK_INLINE void tile_q8_0(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride,
                          float *out, int64_t out_stride, const int RM, const int RN) {
    const int64_t nb = cols / QK;
    const int64_t row_bytes = nb * sizeof(block_q8_0);
    __m256 acc[TILE_M][TILE_N]; /* fixed sizes (not RM, RN): a variable-length array stays in memory */
#pragma GCC unroll 8
    for (int r = 0; r < RM; r++)
#pragma GCC unroll 8
        for (int t = 0; t < RN; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t j = 0; j < nb; j++) {
        __m256i a[TILE_N];
        float da[TILE_N];
#pragma GCC unroll 8
        for (int t = 0; t < RN; t++) {
            const uint8_t *rec = xq + t * stride;
            a[t] = _mm256_loadu_si256((const __m256i *) (in_qs(rec) + j * QK));
            da[t] = in_d(rec, cols)[j];
        }
#pragma GCC unroll 8
        for (int r = 0; r < RM; r++) {
            const block_q8_0 *blk = (const block_q8_0 *) (w + r * row_bytes) + j;
            const __m256i q = _mm256_loadu_si256((const __m256i *) blk->qs);
            const __m256i u = _mm256_sign_epi8(q, q);
            const float dw = f16(blk->d);
#pragma GCC unroll 8
            for (int t = 0; t < RN; t++) {
                const __m256i s = DOT_U8S8(_mm256_setzero_si256(), u, _mm256_sign_epi8(a[t], q));
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(dw * da[t]), acc[r][t]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < RM; r++)
#pragma GCC unroll 8
        for (int t = 0; t < RN; t++) out[t * out_stride + r] = hsum(acc[r][t]);
}

/*
 * Q4_0, eight rows at a time with the rows in the lanes, against up to PANEL vectors: per block, the eight
 * rows' 16 quant bytes are transposed as 4-byte groups, so that lane i of T[k] holds row i's bytes 4k..4k+3
 * (nibbles of elements 4k..4k+3 low, 16+4k..16+4k+3 high). One vpdpbusd then multiplies four elements of all
 * eight rows with the same four input quants, broadcast; the eight rows' sums need no horizontal reduction,
 * and a block's scaling (one conversion, one multiply-add) serves eight rows. Two blocks are transposed at a
 * time, once for all the vectors, whose sums wait on the stack (in L1) meanwhile.
 */
TEK_INLINE void q4_0_rows8_blocks(const uint8_t *b0, int64_t row_bytes, __m256i lo[4], __m256i hi[4], __m256 *dw) {
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256i y[4];
    uint16_t d[8];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
        const uint8_t *l = b0 + r * row_bytes, *h = b0 + (r + 4) * row_bytes;
        y[r] = _mm256_loadu2_m128i((const __m128i *) (h + 2), (const __m128i *) (l + 2));
        memcpy(&d[r], l, 2);
        memcpy(&d[r + 4], h, 2);
    }
    const __m256i t0 = _mm256_unpacklo_epi32(y[0], y[1]), t1 = _mm256_unpackhi_epi32(y[0], y[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(y[2], y[3]), t3 = _mm256_unpackhi_epi32(y[2], y[3]);
    __m256i q[4];
    q[0] = _mm256_unpacklo_epi64(t0, t2);
    q[1] = _mm256_unpackhi_epi64(t0, t2);
    q[2] = _mm256_unpacklo_epi64(t1, t3);
    q[3] = _mm256_unpackhi_epi64(t1, t3);
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        lo[k] = _mm256_and_si256(q[k], m4);
        hi[k] = _mm256_and_si256(_mm256_srli_epi16(q[k], 4), m4);
    }
    *dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) d));
}

/* Blocks j .. j+B-1 (B = 1 or 2) of the eight rows at w against the n vectors, into acc. */
TEK_INLINE void q4_0_rows8_step(const uint8_t *w, int64_t row_bytes, int64_t j, const uint8_t *xq, int64_t stride,
                                int64_t cols, __m256 *acc, const int n, const int B) {
    __m256i lo[2][4], hi[2][4];
    __m256 dw[2];
#pragma GCC unroll 2
    for (int b = 0; b < B; b++) q4_0_rows8_blocks(w + (j + b) * sizeof(block_q4_0), row_bytes, lo[b], hi[b], &dw[b]);
    for (int t = 0; t < n; t++) {
        const uint8_t *rec = xq + t * stride;
        __m256 sum = acc[t];
#pragma GCC unroll 2
        for (int b = 0; b < B; b++) {
            const int32_t *a = (const int32_t *) (in_qs(rec) + (j + b) * QK);
            __m256i s0 = _mm256_set1_epi32(-8 * in_sum(rec, cols)[j + b]);
            __m256i s1 = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                s0 = DOT_U8S8(s0, lo[b][k], _mm256_set1_epi32(a[k]));
                s1 = DOT_U8S8(s1, hi[b][k], _mm256_set1_epi32(a[4 + k]));
            }
            const __m256 scale = _mm256_mul_ps(dw[b], _mm256_set1_ps(in_d(rec, cols)[j + b]));
            sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), scale, sum);
        }
        acc[t] = sum;
    }
}

TEK_INLINE void rows8_q4_0(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride,
                           float *out, int64_t out_stride, const int n) {
    const int64_t nb = cols / QK;
    const int64_t row_bytes = nb * sizeof(block_q4_0);
    __m256 acc[PANEL];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 2 <= nb; j += 2) {
        prefetch_next_rows(w + 8 * row_bytes, 8 * j * (int64_t) sizeof(block_q4_0), 16 * sizeof(block_q4_0));
        q4_0_rows8_step(w, row_bytes, j, xq, stride, cols, acc, n, 2);
    }
    if (j < nb) q4_0_rows8_step(w, row_bytes, j, xq, stride, cols, acc, n, 1);
    for (int t = 0; t < n; t++) _mm256_storeu_ps(out + t * out_stride, acc[t]);
}

/* Rows 0-7's 32 bytes at p + r * row_bytes, transposed as 4-byte groups: q[k] lane r = row r's bytes 4k..4k+3. */
TEK_INLINE void transpose8x32(const uint8_t *p, int64_t row_bytes, __m256i q[8]) {
    __m256i y[8], u[8], v[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) y[r] = _mm256_loadu_si256((const __m256i *) (p + r * row_bytes));
#pragma GCC unroll 4
    for (int r = 0; r < 8; r += 2) {
        u[r] = _mm256_unpacklo_epi32(y[r], y[r + 1]);
        u[r + 1] = _mm256_unpackhi_epi32(y[r], y[r + 1]);
    }
#pragma GCC unroll 2
    for (int r = 0; r < 8; r += 4) {
        v[r] = _mm256_unpacklo_epi64(u[r], u[r + 2]);
        v[r + 1] = _mm256_unpackhi_epi64(u[r], u[r + 2]);
        v[r + 2] = _mm256_unpacklo_epi64(u[r + 1], u[r + 3]);
        v[r + 3] = _mm256_unpackhi_epi64(u[r + 1], u[r + 3]);
    }
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        q[k] = _mm256_permute2x128_si256(v[k], v[4 + k], 0x20);
        q[4 + k] = _mm256_permute2x128_si256(v[k], v[4 + k], 0x31);
    }
}

#if defined(__AVX512VNNI__) || defined(__AVXVNNI__)
/*
 * Q8_0, eight rows at a time with the rows in the lanes, as rows8_q4_0. vpdpbusd wants one unsigned operand:
 * the input's quants plus 128 (a flipped sign bit) are, and sum((x+128) w) = sum(x w) + 128 sum(w) with the
 * weights' sums taken once per block for all vectors. Only with VNNI: maddubs would saturate on (x+128) w.
 */
TEK_INLINE void q8_0_rows8_blocks(const uint8_t *b0, int64_t row_bytes, __m256i q[8], __m256i *bias, __m256 *dw) {
    uint16_t d[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; r++) memcpy(&d[r], b0 + r * row_bytes, 2);
    transpose8x32(b0 + 2, row_bytes, q);
    __m256i wsum = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) wsum = DOT_U8S8(wsum, _mm256_set1_epi8(1), q[k]);
    *bias = _mm256_slli_epi32(wsum, 7);
    *dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) d));
}

TEK_INLINE void q8_0_rows8_step(const uint8_t *w, int64_t row_bytes, int64_t j, const uint8_t *xq, int64_t stride,
                                int64_t cols, __m256 *acc, const int n, const int B) {
    __m256i q[2][8], bias[2];
    __m256 dw[2];
#pragma GCC unroll 2
    for (int b = 0; b < B; b++) q8_0_rows8_blocks(w + (j + b) * sizeof(block_q8_0), row_bytes, q[b], &bias[b], &dw[b]);
    for (int t = 0; t < n; t++) {
        const uint8_t *rec = xq + t * stride;
        __m256 sum = acc[t];
#pragma GCC unroll 2
        for (int b = 0; b < B; b++) {
            const int32_t *a = (const int32_t *) (in_qu(rec, cols) + (j + b) * QK);
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                s0 = DOT_U8S8(s0, _mm256_set1_epi32(a[k]), q[b][k]);
                s1 = DOT_U8S8(s1, _mm256_set1_epi32(a[4 + k]), q[b][4 + k]);
            }
            const __m256i s = _mm256_sub_epi32(_mm256_add_epi32(s0, s1), bias[b]);
            const __m256 scale = _mm256_mul_ps(dw[b], _mm256_set1_ps(in_d(rec, cols)[j + b]));
            sum = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, sum);
        }
        acc[t] = sum;
    }
}

TEK_INLINE void rows8_q8_0(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride,
                           float *out, int64_t out_stride, const int n) {
    const int64_t nb = cols / QK;
    const int64_t row_bytes = nb * sizeof(block_q8_0);
    __m256 acc[PANEL];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 2 <= nb; j += 2) {
        prefetch_next_rows(w + 8 * row_bytes, 8 * j * (int64_t) sizeof(block_q8_0), 16 * sizeof(block_q8_0));
        q8_0_rows8_step(w, row_bytes, j, xq, stride, cols, acc, n, 2);
    }
    if (j < nb) q8_0_rows8_step(w, row_bytes, j, xq, stride, cols, acc, n, 1);
    for (int t = 0; t < n; t++) _mm256_storeu_ps(out + t * out_stride, acc[t]);
}
#define Q8_0_BATCH ROWS8(rows8_q8_0, cols / QK * (int64_t) sizeof(block_q8_0), for (; r < row_end; r++) TILES(tile_q8_0, 1))
#else
#define Q8_0_BATCH ROWS(tile_q8_0, block_q8_0, QK, row_start)
#endif

/* ---- K-quants: one row by RN vectors ---------------------------------------------------------------- */

/*
 * A super-block's quants are unpacked and its scales spread into 16-bit lanes once, then multiplied with
 * each of the RN vectors: maddubs (quants unsigned, input signed) gives pairs of 16-bit products, madd with
 * the sub-block's scale widens them into 32-bit sums. Q4_K/Q5_K subtract their mins through the input's
 * sums of 16 (bsums); Q6_K's offset of 32 likewise.
 */

/* Q4_K/Q5_K scales and mins: the 12 packed bytes to eight 6-bit scales and eight mins, four per uint32. */
TEK_INLINE void unpack_scales(const uint8_t *packed, uint32_t sc[2], uint32_t mn[2]) {
    uint32_t u[3];
    memcpy(u, packed, 12);
    sc[0] = u[0] & 0x3f3f3f3f;
    mn[0] = u[1] & 0x3f3f3f3f;
    sc[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
    mn[1] = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
}

/* Byte shuffles that spread 16-bit lane j of a register over all of its lanes. */
static const uint8_t SPREAD16[8][32] __attribute__((aligned(32))) = {
#define S(j) {2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, \
              2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1, 2*j, 2*j+1}
    S(0), S(1), S(2), S(3), S(4), S(5), S(6), S(7)
#undef S
};

/* The eight sub-block scales, each spread over a register of 16-bit lanes. */
TEK_INLINE void spread_scales(const uint32_t sc[2], __m256i out[8]) {
    const __m256i all = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int) sc[1], (int) sc[0])));
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) out[j] = _mm256_shuffle_epi8(all, _mm256_load_si256((const __m256i *) SPREAD16[j]));
}

/* min_j * (sum of the input's quants in sub-block j), for j < 8, in four 32-bit lanes. */
TEK_INLINE __m128i mins_times_sums(const uint32_t mn[2], const int16_t *bsums) {
    const __m128i mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int) mn[1], (int) mn[0]));
    const __m128i sums = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *) bsums), _mm_loadu_si128((const __m128i *) (bsums + 8)));
    return _mm_madd_epi16(mins, sums);
}

TEK_INLINE float hsum128(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Q4_K and Q5_K (has_high: the fifth bit from qh) by RN vectors. */
TEK_INLINE void ktile_q45_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                            int64_t out_stride, const int RN, const int has_high) {
    const int64_t nb = cols / QK_K;
    const size_t block_bytes = has_high ? sizeof(block_q5_K) : sizeof(block_q4_K);
    const __m256i m4 = _mm256_set1_epi8(0xF), one = _mm256_set1_epi8(1);
    __m256 acc[KTILE_N];
    __m128 accm[KTILE_N];
#pragma GCC unroll 8
    for (int t = 0; t < RN; t++) {
        acc[t] = _mm256_setzero_ps();
        accm[t] = _mm_setzero_ps();
    }
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *x = w + i * block_bytes;
        const uint16_t *dm = (const uint16_t *) x;
        const uint8_t *qs = has_high ? ((const block_q5_K *) x)->qs : ((const block_q4_K *) x)->qs;
        uint32_t sc[2], mn[2];
        unpack_scales(x + 4, sc, mn);
        __m256i scale[8], q[8];
        spread_scales(sc, scale);
        const __m256i hbits = has_high ? _mm256_loadu_si256((const __m256i *) ((const block_q5_K *) x)->qh) : _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const __m256i bits = _mm256_loadu_si256((const __m256i *) (qs + 32 * j));
            q[2 * j] = _mm256_and_si256(bits, m4);
            q[2 * j + 1] = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
            if (has_high) { /* bit 2j of qh[l] tops element 64j + l, bit 2j+1 element 64j + 32 + l */
                q[2 * j] = _mm256_or_si256(q[2 * j], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j), one), 4));
                q[2 * j + 1] = _mm256_or_si256(q[2 * j + 1], _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j + 1), one), 4));
            }
        }
        const float d = f16(dm[0]), dmin = f16(dm[1]);
#pragma GCC unroll 8
        for (int t = 0; t < RN; t++) {
            const uint8_t *rec = xq + t * stride;
            const int8_t *a = in_qs(rec) + i * QK_K;
            const float dx = in_d(rec, cols)[i];
            __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                const __m256i p = _mm256_maddubs_epi16(q[j], _mm256_loadu_si256((const __m256i *) (a + 32 * j)));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale[j]));
            }
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * dx), _mm256_cvtepi32_ps(sumi), acc[t]);
            const __m128i m = mins_times_sums(mn, in_bsums(rec, cols) + i * 16);
            accm[t] = _mm_fmadd_ps(_mm_set1_ps(dmin * dx), _mm_cvtepi32_ps(m), accm[t]);
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < RN; t++) out[t * out_stride] = hsum(acc[t]) - hsum128(accm[t]);
}

TEK_INLINE void ktile_q4_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                           int64_t out_stride, const int RN) {
    ktile_q45_K(w, cols, xq, stride, out, out_stride, RN, 0);
}

TEK_INLINE void ktile_q5_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                           int64_t out_stride, const int RN) {
    ktile_q45_K(w, cols, xq, stride, out, out_stride, RN, 1);
}


/*
 * Q4_K, eight rows at a time with the rows in the lanes, against up to PANEL vectors: per 64 elements of a
 * super-block the rows' 32 quant bytes are transposed once for all the vectors, and the rows' scales and
 * mins spread into lanes once per super-block. vpdpbusd multiplies four elements of the eight rows with four
 * of the input, broadcast; each sub-block's sums take their rows' scales in a 32-bit multiply; the rows'
 * mins meet the input's sums of 32 in one 16-bit multiply-add per pair of sub-blocks. The vectors' partial
 * sums wait on the stack (in L1) while the other vectors run: shared work counts once per panel, not once
 * per few vectors.
 */
TEK_INLINE void rows8_q4_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                           int64_t out_stride, const int n) {
    const int64_t nb = cols / QK_K;
    const int64_t row_bytes = nb * (int64_t) sizeof(block_q4_K);
    const __m256i m4 = _mm256_set1_epi8(0xF);
    __m256 acc[PANEL];
    __m256i sumi[PANEL];
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        prefetch_next_rows(w + 8 * row_bytes, 8 * i * (int64_t) sizeof(block_q4_K), 8 * sizeof(block_q4_K));
        const uint8_t *b0 = w + i * sizeof(block_q4_K);
        /* per row: scales and mins, then lanes of rows */
        uint32_t sc[8][2], mn[8][2];
        uint16_t d[8], dmin[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            const uint8_t *x = b0 + r * row_bytes;
            memcpy(&d[r], x, 2);
            memcpy(&dmin[r], x + 2, 2);
            unpack_scales(x + 4, sc[r], mn[r]);
        }
        __m256i scale[8], mins[4];
        {
            const uint8_t *scb = (const uint8_t *) sc, *mnb = (const uint8_t *) mn; /* row r's j-th at [8r + j] */
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                scale[j] = _mm256_setr_epi32(scb[j], scb[8 + j], scb[16 + j], scb[24 + j], scb[32 + j], scb[40 + j], scb[48 + j], scb[56 + j]);
            }
#pragma GCC unroll 4
            for (int p = 0; p < 4; p++) { /* lane r: row r's mins 2p (low 16 bits) and 2p+1 */
                mins[p] = _mm256_setr_epi32(mnb[2 * p] | mnb[2 * p + 1] << 16, mnb[8 + 2 * p] | mnb[8 + 2 * p + 1] << 16,
                                            mnb[16 + 2 * p] | mnb[16 + 2 * p + 1] << 16, mnb[24 + 2 * p] | mnb[24 + 2 * p + 1] << 16,
                                            mnb[32 + 2 * p] | mnb[32 + 2 * p + 1] << 16, mnb[40 + 2 * p] | mnb[40 + 2 * p + 1] << 16,
                                            mnb[48 + 2 * p] | mnb[48 + 2 * p + 1] << 16, mnb[56 + 2 * p] | mnb[56 + 2 * p + 1] << 16);
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) d));
        const __m256 dmw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) dmin));
        for (int t = 0; t < n; t++) sumi[t] = _mm256_setzero_si256();
#pragma GCC unroll 1
        for (int c = 0; c < 4; c++) {
            __m256i q[8];
            transpose8x32(b0 + 16 + 32 * c, row_bytes, q);
            __m256i lo[8], hi[8];
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                lo[k] = _mm256_and_si256(q[k], m4);
                hi[k] = _mm256_and_si256(_mm256_srli_epi16(q[k], 4), m4);
            }
            const __m256i sc0 = scale[2 * c], sc1 = scale[2 * c + 1];
            for (int t = 0; t < n; t++) {
                const int32_t *a = (const int32_t *) (in_qs(xq + t * stride) + i * QK_K + 64 * c);
                __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 8
                for (int k = 0; k < 8; k++) {
                    s0 = DOT_U8S8(s0, lo[k], _mm256_set1_epi32(a[k]));
                    s1 = DOT_U8S8(s1, hi[k], _mm256_set1_epi32(a[8 + k]));
                }
                sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(_mm256_mullo_epi32(s0, sc0), _mm256_mullo_epi32(s1, sc1)));
            }
        }
        for (int t = 0; t < n; t++) {
            const uint8_t *rec = xq + t * stride;
            const int32_t *pairs = (const int32_t *) (in_bsums32(rec, cols) + i * 8); /* sums of sub-blocks 2p and 2p+1 */
            __m256i msum = _mm256_madd_epi16(mins[0], _mm256_set1_epi32(pairs[0]));
#pragma GCC unroll 4
            for (int p = 1; p < 4; p++) msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[p], _mm256_set1_epi32(pairs[p])));
            const __m256 dx = _mm256_set1_ps(in_d(rec, cols)[i]);
            const __m256 v = _mm256_fmsub_ps(_mm256_cvtepi32_ps(sumi[t]), dw, _mm256_mul_ps(_mm256_cvtepi32_ps(msum), dmw));
            acc[t] = _mm256_fmadd_ps(v, dx, acc[t]);
        }
    }
    for (int t = 0; t < n; t++) _mm256_storeu_ps(out + t * out_stride, acc[t]);
}

/*
 * Q6_K, eight rows at a time with the rows in the lanes, against up to PANEL vectors: each row's super-block
 * is unpacked once into its 256 quants (0..63, in element order) in a buffer, then transposed 64 elements at
 * a time for all the vectors as rows8_q4_K does. The sums of 16 take their rows' signed scales in a 32-bit
 * multiply; 32 * sum(scale * bsum), the scales paired in 16-bit lanes, takes the offset of 32 off.
 */
TEK_INLINE void rows8_q6_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                           int64_t out_stride, const int n) {
    const int64_t nb = cols / QK_K;
    const int64_t row_bytes = nb * (int64_t) sizeof(block_q6_K);
    const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(3);
    __m256 acc[PANEL];
    __m256i sumi[PANEL];
    uint8_t quants[8][QK_K] __attribute__((aligned(32)));
    for (int t = 0; t < n; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        prefetch_next_rows(w + 8 * row_bytes, 8 * i * (int64_t) sizeof(block_q6_K), 8 * sizeof(block_q6_K));
        int8_t sc[16][8] __attribute__((aligned(16))); /* [j][r]: row r's j-th scale */
        uint16_t d[8];
#pragma GCC unroll 1
        for (int r = 0; r < 8; r++) {
            const block_q6_K *x = (const block_q6_K *) (w + r * row_bytes) + i;
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                const __m256i l0 = _mm256_loadu_si256((const __m256i *) (x->ql + 64 * h));
                const __m256i l1 = _mm256_loadu_si256((const __m256i *) (x->ql + 64 * h + 32));
                const __m256i hb = _mm256_loadu_si256((const __m256i *) (x->qh + 32 * h));
                uint8_t *q = quants[r] + 128 * h;
                _mm256_store_si256((__m256i *) q, _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4)));
                _mm256_store_si256((__m256i *) (q + 32), _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4)));
                _mm256_store_si256((__m256i *) (q + 64), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4)));
                _mm256_store_si256((__m256i *) (q + 96), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4)));
            }
            for (int j = 0; j < 16; j++) sc[j][r] = x->scales[j];
            memcpy(&d[r], &x->d, 2);
        }
        __m256i scale[16], pairs[8];
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) scale[j] = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *) sc[j]));
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) { /* lane r: row r's scales 2p (low 16 bits) and 2p+1 */
            const __m128i even = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *) sc[2 * p]));
            const __m128i odd = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *) sc[2 * p + 1]));
            pairs[p] = _mm256_set_m128i(_mm_unpackhi_epi16(even, odd), _mm_unpacklo_epi16(even, odd));
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) d));
        for (int t = 0; t < n; t++) sumi[t] = _mm256_setzero_si256();
#pragma GCC unroll 1
        for (int c = 0; c < 4; c++) {
            __m256i lo[8], hi[8]; /* elements 64c .. +31, 64c + 32 .. +31 */
            transpose8x32(quants[0] + 64 * c, QK_K, lo);
            transpose8x32(quants[0] + 64 * c + 32, QK_K, hi);
            const __m256i sc0 = scale[4 * c], sc1 = scale[4 * c + 1], sc2 = scale[4 * c + 2], sc3 = scale[4 * c + 3];
            for (int t = 0; t < n; t++) {
                const int32_t *a = (const int32_t *) (in_qs(xq + t * stride) + i * QK_K + 64 * c);
                __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
                __m256i s2 = _mm256_setzero_si256(), s3 = _mm256_setzero_si256();
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++) {
                    s0 = DOT_U8S8(s0, lo[k], _mm256_set1_epi32(a[k]));
                    s1 = DOT_U8S8(s1, lo[4 + k], _mm256_set1_epi32(a[4 + k]));
                    s2 = DOT_U8S8(s2, hi[k], _mm256_set1_epi32(a[8 + k]));
                    s3 = DOT_U8S8(s3, hi[4 + k], _mm256_set1_epi32(a[12 + k]));
                }
                const __m256i p01 = _mm256_add_epi32(_mm256_mullo_epi32(s0, sc0), _mm256_mullo_epi32(s1, sc1));
                const __m256i p23 = _mm256_add_epi32(_mm256_mullo_epi32(s2, sc2), _mm256_mullo_epi32(s3, sc3));
                sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(p01, p23));
            }
        }
        for (int t = 0; t < n; t++) {
            const uint8_t *rec = xq + t * stride;
            const int32_t *bs = (const int32_t *) (in_bsums(rec, cols) + i * 16); /* sums of 16: 2p and 2p+1 */
            __m256i offset = _mm256_madd_epi16(pairs[0], _mm256_set1_epi32(bs[0]));
#pragma GCC unroll 8
            for (int p = 1; p < 8; p++) offset = _mm256_add_epi32(offset, _mm256_madd_epi16(pairs[p], _mm256_set1_epi32(bs[p])));
            const __m256i total = _mm256_sub_epi32(sumi[t], _mm256_slli_epi32(offset, 5));
            acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(dw, _mm256_set1_ps(in_d(rec, cols)[i])), acc[t]);
        }
    }
    for (int t = 0; t < n; t++) _mm256_storeu_ps(out + t * out_stride, acc[t]);
}

/* Byte shuffles of Q6_K's 16 scales: scale s in bytes 0-7, scale s+1 in bytes 8-15, for s = 0, 2, .., 14. */
static const uint8_t PAIR8[8][16] __attribute__((aligned(16))) = {
#define P(s) {s, s, s, s, s, s, s, s, s + 1, s + 1, s + 1, s + 1, s + 1, s + 1, s + 1, s + 1}
    P(0), P(2), P(4), P(6), P(8), P(10), P(12), P(14)
#undef P
};

/* Q6_K: quants 0..63 multiply as unsigned; 32 * sum(scale * bsum) takes the offset of 32 off. */
TEK_INLINE void ktile_q6_K(const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, float *out,
                           int64_t out_stride, const int RN) {
    const int64_t nb = cols / QK_K;
    const __m256i m4 = _mm256_set1_epi8(0xF), m2 = _mm256_set1_epi8(3);
    __m256 acc[KTILE_N];
#pragma GCC unroll 8
    for (int t = 0; t < RN; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const block_q6_K *x = (const block_q6_K *) w + i;
        const __m128i sc8 = _mm_loadu_si128((const __m128i *) x->scales);
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        __m256i q[8], scale[8];
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *) (x->ql + 64 * h));
            const __m256i l1 = _mm256_loadu_si256((const __m256i *) (x->ql + 64 * h + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *) (x->qh + 32 * h));
            q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
            q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
            q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
            q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
        }
#pragma GCC unroll 8
        for (int g = 0; g < 8; g++) scale[g] = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, _mm_load_si128((const __m128i *) PAIR8[g])));
        const float d = f16(x->d);
#pragma GCC unroll 8
        for (int t = 0; t < RN; t++) {
            const uint8_t *rec = xq + t * stride;
            const int8_t *a = in_qs(rec) + i * QK_K;
            const __m256i bs = _mm256_loadu_si256((const __m256i *) (in_bsums(rec, cols) + i * 16));
            __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5));
#pragma GCC unroll 8
            for (int g = 0; g < 8; g++) {
                const __m256i p = _mm256_maddubs_epi16(q[g], _mm256_loadu_si256((const __m256i *) (a + 32 * g)));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scale[g]));
            }
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(in_d(rec, cols)[i] * d), _mm256_cvtepi32_ps(sumi), acc[t]);
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < RN; t++) out[t * out_stride] = hsum(acc[t]);
}

/* ---- the product ---------------------------------------------------------------------------------------- */

/* Rows eight at a time against the vectors PANEL at a time, then the rest of the rows as `rest` does from there. */
#define ROWS8(kernel8, bytes_per_row, rest)                                                                  \
    do {                                                                                                    \
        const int64_t row_bytes = (bytes_per_row);                                                          \
        int32_t r = row_start;                                                                              \
        for (; r + 8 <= row_end; r += 8)                                                                    \
            for (int32_t t = 0; t < batch; t += PANEL)                                                      \
                kernel8(w + r * row_bytes, cols, xq + t * stride, stride, out + t * out_stride + r, out_stride, \
                        batch - t < PANEL ? batch - t : PANEL);                                             \
        rest;                                                                                               \
    } while (0)

TEK_EXPORT void TIER_FN(matmul)(TEK_MATMUL_ARGS) {
    switch (type) {
        case TEK_Q4_0: /* rows8 for one vector too: as fast per byte from DRAM as one row, 0.6 of the instructions */
            ROWS8(rows8_q4_0, cols / QK * (int64_t) sizeof(block_q4_0), for (; r < row_end; r++) TILES(tile_q4_0, 1));
            break;
        case TEK_Q8_0:
            if (batch == 1) SINGLE_ROWS(tile_q8_0, block_q8_0);
            else Q8_0_BATCH;
            break;
        case TEK_Q4_K:
            if (batch == 1) K_ROWS(ktile_q4_K, block_q4_K, row_start);
            else ROWS8(rows8_q4_K, cols / QK_K * (int64_t) sizeof(block_q4_K), K_ROWS(ktile_q4_K, block_q4_K, r));
            break;
        case TEK_Q5_K: K_ROWS(ktile_q5_K, block_q5_K, row_start); break;
        case TEK_Q6_K:
            if (batch <= KTILE_N) K_ROWS(ktile_q6_K, block_q6_K, row_start); /* rows8's unpacking outweighs a few vectors */
            else ROWS8(rows8_q6_K, cols / QK_K * (int64_t) sizeof(block_q6_K), K_ROWS(ktile_q6_K, block_q6_K, r));
            break;
        default: break;
    }
}
