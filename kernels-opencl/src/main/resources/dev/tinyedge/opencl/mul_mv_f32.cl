// Decode: y = W x for F32 weights W [n_out][n_in], any n_in. LANES work-items share a row (common.cl), lane l
// taking the VEC-float runs l, l + LANES, … and then single elements past the last whole run.
kernel void mul_mv_f32(global const float* w, global const float* x, global float* y, int n_in, int n_out) {
    local float scratch[MV_SCRATCH];
    const int row = MV_ROW();
    const int lane = MV_LANE();
    float sum = 0.0f;
    if (row < n_out) {
        global const float* row_w = w + (size_t) row * n_in;
        floatv sums = 0.0f;
        for (int i = lane; i < n_in / VEC; i += LANES) {
            sums += vload_floatv(i, row_w) * vload_floatv(i, x);
        }
        sum = sumv(sums);
        for (int j = n_in / VEC * VEC + lane; j < n_in; j += LANES) {
            sum += row_w[j] * x[j];
        }
    }
    sum = row_sum(sum, scratch);
    if (lane == 0 && row < n_out) {
        y[row] = sum;
    }
}
