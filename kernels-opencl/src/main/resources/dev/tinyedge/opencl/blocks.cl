// Block layouts on the device, prepended to every program after common.cl. WeightLoader.java writes the
// weights this way at load; quantize_q8_0.cl and quantize_q8_k.cl write the activations. ggml's own layouts
// (ggml-common.h) are kept where their blocks are 16-byte aligned; the others are split so that
// neighbouring work-items read aligned, neighbouring runs.
//
// Weights, a matrix [n_out][n_in], row after row:
//   F32, F16  ggml's layout.
//   Q8_0      split: int8 quants q (32 per block) and fp16 scales d (one per block). w = q * d.
//   Q4_0      split: nibbles q (16 bytes per block: the low nibble of byte j is weight j, the high one
//             weight j + 16) and fp16 scales d. w = (nibble - 8) * d.
//   Q4_K      ggml's block_q4_K, 144 bytes per 256 weights: fp16 d, fp16 dmin, 12 bytes of 6-bit scales
//             and mins of eight sub-blocks of 32 (k_scale_min), 128 bytes of nibbles. Byte l of the 32-byte
//             run c holds weight 64c + l in its low nibble (sub-block 2c) and 64c + 32 + l in its high
//             nibble (sub-block 2c + 1). w = d * scale * nibble - dmin * min.
//   Q5_K      ggml's block_q5_K, 176 bytes: Q4_K's header, 32 bytes of fifth bits (byte l holds, at bit
//             2c, the fifth bit of weight 64c + l and, at bit 2c + 1, that of 64c + 32 + l), then 128
//             bytes of low nibbles laid out as Q4_K's.
//   Q6_K      ggml's block_q6_K without its trailing fp16 d, which goes to a separate array (210 bytes
//             are not 4-byte aligned; 208 are 16-byte aligned): 128 bytes of low nibbles, 64 of high
//             2-bit pairs, 16 int8 scales (one per 16 weights). In each half h of 128 weights, for l < 32:
//             nibble byte 64h + l holds weights 128h + l (low) and 128h + 64 + l (high), byte 64h + 32 + l
//             holds 128h + 32 + l and 128h + 96 + l, and high byte 128 + 32h + l holds the top bits of
//             weights 128h + l, + 32, + 64, + 96 at bits 0, 2, 4, 6. w = d * scale * (q - 32).
#define Q4_K_BYTES 144
#define Q4_K_SCALES 4
#define Q4_K_QS 16
#define Q5_K_BYTES 176
#define Q5_K_SCALES 4
#define Q5_K_QH 16
#define Q5_K_QS 48
#define Q6_K_BYTES 208
#define Q6_K_QH 128
#define Q6_K_SCALES 192
//
// Activations, the input of a quantized product rounded as llama.cpp rounds it (ggml's vec_dot_type),
// [n_tokens][n_in] values:
//   Q8_0  (for Q4_0, Q8_0 weights) int8 quants q and per block of 32 a float scale d, the fp16 value of
//         amax / 127 (ggml stores it as fp16). x ~ q * d.
//   Q8_K  (for Q4_K, Q5_K, Q6_K weights) int8 quants q, per block of 256 a float scale d = max / -127
//         (max: the value of largest magnitude), and per 16 values the sum of their quants (ggml's bsums).

// The 6-bit scale (x) and min (y) of sub-block j < 8 from a K-quant block's 12 packed bytes: bytes 0-3
// hold scales 0-3 and bytes 4-7 mins 0-3 in their low 6 bits; scales and mins 4-7 keep their low 4 bits
// in bytes 8-11 (scale low, min high) and their top 2 bits in the spare top bits of bytes 0-3 and 4-7.
inline int2 k_scale_min(global const uchar* s, int j) {
    if (j < 4) {
        return (int2) (s[j] & 63, s[j + 4] & 63);
    }
    return (int2) ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4));
}

// The KV cache of one layer, [ring][n_kv_heads][head_dim], position p at slot p % ring (ring: the context, or
// for a sliding-window layer the positions its window can still see while a batch is added): fp16 with KV_HALF
// (rounded to nearest even when stored, as ggml's F16 cache), else f32.
#ifdef KV_HALF
typedef half kv_t;
#define load_kv(p, i) vload_half((i), (p))
#define store_kv_value(v, p, i) vstore_half_rte((v), (i), (p))
#else
typedef float kv_t;
#define load_kv(p, i) ((p)[i])
#define store_kv_value(v, p, i) ((p)[i] = (v))
#endif
