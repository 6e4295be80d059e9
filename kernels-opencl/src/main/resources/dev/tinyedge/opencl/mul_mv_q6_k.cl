// Decode: y = W x for Q6_K weights W [n_out][n_in] (blocks.cl: 208-byte blocks in w, their fp16 d in d) and
// one input x rounded to Q8_K, as llama.cpp's ggml_vec_dot_q6_K_q8_K: per 16 weights an exact integer sum of
// (q - 32) times the input's quants, times the group's int8 scale, then d and the input's scale in float.
//
// A work unit is 16 values of l in one half of a block (the u-th of 4: half u / 2, l from 16 (u % 2)): 16 bytes
// from each of the two nibble runs and 16 high bytes, 64 weights in four groups of 16. LANES work-items share
// a row (common.cl), lane l taking units l, l + LANES, ….
kernel void mul_mv_q6_k(global const uchar* w, global const half* d, global const char* xq,
                        global const float* xd, global float* y, int n_in, int n_out) {
    local float scratch[MV_SCRATCH];
    const int row = MV_ROW();
    const int lane = MV_LANE();
    const int units = n_in / 64;
    float sum = 0.0f;
    if (row < n_out) {
        global const uchar* row_w = w + (size_t) row * (n_in / 256) * Q6_K_BYTES;
        global const half* row_d = d + (size_t) row * (n_in / 256);
        for (int u = lane; u < units; u += LANES) {
            const int sb = u / 4;
            const int half_index = u % 4 / 2;
            const int l = u % 2 * 16;
            global const uchar* block = row_w + sb * Q6_K_BYTES;
            const uchar16 a = vload16(0, block + half_index * 64 + l);
            const uchar16 b = vload16(0, block + half_index * 64 + 32 + l);
            const uchar16 high = vload16(0, block + Q6_K_QH + half_index * 32 + l);
            global const char* scales = (global const char*) block + Q6_K_SCALES + half_index * 8 + l / 16;
            global const char* x = xq + sb * 256 + half_index * 128 + l;
            const char16 q0 = as_char16((a & (uchar16) 15) | ((high & (uchar16) 3) << (uchar16) 4)) - (char16) 32;
            const char16 q1 = as_char16((b & (uchar16) 15) | ((high & (uchar16) 12) << (uchar16) 2)) - (char16) 32;
            const char16 q2 = as_char16((a >> (uchar16) 4) | (high & (uchar16) 48)) - (char16) 32;
            const char16 q3 = as_char16((b >> (uchar16) 4) | ((high >> (uchar16) 2) & (uchar16) 48)) - (char16) 32;
            const int dot = scales[0] * dot16(q0, vload16(0, x)) + scales[2] * dot16(q1, vload16(0, x + 32))
                          + scales[4] * dot16(q2, vload16(0, x + 64)) + scales[6] * dot16(q3, vload16(0, x + 96));
            sum += dot * (vload_half(sb, row_d) * xd[sb]);
        }
    }
    sum = row_sum(sum, scratch);
    if (lane == 0 && row < n_out) {
        y[row] = sum;
    }
}
