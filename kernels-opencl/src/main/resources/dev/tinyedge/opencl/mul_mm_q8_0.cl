// Prefill: y = W x for Q8_0 weights W [n_out][n_in] (blocks.cl) and a batch x [n_tokens][n_in] rounded to
// Q8_0; the arithmetic of mul_mv_q8_0.cl, the tiling of mul_mm_q4_0.cl.
#define TILE 8
kernel void mul_mm_q8_0(global const char* q, global const half* d, global const char* xq,
                        global const float* xd, global float* y, int n_in, int n_out, int n_tokens) {
    const int row = get_global_id(0);
    if (row >= n_out) {
        return;
    }
    const int t0 = get_global_id(1) * TILE;
    const int tokens = min(TILE, n_tokens - t0);
    const int blocks = n_in / 32;
    global const char* row_q = q + (size_t) row * n_in;
    global const half* row_d = d + (size_t) row * blocks;
    float acc[TILE] = {0};
    for (int b = 0; b < blocks; b++) {
        const char16 lo = vload16(2 * b, row_q);
        const char16 hi = vload16(2 * b + 1, row_q);
        const float scale = vload_half(b, row_d);
        for (int t = 0; t < tokens; t++) {
            global const char* x = xq + (size_t) (t0 + t) * n_in + b * 32;
            const int dot = dot16(lo, vload16(0, x)) + dot16(hi, vload16(1, x));
            acc[t] += dot * (scale * xd[(size_t) (t0 + t) * blocks + b]);
        }
    }
    for (int t = 0; t < tokens; t++) {
        y[(size_t) (t0 + t) * n_out + row] = acc[t];
    }
}
