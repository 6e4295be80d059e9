// y = W x for Q8_0 weights W [n_out][n_in], in the flat layout made once at load: int8 values q
// (32 per block) and scales d (one half per block). Weight value = q * d. n_in is a multiple of 32.
// Same work splits as matmul_q4_0.cl (see there), and no contraction into fma either.
#pragma OPENCL FP_CONTRACT OFF

inline float block_dot_q8_0(global const char* row_q, global const half* row_d, global const float* x, int b) {
    const float16 lo = convert_float16(vload16(2 * b, row_q));
    const float16 hi = convert_float16(vload16(2 * b + 1, row_q));
    return sum16(lo * vload16(0, x + b * 32) + hi * vload16(1, x + b * 32)) * vload_half(b, row_d);
}

// Decode on CPU devices: one work-item per output row; global size n_out or more.
kernel void mul_mv_q8_0(global const char* q, global const half* d, global const float* x,
                        global float* y, int n_in, int n_out) {
    const int row = get_global_id(0);
    if (row >= n_out) {
        return;
    }
    const int blocks = n_in / 32;
    global const char* row_q = q + (size_t) row * n_in;
    global const half* row_d = d + (size_t) row * blocks;
    float sum = 0.0f;
    for (int b = 0; b < blocks; b++) {
        sum += block_dot_q8_0(row_q, row_d, x, b);
    }
    y[row] = sum;
}

// Decode on GPUs: one work-group per output row, work-items striding over its blocks (32-byte runs side
// by side). Global size n_out * G, local size G (a power of two); scratch holds G floats.
kernel void mul_mv_q8_0_group(global const char* q, global const half* d, global const float* x,
                              global float* y, int n_in, int n_out, local float* scratch) {
    const int row = get_group_id(0);
    const int blocks = n_in / 32;
    global const char* row_q = q + (size_t) row * n_in;
    global const half* row_d = d + (size_t) row * blocks;
    float sum = 0.0f;
    for (int b = get_local_id(0); b < blocks; b += get_local_size(0)) {
        sum += block_dot_q8_0(row_q, row_d, x, b);
    }
    sum = group_sum(scratch, sum);
    if (get_local_id(0) == 0) {
        y[row] = sum;
    }
}

#define TILE 8
kernel void mul_mm_q8_0(global const char* q, global const half* d, global const float* x,
                        global float* y, int n_in, int n_out, int n_tokens) {
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
        const float scale = vload_half(b, row_d);
        const float16 lo = convert_float16(vload16(2 * b, row_q)) * scale;
        const float16 hi = convert_float16(vload16(2 * b + 1, row_q)) * scale;
        for (int t = 0; t < tokens; t++) {
            global const float* xb = x + (size_t) (t0 + t) * n_in + b * 32;
            acc[t] += sum16(lo * vload16(0, xb) + hi * vload16(1, xb));
        }
    }
    for (int t = 0; t < tokens; t++) {
        y[(size_t) (t0 + t) * n_out + row] = acc[t];
    }
}
