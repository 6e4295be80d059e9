// Decode: y = W x for Q5_K weights W [n_out][n_in] (blocks.cl) and one input x rounded to Q8_K, as llama.cpp's
// ggml_vec_dot_q5_K_q8_K: Q4_K's arithmetic (mul_mv_q4_k.cl) with a fifth bit on every nibble. Same work
// units and split as mul_mv_q4_k.cl; a unit also reads the 16 bytes of fifth bits its weights share.
kernel void mul_mv_q5_k(global const uchar* w, global const char* xq, global const float* xd,
                        global const short* xs, global float* y, int n_in, int n_out) {
    local float scratch[MV_SCRATCH];
    const int row = MV_ROW();
    const int lane = MV_LANE();
    const int units = n_in / 32;
    float sum = 0.0f;
    if (row < n_out) {
        global const uchar* row_w = w + (size_t) row * (n_in / 256) * Q5_K_BYTES;
        for (int u = lane; u < units; u += LANES) {
            const int sb = u / 8;
            const int c = u % 8 / 2;
            const int h = u % 2;
            global const uchar* block = row_w + sb * Q5_K_BYTES;
            const uchar16 packed = vload16(0, block + Q5_K_QS + c * 32 + h * 16);
            const uchar16 fifth = vload16(0, block + Q5_K_QH + h * 16) >> (uchar16) (2 * c);
            const char16 q_lo = as_char16((packed & (uchar16) 15) | ((fifth & (uchar16) 1) << (uchar16) 4));
            const char16 q_hi = as_char16((packed >> (uchar16) 4) | ((fifth & (uchar16) 2) << (uchar16) 3));
            const int at = sb * 256 + c * 64 + h * 16;
            const int2 lo = k_scale_min(block + Q5_K_SCALES, 2 * c);
            const int2 hi = k_scale_min(block + Q5_K_SCALES, 2 * c + 1);
            const int dot = lo.x * dot16(q_lo, vload16(0, xq + at)) + hi.x * dot16(q_hi, vload16(0, xq + at + 32));
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
