// In-place softmax over the first len(r) entries of each row r of x [rows][stride]; entries past
// len(r) are left alone. len(r) = first_len + r / rows_per_step: for causal attention the rows are
// [token][head], rows_per_step = n_heads, and token t sees first_len + t = start_pos + t + 1 positions.
// One work-group per row.
kernel void softmax(global float* x, int stride, int first_len, int rows_per_step, local float* scratch) {
    const int r = get_group_id(0);
    const int len = first_len + r / rows_per_step;
    global float* row = x + (size_t) r * stride;
    float max_value = -INFINITY;
    for (int i = get_local_id(0); i < len; i += get_local_size(0)) {
        max_value = fmax(max_value, row[i]);
    }
    max_value = group_max(scratch, max_value);
    float sum = 0.0f;
    for (int i = get_local_id(0); i < len; i += get_local_size(0)) {
        const float e = exp(row[i] - max_value);
        row[i] = e;
        sum += e;
    }
    const float inv_sum = 1.0f / group_sum(scratch, sum);
    for (int i = get_local_id(0); i < len; i += get_local_size(0)) {
        row[i] *= inv_sum;
    }
}
