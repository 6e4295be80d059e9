// Decode: y = W x for Q8_0 weights W [n_out][n_in] (blocks.cl) and one input x rounded to Q8_0 (quants xq,
// scales xd): per block an exact integer sum of quant products, times both scales, as llama.cpp's
// ggml_vec_dot_q8_0_q8_0. Work split as in mul_mv_q4_0.cl (32-byte runs side by side).
kernel void mul_mv_q8_0(global const char* q, global const half* d, global const char* xq,
                        global const float* xd, global float* y, int n_in, int n_out) {
    local float scratch[MV_SCRATCH];
    const int row = MV_ROW();
    const int lane = MV_LANE();
    const int blocks = n_in / 32;
    float sum = 0.0f;
    if (row < n_out) {
        global const char* row_q = q + (size_t) row * n_in;
        global const half* row_d = d + (size_t) row * blocks;
        for (int b = lane; b < blocks; b += LANES) {
            const int dot = dot16(vload16(2 * b, row_q), vload16(2 * b, xq))
                          + dot16(vload16(2 * b + 1, row_q), vload16(2 * b + 1, xq));
            sum += dot * (vload_half(b, row_d) * xd[b]);
        }
    }
    sum = row_sum(sum, scratch);
    if (lane == 0 && row < n_out) {
        y[row] = sum;
    }
}
