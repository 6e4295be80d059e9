// y = W x for F16 weights W [n_out][n_in] (any n_in). vload_half is core OpenCL C, so this needs no
// cl_khr_fp16; arithmetic is in float. One work-group per output row.

kernel void mul_mv_f16(global const half* w, global const float* x, global float* y, int n_in,
                       local float* scratch) {
    const int row = get_group_id(0);
    global const half* row_w = w + (size_t) row * n_in;
    float sum = 0.0f;
    for (int i = get_local_id(0); i < n_in; i += get_local_size(0)) {
        sum += vload_half(i, row_w) * x[i];
    }
    sum = group_sum(scratch, sum);
    if (get_local_id(0) == 0) {
        y[row] = sum;
    }
}

#define TILE 8
kernel void mul_mm_f16(global const half* w, global const float* x, global float* y, int n_in,
                       int n_out, int n_tokens, local float* scratch) {
    const int row = get_group_id(0);
    const int t0 = get_group_id(1) * TILE;
    const int tokens = min(TILE, n_tokens - t0);
    global const half* row_w = w + (size_t) row * n_in;
    float acc[TILE];
    for (int t = 0; t < TILE; t++) {
        acc[t] = 0.0f;
    }
    for (int i = get_local_id(0); i < n_in; i += get_local_size(0)) {
        const float wi = vload_half(i, row_w);
        for (int t = 0; t < tokens; t++) {
            acc[t] += wi * x[(size_t) (t0 + t) * n_in + i];
        }
    }
    for (int t = 0; t < tokens; t++) {
        const float sum = group_sum(scratch, acc[t]);
        if (get_local_id(0) == 0) {
            y[(size_t) (t0 + t) * n_out + row] = sum;
        }
    }
}
