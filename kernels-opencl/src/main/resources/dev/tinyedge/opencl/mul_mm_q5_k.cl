// Prefill: y = W x for Q5_K weights W [n_out][n_in] (blocks.cl) and a batch x [n_tokens][n_in] rounded to
// Q8_K; the arithmetic of mul_mv_q5_k.cl, the tiling of mul_mm_q4_k.cl.
#define TILE 8
kernel void mul_mm_q5_k(global const uchar* w, global const char* xq, global const float* xd,
                        global const short* xs, global float* y, int n_in, int n_out, int n_tokens) {
    const int row = get_global_id(0);
    if (row >= n_out) {
        return;
    }
    const int t0 = get_global_id(1) * TILE;
    const int tokens = min(TILE, n_tokens - t0);
    const int superblocks = n_in / 256;
    global const uchar* row_w = w + (size_t) row * superblocks * Q5_K_BYTES;
    float acc[TILE] = {0};
    for (int u = 0; u < n_in / 32; u++) {
        const int sb = u / 8;
        const int c = u % 8 / 2;
        const int h = u % 2;
        global const uchar* block = row_w + sb * Q5_K_BYTES;
        const uchar16 packed = vload16(0, block + Q5_K_QS + c * 32 + h * 16);
        const uchar16 fifth = vload16(0, block + Q5_K_QH + h * 16) >> (uchar16) (2 * c);
        const char16 q_lo = as_char16((packed & (uchar16) 15) | ((fifth & (uchar16) 1) << (uchar16) 4));
        const char16 q_hi = as_char16((packed >> (uchar16) 4) | ((fifth & (uchar16) 2) << (uchar16) 3));
        const int2 lo = k_scale_min(block + Q5_K_SCALES, 2 * c);
        const int2 hi = k_scale_min(block + Q5_K_SCALES, 2 * c + 1);
        const float d = vload_half(0, (global const half*) block);
        const float dmin = vload_half(1, (global const half*) block);
        const int at = sb * 256 + c * 64 + h * 16;
        for (int t = 0; t < tokens; t++) {
            const size_t token = t0 + t;
            global const char* x = xq + token * n_in + at;
            global const short* sums = xs + token * (n_in / 16) + at / 16;
            const int dot = lo.x * dot16(q_lo, vload16(0, x)) + hi.x * dot16(q_hi, vload16(0, x + 32));
            const int mins = lo.y * sums[0] + hi.y * sums[2];
            acc[t] += xd[token * superblocks + sb] * (d * dot - dmin * mins);
        }
    }
    for (int t = 0; t < tokens; t++) {
        y[(size_t) (t0 + t) * n_out + row] = acc[t];
    }
}
