/*
 * tinyedge's native CPU kernels: what every tier shares.
 *
 * Weights stay in ggml's block layouts, read in place from the mapped GGUF file. Activations are rounded
 * into this library's own layout, one record per vector at a fixed stride (tek_input_stride):
 *
 *   Q8_0 form (for Q4_0 and Q8_0 weights): int8 qs[cols], float d[cols/32], int32 sum[cols/32],
 *                                          uint8 qu[cols] (qs + 128, for unsigned-by-signed products)
 *   Q8_K form (for Q4_K, Q5_K, Q6_K):      int8 qs[cols], float d[cols/256], int16 bsums[cols/16],
 *                                          int16 bsums32[cols/32]
 *
 * d of the Q8_0 form is already rounded to fp16, as ggml's block_q8_0 stores it; sum is the sum of the
 * block's quants, which the Q4_0 kernels use to subtract 8 from every nibble in one step. The Q8_K form is
 * ggml's quantize_row_q8_K_ref with the blocks' fields gathered per vector.
 *
 * Each tier's translation unit is compiled with its own instruction-set flags and defines TIER; its
 * exported functions are tek_<TIER>_quantize and tek_<TIER>_matmul (prototypes below).
 */
#ifndef TEK_H
#define TEK_H

#include <stdint.h>
#include <string.h>
#include <math.h>

#define TEK_F32 0
#define TEK_Q4_0 2
#define TEK_Q8_0 8
#define TEK_Q4_K 12
#define TEK_Q5_K 13
#define TEK_Q6_K 14
#define TEK_Q8_K 15

#define QK 32
#define QK_K 256

typedef struct { uint16_t d; uint8_t qs[16]; } __attribute__((packed)) block_q4_0;
typedef struct { uint16_t d; int8_t qs[32]; } __attribute__((packed)) block_q8_0;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } __attribute__((packed)) block_q4_K;
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } __attribute__((packed)) block_q5_K;
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } __attribute__((packed)) block_q6_K;

_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0");
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0");
_Static_assert(sizeof(block_q4_K) == 144, "block_q4_K");
_Static_assert(sizeof(block_q5_K) == 176, "block_q5_K");
_Static_assert(sizeof(block_q6_K) == 210, "block_q6_K");

#define TEK_CAT3(a, b, c) a##b##c
#define TEK_NAME(tier, name) TEK_CAT3(tek_, tier, name)
/* tek_<TIER>_<name> */
#define TIER_FN(name) TEK_NAME(TIER, _##name)

#define TEK_EXPORT __attribute__((visibility("default")))
#define TEK_INLINE static inline __attribute__((always_inline))

/* Bytes of one vector's record in the Q8_0 (kind 8) or Q8_K (kind 15) form, a multiple of 64. */
TEK_EXPORT int64_t tek_input_stride(int32_t kind, int64_t cols);

/* Bit i set: tier i of tek_tier_name runs on this CPU. */
TEK_EXPORT int32_t tek_supported_tiers(void);

/* What a tier's pointers into the activation record are. */
TEK_INLINE const int8_t *in_qs(const uint8_t *rec) { return (const int8_t *) rec; }
TEK_INLINE const float *in_d(const uint8_t *rec, int64_t cols) { return (const float *) (rec + cols); }
TEK_INLINE const int32_t *in_sum(const uint8_t *rec, int64_t cols) { return (const int32_t *) (rec + cols + 4 * (cols / QK)); }
TEK_INLINE const uint8_t *in_qu(const uint8_t *rec, int64_t cols) { return rec + cols + 8 * (cols / QK); }
TEK_INLINE const int16_t *in_bsums(const uint8_t *rec, int64_t cols) { return (const int16_t *) (rec + cols + 4 * (cols / QK_K)); }
TEK_INLINE const int16_t *in_bsums32(const uint8_t *rec, int64_t cols) { return in_bsums(rec, cols) + cols / 16; }

/*
 * Rounds chunks [from, to) of the batch's vectors x[b*cols ..] into records at xq + b*stride: chunk c is
 * vector c / ceil(cols/256), elements 256*(c % that) .. +256 (fewer at the end of a vector). kind 8 needs
 * cols % 32 == 0, kind 15 cols % 256 == 0.
 */
#define TEK_QUANTIZE_ARGS int32_t kind, const float *x, int64_t cols, uint8_t *xq, int64_t stride, int32_t from, int32_t to
/*
 * out[b*out_stride + r] = row r of w (type, cols per row) · vector b, for rows [row_start, row_end) and
 * b < batch, the vectors given as records at xq + b*stride in the form the type takes.
 */
#define TEK_MATMUL_ARGS int32_t type, const uint8_t *w, int64_t cols, const uint8_t *xq, int64_t stride, int32_t batch, \
    float *out, int64_t out_stride, int32_t row_start, int32_t row_end

/*
 * How a tier's TIER_FN(matmul) walks rows [row_start, row_end) and the batch's vectors. Macros, so that every
 * kernel call has constant tile sizes (RM rows, RN vectors) for the compiler to unroll; they expand inside
 * matmul and use its arguments by name. A tier defines TILE_M, TILE_N (at most 4) and KTILE_N.
 */

