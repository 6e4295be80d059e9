// out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w, for rows x [n_tokens][dim]. One work-group per row.
kernel void rms_norm(global const float* x, global const float* w, global float* out, int dim,
                     float eps, local float* scratch) {
    const int t = get_group_id(0);
    global const float* row = x + (size_t) t * dim;
    global float* out_row = out + (size_t) t * dim;
    float squares = 0.0f;
    for (int i = get_local_id(0); i < dim; i += get_local_size(0)) {
        squares += row[i] * row[i];
    }
    const float scale = rsqrt(group_sum(scratch, squares) / dim + eps);
    for (int i = get_local_id(0); i < dim; i += get_local_size(0)) {
        out_row[i] = row[i] * scale * w[i];
    }
}
