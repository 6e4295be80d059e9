// y = W x for Q4_0 weights W [n_out][n_in], in the flat layout made once at load (like llama.cpp's
// OpenCL backend): nibbles q (16 bytes per 32-weight block, ggml order: low nibble of byte j is
// element j, high nibble element j + 16) and scales d (one half per block), so that each array is
// read contiguously. Weight value = (nibble - 8) * d. n_in is a multiple of 32.
//
// One work-group per output row; its work-items stride over the row's blocks and sum in local memory.

// Decode: x is one vector [n_in], y [n_out]. Global size n_out * local size.
kernel void mul_mv_q4_0(global const uchar* q, global const half* d, global const float* x,
                        global float* y, int n_in, local float* scratch) {
    const int row = get_group_id(0);
    const int blocks = n_in / 32;
    global const uchar* row_q = q + (size_t) row * blocks * 16;
    global const half* row_d = d + (size_t) row * blocks;
    float sum = 0.0f;
    for (int b = get_local_id(0); b < blocks; b += get_local_size(0)) {
        const uchar16 nibbles = vload16(b, row_q);
        const float16 lo = convert_float16(nibbles & (uchar16) 15) - 8.0f;
        const float16 hi = convert_float16(nibbles >> (uchar16) 4) - 8.0f;
        const float16 p = lo * vload16(0, x + b * 32) + hi * vload16(1, x + b * 32);
        sum += sum16(p) * vload_half(b, row_d);
    }
    sum = group_sum(scratch, sum);
    if (get_local_id(0) == 0) {
        y[row] = sum;
    }
}

// Prefill: x is [n_tokens][n_in], y [n_tokens][n_out]. Each work-group takes one row and a tile of
// TILE tokens, so a dequantized block is used TILE times. Global size (n_out * local size,
// ceil(n_tokens / TILE)); scratch holds local size floats.
#define TILE 8
kernel void mul_mm_q4_0(global const uchar* q, global const half* d, global const float* x,
                        global float* y, int n_in, int n_out, int n_tokens, local float* scratch) {
    const int row = get_group_id(0);
    const int t0 = get_group_id(1) * TILE;
    const int tokens = min(TILE, n_tokens - t0);
    const int blocks = n_in / 32;
    global const uchar* row_q = q + (size_t) row * blocks * 16;
    global const half* row_d = d + (size_t) row * blocks;
    float acc[TILE];
    for (int t = 0; t < TILE; t++) {
        acc[t] = 0.0f;
    }
    for (int b = get_local_id(0); b < blocks; b += get_local_size(0)) {
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
        const float sum = group_sum(scratch, acc[t]);
        if (get_local_id(0) == 0) {
            y[(size_t) (t0 + t) * n_out + row] = sum;
        }
    }
}
