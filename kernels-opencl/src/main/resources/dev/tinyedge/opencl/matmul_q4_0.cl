// y = W x for Q4_0 weights W [n_out][n_in], in the flat layout made once at load (like llama.cpp's
// OpenCL backend): nibbles q (16 bytes per 32-weight block, ggml order: low nibble of byte j is
// element j, high nibble element j + 16) and scales d (one half per block). Weight value =
// (nibble - 8) * d. n_in is a multiple of 32.
//
// No contraction of a * b + c into fma, which OpenCL C otherwise allows and compilers use where they
// like: each device then rounds the products and sums the source writes, so devices differ only by the
// summation order of their work split, not by their compilers' choices.
#pragma OPENCL FP_CONTRACT OFF

// Block b of a row times x (the input, rounded to Q8_0): (nibble - 8) * x products, summed, times the
// block's scale. Both decode kernels use it, so they differ only in how the blocks are summed.
inline float block_dot_q4_0(global const uchar* row_q, global const half* row_d, global const float* x, int b) {
    const uchar16 nibbles = vload16(b, row_q);
    const float16 lo = convert_float16(nibbles & (uchar16) 15) - 8.0f;
    const float16 hi = convert_float16(nibbles >> (uchar16) 4) - 8.0f;
    return sum16(lo * vload16(0, x + b * 32) + hi * vload16(1, x + b * 32)) * vload_half(b, row_d);
}

// Decode has two work splits; the host picks one by device type (Kernels.java):
// - mul_mv_q4_0 (CPU devices such as PoCL): one work-item per output row, reading its row in 16-byte
//   vector loads, no local memory and no barriers: on PoCL 1.2-3x faster than a work-group per row
//   (decode-sized matrices, 2048 x 5632 and 5632 x 2048).
// - mul_mv_q4_0_group (GPUs): one work-group per output row. Work-item l takes blocks l, l + G, l + 2G, …
//   (G the local size), so neighbouring work-items read neighbouring 16-byte runs and a GPU coalesces
//   them into few wide loads; the partial sums then meet in local memory. With one work-item per row a
//   GPU instead sees loads a whole row apart, and too few work-items for its cores (NVIDIA H200: decode
//   at 35 GB/s of its ~4.8 TB/s).

// Decode: x is one vector [n_in], y [n_out]. Global size n_out or more.
kernel void mul_mv_q4_0(global const uchar* q, global const half* d, global const float* x,
                        global float* y, int n_in, int n_out) {
    const int row = get_global_id(0);
    if (row >= n_out) {
        return;
    }
    const int blocks = n_in / 32;
    global const uchar* row_q = q + (size_t) row * blocks * 16;
    global const half* row_d = d + (size_t) row * blocks;
    float sum = 0.0f;
    for (int b = 0; b < blocks; b++) {
        sum += block_dot_q4_0(row_q, row_d, x, b);
    }
    y[row] = sum;
}

// Decode on GPUs. Global size n_out * G, local size G (a power of two); scratch holds G floats. n_out is
// unused: the arguments are those of mul_mv_q4_0.
kernel void mul_mv_q4_0_group(global const uchar* q, global const half* d, global const float* x,
                              global float* y, int n_in, int n_out, local float* scratch) {
    const int row = get_group_id(0);
    const int blocks = n_in / 32;
    global const uchar* row_q = q + (size_t) row * blocks * 16;
    global const half* row_d = d + (size_t) row * blocks;
    float sum = 0.0f;
    for (int b = get_local_id(0); b < blocks; b += get_local_size(0)) {
        sum += block_dot_q4_0(row_q, row_d, x, b);
    }
    sum = group_sum(scratch, sum);
    if (get_local_id(0) == 0) {
        y[row] = sum;
    }
}

// Prefill: x is [n_tokens][n_in], y [n_tokens][n_out]. A work-item takes one row for a tile of TILE
// tokens, so each dequantized block is used TILE times. Global size (n_out or more, ceil(n_tokens / TILE)).
#define TILE 8
kernel void mul_mm_q4_0(global const uchar* q, global const half* d, global const float* x,
                        global float* y, int n_in, int n_out, int n_tokens) {
    const int row = get_global_id(0);
    if (row >= n_out) {
        return;
    }
    const int t0 = get_global_id(1) * TILE;
    const int tokens = min(TILE, n_tokens - t0);
    const int blocks = n_in / 32;
    global const uchar* row_q = q + (size_t) row * blocks * 16;
    global const half* row_d = d + (size_t) row * blocks;
    float acc[TILE] = {0};
    for (int b = 0; b < blocks; b++) {
        const uchar16 nibbles = vload16(b, row_q);
        const float scale = vload_half(b, row_d);
        const float16 lo = (convert_float16(nibbles & (uchar16) 15) - 8.0f) * scale;
        const float16 hi = (convert_float16(nibbles >> (uchar16) 4) - 8.0f) * scale;
        for (int t = 0; t < tokens; t++) {
            global const float* xb = x + (size_t) (t0 + t) * n_in + b * 32;
            acc[t] += sum16(lo * vload16(0, xb) + hi * vload16(1, xb));
        }
    }
    for (int t = 0; t < tokens; t++) {
        y[(size_t) (t0 + t) * n_out + row] = acc[t];
    }
}
