// Prefill: y = W x for Q6_K weights W [n_out][n_in] (blocks.cl) and a batch x [n_tokens][n_in] rounded to
// Q8_K, y [n_tokens][n_out]; the arithmetic and work units of mul_mv_q6_k.cl, a work-item taking one row for
// a tile of TILE tokens. Global size (n_out or more, ceil(n_tokens / TILE)).
#define TILE 8
kernel void mul_mm_q6_k(global const uchar* w, global const half* d, global const char* xq,
                        global const float* xd, global float* y, int n_in, int n_out, int n_tokens) {
    const int row = get_global_id(0);
    if (row >= n_out) {
        return;
    }
    const int t0 = get_global_id(1) * TILE;
    const int tokens = min(TILE, n_tokens - t0);
    const int superblocks = n_in / 256;
    global const uchar* row_w = w + (size_t) row * superblocks * Q6_K_BYTES;
    global const half* row_d = d + (size_t) row * superblocks;
    float acc[TILE] = {0};
    for (int u = 0; u < n_in / 64; u++) {
        const int sb = u / 4;
        const int half_index = u % 4 / 2;
        const int l = u % 2 * 16;
        global const uchar* block = row_w + sb * Q6_K_BYTES;
        const uchar16 a = vload16(0, block + half_index * 64 + l);
        const uchar16 b = vload16(0, block + half_index * 64 + 32 + l);
        const uchar16 high = vload16(0, block + Q6_K_QH + half_index * 32 + l);
        global const char* scales = (global const char*) block + Q6_K_SCALES + half_index * 8 + l / 16;
        const char16 q0 = as_char16((a & (uchar16) 15) | ((high & (uchar16) 3) << (uchar16) 4)) - (char16) 32;
        const char16 q1 = as_char16((b & (uchar16) 15) | ((high & (uchar16) 12) << (uchar16) 2)) - (char16) 32;
        const char16 q2 = as_char16((a >> (uchar16) 4) | (high & (uchar16) 48)) - (char16) 32;
        const char16 q3 = as_char16((b >> (uchar16) 4) | ((high >> (uchar16) 2) & (uchar16) 48)) - (char16) 32;
        const int4 s = (int4) (scales[0], scales[2], scales[4], scales[6]);
        const float scale = vload_half(sb, row_d);
        for (int t = 0; t < tokens; t++) {
            const size_t token = t0 + t;
            global const char* x = xq + token * n_in + sb * 256 + half_index * 128 + l;
            const int dot = s.x * dot16(q0, vload16(0, x)) + s.y * dot16(q1, vload16(0, x + 32))
                          + s.z * dot16(q2, vload16(0, x + 64)) + s.w * dot16(q3, vload16(0, x + 96));
            acc[t] += dot * (scale * xd[token * superblocks + sb]);
        }
    }
    for (int t = 0; t < tokens; t++) {
        y[(size_t) (t0 + t) * n_out + row] = acc[t];
    }
}
