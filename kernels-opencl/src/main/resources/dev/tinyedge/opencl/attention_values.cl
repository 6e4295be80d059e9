// Causal grouped-query attention, second kernel (after softmax.cl turned scores into probabilities):
//   out[t][h] = sum_j probs[t][h][j] * v[j % ring][h / group]   for j <= start_pos + t (and j > start_pos + t - window
//   with a sliding window, window > 0)
// probs: [n_tokens][n_heads][context]; v: a layer's value cache (blocks.cl); out: [n_tokens][n_heads][head_dim].
// Global size (head_dim or more, n_heads, n_tokens).
kernel void attention_values(global const float* probs, global const kv_t* v, global float* out,
                             int n_heads, int n_kv_heads, int head_dim, int context, int start_pos, int window,
                             int ring) {
    const int i = get_global_id(0);
    const int h = get_global_id(1);
    const int t = get_global_id(2);
    if (i >= head_dim) {
        return;
    }
    const int pos = start_pos + t;
    const int kv_head = h / (n_heads / n_kv_heads);
    global const float* p = probs + ((size_t) t * n_heads + h) * context;
    float sum = 0.0f;
    for (int j = window > 0 ? max(0, pos - window + 1) : 0; j <= pos; j++) {
        sum += p[j] * load_kv(v, ((size_t) (j % ring) * n_kv_heads + kv_head) * head_dim + i);
    }
    out[((size_t) t * n_heads + h) * head_dim + i] = sum;
}
