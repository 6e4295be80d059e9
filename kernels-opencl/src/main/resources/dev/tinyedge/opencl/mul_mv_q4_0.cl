// Decode: y = W x for Q4_0 weights W [n_out][n_in] (blocks.cl) and one input x rounded to Q8_0 (quants xq,
// scales xd). Per block the nibble-times-quant sum is an exact integer, scaled by both scales in float, as
// llama.cpp's ggml_vec_dot_q4_0_q8_0 does. LANES work-items share a row (common.cl), lane l taking blocks
// l, l + LANES, …: neighbouring lanes read neighbouring 16-byte runs, which a GPU coalesces into few wide
// loads. Global size ROWS * LANES * ceil(n_out / ROWS), local size ROWS * LANES.
kernel void mul_mv_q4_0(global const uchar* q, global const half* d, global const char* xq,
                        global const float* xd, global float* y, int n_in, int n_out) {
    local float scratch[MV_SCRATCH];
    const int row = MV_ROW();
    const int lane = MV_LANE();
    const int blocks = n_in / 32;
    float sum = 0.0f;
    if (row < n_out) {
        global const uchar* row_q = q + (size_t) row * blocks * 16;
        global const half* row_d = d + (size_t) row * blocks;
        for (int b = lane; b < blocks; b += LANES) {
            const uchar16 packed = vload16(b, row_q);
            const char16 lo = as_char16(packed & (uchar16) 15) - (char16) 8;
            const char16 hi = as_char16(packed >> (uchar16) 4) - (char16) 8;
            const int dot = dot16(lo, vload16(2 * b, xq)) + dot16(hi, vload16(2 * b + 1, xq));
            sum += dot * (vload_half(b, row_d) * xd[b]);
        }
    }
    sum = row_sum(sum, scratch);
    if (lane == 0 && row < n_out) {
        y[row] = sum;
    }
}
