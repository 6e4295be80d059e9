// Prefill: y = W x for F32 weights W [n_out][n_in] and a batch x [n_tokens][n_in], y [n_tokens][n_out]. A
// work-item takes one row for a tile of TILE tokens, so each weight it loads is used TILE times. Global size
// (n_out or more, ceil(n_tokens / TILE)).
#define TILE 8
kernel void mul_mm_f32(global const float* w, global const float* x, global float* y, int n_in, int n_out,
                       int n_tokens) {
    const int row = get_global_id(0);
    if (row >= n_out) {
        return;
    }
    const int t0 = get_global_id(1) * TILE;
    const int tokens = min(TILE, n_tokens - t0);
    global const float* row_w = w + (size_t) row * n_in;
    float4 acc[TILE] = {0};
    int i = 0;
    for (; i + 4 <= n_in; i += 4) {
        const float4 wi = vload4(0, row_w + i);
        for (int t = 0; t < tokens; t++) {
            acc[t] += wi * vload4(0, x + (size_t) (t0 + t) * n_in + i);
        }
    }
    for (int t = 0; t < tokens; t++) {
        float sum = sum4(acc[t]);
        for (int j = i; j < n_in; j++) {
            sum += row_w[j] * x[(size_t) (t0 + t) * n_in + j];
        }
        y[(size_t) (t0 + t) * n_out + row] = sum;
    }
}
