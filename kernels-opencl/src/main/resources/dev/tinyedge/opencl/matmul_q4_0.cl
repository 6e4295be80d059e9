// y = W x for Q4_0 weights W [n_out][n_in], in the flat layout made once at load (like llama.cpp's
// OpenCL backend): nibbles q (16 bytes per 32-weight block, ggml order: low nibble of byte j is
// element j, high nibble element j + 16) and scales d (one half per block). Weight value =
// (nibble - 8) * d. n_in is a multiple of 32.
//
// No contraction of a * b + c into fma, which OpenCL C otherwise allows and compilers use where they
// like: each device then rounds the products and sums the source writes, so devices differ only by the
// summation order of their work split, not by their compilers' choices.
#pragma OPENCL FP_CONTRACT OFF
//
// One work-item per output row, reading its row in 16-byte vector loads: no local memory and no
// barriers, which Mali's guidance favours and which made these kernels 3-4x faster on PoCL than one
// work-group per row with a tree reduction.

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
        const uchar16 nibbles = vload16(b, row_q);
        const float16 lo = convert_float16(nibbles & (uchar16) 15) - 8.0f;
        const float16 hi = convert_float16(nibbles >> (uchar16) 4) - 8.0f;
        sum += sum16(lo * vload16(0, x + b * 32) + hi * vload16(1, x + b * 32)) * vload_half(b, row_d);
    }
    y[row] = sum;
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
