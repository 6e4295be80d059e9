// Decode: y = W x for F16 weights W [n_out][n_in], any n_in; vload_half is core OpenCL C, so no cl_khr_fp16
// is needed, and the arithmetic is in float. Work split as in mul_mv_f32.cl.
kernel void mul_mv_f16(global const half* w, global const float* x, global float* y, int n_in, int n_out) {
    local float scratch[MV_SCRATCH];
    const int row = MV_ROW();
    const int lane = MV_LANE();
    float sum = 0.0f;
    if (row < n_out) {
        global const half* row_w = w + (size_t) row * n_in;
        floatv sums = 0.0f;
        for (int i = lane; i < n_in / VEC; i += LANES) {
            sums += vload_halfv(i, row_w) * vload_floatv(i, x);
        }
        sum = sumv(sums);
        for (int j = n_in / VEC * VEC + lane; j < n_in; j += LANES) {
            sum += vload_half(j, row_w) * x[j];
        }
    }
    sum = row_sum(sum, scratch);
    if (lane == 0 && row < n_out) {
        y[row] = sum;
    }
}
