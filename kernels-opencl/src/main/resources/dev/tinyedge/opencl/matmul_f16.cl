// y = W x for F16 weights W [n_out][n_in] (any n_in: four at a time, then the rest). vload_half is
// core OpenCL C, so this needs no cl_khr_fp16; arithmetic is in float. Work splits as in matmul_q4_0.cl.

kernel void mul_mv_f16(global const half* w, global const float* x, global float* y, int n_in, int n_out) {
    const int row = get_global_id(0);
    if (row >= n_out) {
        return;
    }
    global const half* row_w = w + (size_t) row * n_in;
    float4 sum4 = 0.0f;
    int i = 0;
    for (; i + 4 <= n_in; i += 4) {
        sum4 += vload_half4(0, row_w + i) * vload4(0, x + i);
    }
    float sum = sum4.x + sum4.y + sum4.z + sum4.w;
    for (; i < n_in; i++) {
        sum += vload_half(i, row_w) * x[i];
    }
    y[row] = sum;
}

// Decode on GPUs (the kernel above is for CPU devices; see matmul_q4_0.cl): one work-group per output
// row. Work-item l takes the 4-element groups l, l + G, … (G the local size), so neighbouring work-items
// read neighbouring memory, then the elements past the last whole group of 4; the partial sums meet in
// local memory. Global size n_out * G, local size G (a power of two); scratch holds G floats.
kernel void mul_mv_f16_group(global const half* w, global const float* x, global float* y, int n_in, int n_out,
                             local float* scratch) {
    const int row = get_group_id(0);
    global const half* row_w = w + (size_t) row * n_in;
    float4 sum4 = 0.0f;
    for (int i = get_local_id(0); i < n_in / 4; i += get_local_size(0)) {
        sum4 += vload_half4(i, row_w) * vload4(i, x);
    }
    float sum = sum4.x + sum4.y + sum4.z + sum4.w;
    for (int j = n_in / 4 * 4 + get_local_id(0); j < n_in; j += get_local_size(0)) {
        sum += vload_half(j, row_w) * x[j];
    }
    sum = group_sum(scratch, sum);
    if (get_local_id(0) == 0) {
        y[row] = sum;
    }
}

#define TILE 8
kernel void mul_mm_f16(global const half* w, global const float* x, global float* y, int n_in,
                       int n_out, int n_tokens) {
    const int row = get_global_id(0);
    if (row >= n_out) {
        return;
    }
    const int t0 = get_global_id(1) * TILE;
    const int tokens = min(TILE, n_tokens - t0);
    global const half* row_w = w + (size_t) row * n_in;
    float4 acc[TILE] = {0};
    int i = 0;
    for (; i + 4 <= n_in; i += 4) {
        const float4 wi = vload_half4(0, row_w + i);
        for (int t = 0; t < tokens; t++) {
            acc[t] += wi * vload4(0, x + (size_t) (t0 + t) * n_in + i);
        }
    }
    for (int t = 0; t < tokens; t++) {
        float sum = acc[t].x + acc[t].y + acc[t].z + acc[t].w;
        for (int j = i; j < n_in; j++) {
            sum += vload_half(j, row_w) * x[(size_t) (t0 + t) * n_in + j];
        }
        y[(size_t) (t0 + t) * n_out + row] = sum;
    }
}
