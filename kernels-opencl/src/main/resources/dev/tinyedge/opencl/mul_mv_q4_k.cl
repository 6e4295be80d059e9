// Decode: y = W x for Q4_K weights W [n_out][n_in] (blocks.cl) and one input x rounded to Q8_K (quants xq,
// scales xd, sums of 16 xs), as llama.cpp's ggml_vec_dot_q4_K_q8_K: per sub-block an exact integer sum of
// nibble-times-quant products times its 6-bit scale, minus its 6-bit min times the sum of its quants, then
// d and dmin and the input's scale in float.
//
// A work unit is 16 bytes of nibbles (the u-th of 8 in a block: run c = u / 2, half u % 2), which hold 16
// weights of sub-block 2c and 16 of sub-block 2c + 1. LANES work-items share a row (common.cl), lane l
// taking units l, l + LANES, …, so neighbouring lanes read neighbouring 16-byte runs of one block.
kernel void mul_mv_q4_k(global const uchar* w, global const char* xq, global const float* xd,
                        global const short* xs, global float* y, int n_in, int n_out) {
    local float scratch[MV_SCRATCH];
    const int row = MV_ROW();
    const int lane = MV_LANE();
    const int units = n_in / 32;
    float sum = 0.0f;
    if (row < n_out) {
        global const uchar* row_w = w + (size_t) row * (n_in / 256) * Q4_K_BYTES;
        for (int u = lane; u < units; u += LANES) {
            const int sb = u / 8;
            const int c = u % 8 / 2;
            const int h = u % 2;
            global const uchar* block = row_w + sb * Q4_K_BYTES;
            const uchar16 packed = vload16(0, block + Q4_K_QS + c * 32 + h * 16);
            const int at = sb * 256 + c * 64 + h * 16;
            const int2 lo = k_scale_min(block + Q4_K_SCALES, 2 * c);
            const int2 hi = k_scale_min(block + Q4_K_SCALES, 2 * c + 1);
            const int dot = lo.x * dot16(as_char16(packed & (uchar16) 15), vload16(0, xq + at))
                          + hi.x * dot16(as_char16(packed >> (uchar16) 4), vload16(0, xq + at + 32));
            const int mins = lo.y * xs[at / 16] + hi.y * xs[at / 16 + 2];
            sum += xd[sb] * (vload_half(0, (global const half*) block) * dot
                           - vload_half(1, (global const half*) block) * mins);
        }
    }
    sum = row_sum(sum, scratch);
    if (lane == 0 && row < n_out) {
        y[row] = sum;
    }
}