/* kernel on rows r .. r+RM-1 (row_bytes each) against vectors t .. t+RN-1 */
#define TILE(kernel, RM, RN) \
    kernel(w + r * row_bytes, cols, xq + t * stride, stride, out + t * out_stride + r, out_stride, RM, RN)

/* Rows r .. r+RM-1 against the vectors TILE_N at a time, the rest of them (fewer than TILE_N) in one call. */
#define TILES(kernel, RM)                                                                                    \
    do {                                                                                                    \
        _Static_assert(TILE_N <= 4, "TILES calls the rest of the vectors as one tile of 1, 2 or 3");        \
        int32_t t = 0;                                                                                      \
        for (; t + TILE_N <= batch; t += TILE_N) TILE(kernel, RM, TILE_N);                                  \
        switch (batch - t) { /* 2 and 3 occur only below TILE_N; the tiles' sizes stay within it */         \
            case 3: if (3 < TILE_N) TILE(kernel, RM, 3 < TILE_N ? 3 : 1); break;                            \
            case 2: if (2 < TILE_N) TILE(kernel, RM, 2 < TILE_N ? 2 : 1); break;                            \
            case 1: TILE(kernel, RM, 1); break;                                                             \
            default: break;                                                                                 \
        }                                                                                                   \
    } while (0)

/* Rows from `first` in groups of TILE_M (the rest one at a time), each group against the vectors in groups of TILE_N. */
#define ROWS(kernel, block_type, block_elems, first)                                                         \
    do {                                                                                                    \
        const int64_t row_bytes = cols / (block_elems) * (int64_t) sizeof(block_type);                      \
        const int32_t first_ = (first);                                                                     \
        int32_t r = first_;                                                                                 \
        for (; r + TILE_M <= row_end; r += TILE_M) TILES(kernel, TILE_M);                                   \
        for (; r < row_end; r++) TILES(kernel, 1);                                                          \
    } while (0)

/* K-quant rows from `first` one after another (one stream through memory), each against the vectors KTILE_N at a time. */
#define K_ROWS(ktile, block_type, first)                                                                     \
    do {                                                                                                    \
        const int64_t row_bytes = cols / QK_K * (int64_t) sizeof(block_type);                               \
        const int32_t first_ = (first);                                                                     \
        for (int32_t r = first_; r < row_end; r++) {                                                        \
            int32_t t = 0;                                                                                  \
            for (; t + KTILE_N <= batch; t += KTILE_N)                                                      \
                ktile(w + r * row_bytes, cols, xq + t * stride, stride, out + t * out_stride + r, out_stride, KTILE_N); \
            for (; t < batch; t++)                                                                          \
                ktile(w + r * row_bytes, cols, xq + t * stride, stride, out + t * out_stride + r, out_stride, 1); \
        }                                                                                                   \
    } while (0)

/* A single vector, row after row: one stream through memory per thread. */
#define SINGLE_ROWS(kernel, block_type)                                                                      \
    do {                                                                                                    \
        const int64_t row_bytes = cols / QK * (int64_t) sizeof(block_type);                                 \
        for (int32_t r = row_start; r < row_end; r++)                                                       \
            kernel(w + r * row_bytes, cols, xq, stride, out + r, out_stride, 1, 1);                         \
    } while (0)

/* ggml's quantize_row_q8_K_ref for one super-block, with the fields placed as the Q8_K form keeps them. */
TEK_INLINE void quantize_q8_K_block(const float *x, int8_t *qs, float *d, int16_t *bsums, int16_t *bsums32) {
    float max = 0, amax = 0;
    for (int j = 0; j < QK_K; j++) {
        float ax = fabsf(x[j]);
        if (ax > amax) {
            amax = ax;
            max = x[j];
        }
    }
    if (amax == 0) {
        *d = 0;
        memset(qs, 0, QK_K);
        memset(bsums, 0, QK_K / 16 * sizeof(int16_t));
        memset(bsums32, 0, QK_K / 32 * sizeof(int16_t));
        return;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < QK_K; j++) {
        int v = (int) nearbyintf(iscale * x[j]);
        qs[j] = (int8_t) (v < 127 ? v : 127);
    }
    for (int j = 0; j < QK_K / 16; j++) {
        int sum = 0;
        for (int i = 0; i < 16; i++) {
            sum += qs[j * 16 + i];
        }
        bsums[j] = (int16_t) sum;
    }
    for (int j = 0; j < QK_K / 32; j++) {
        bsums32[j] = (int16_t) (bsums[2 * j] + bsums[2 * j + 1]);
    }
    *d = 1 / iscale;
}

/* Q4_K/Q5_K: the eight 6-bit scales and mins packed in 12 bytes (ggml's get_scale_min_k4). */
TEK_INLINE void scales_and_mins(const uint8_t *packed, uint8_t *sc, uint8_t *mn) {
    for (int j = 0; j < 4; j++) {
        sc[j] = packed[j] & 63;
        mn[j] = packed[j + 4] & 63;
        sc[j + 4] = (packed[j + 8] & 0xF) | ((packed[j] >> 6) << 4);
        mn[j + 4] = (packed[j + 8] >> 4) | ((packed[j + 4] >> 6) << 4);
    }
}

#endif
