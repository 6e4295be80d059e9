// Rotary position embedding, llama.cpp "normal" mode, in place on x [n_tokens][n_heads][head_dim]:
// the adjacent pair (x[2i], x[2i+1]) of token t is rotated by theta = pos * base^(-2i/n_rot) with
// pos = start_pos + t. Pairs at 2i >= n_rot stay as they are. Global size (head_dim/2 or more, n_heads,
// n_tokens).
kernel void rope(global float* x, int n_heads, int head_dim, int n_rot, int start_pos, float freq_base) {
    const int i = get_global_id(0);
    const int h = get_global_id(1);
    const int t = get_global_id(2);
    if (2 * i >= n_rot) {
        return;
    }
    global float* pair = x + ((size_t) t * n_heads + h) * head_dim + 2 * i;
    const float theta = (start_pos + t) * pow(freq_base, -2.0f * i / n_rot);
    float cos_theta;
    const float sin_theta = sincos(theta, &cos_theta);
    const float x0 = pair[0];
    const float x1 = pair[1];
    pair[0] = x0 * cos_theta - x1 * sin_theta;
    pair[1] = x0 * sin_theta + x1 * cos_theta;
}
