// Causal grouped-query attention over a layer's KV cache (blocks.cl), first of two kernels around softmax.cl:
//   scores[t][h][j] = (q[t][h] . k[j][h / group]) * scale   for j <= start_pos + t
// with group = n_heads / n_kv_heads. q: [n_tokens][n_heads][head_dim]; scores: [n_tokens][n_heads][context].
// Global size (start_pos + n_tokens or more, n_heads, n_tokens).
kernel void attention_scores(global const float* q, global const kv_t* k, global float* scores,
                             int n_heads, int n_kv_heads, int head_dim, int context, int start_pos,
                             float scale) {
    const int j = get_global_id(0);
    const int h = get_global_id(1);
    const int t = get_global_id(2);
    if (j > start_pos + t) {
        return;
    }
    const int kv_head = h / (n_heads / n_kv_heads);
    global const float* qh = q + ((size_t) t * n_heads + h) * head_dim;
    global const kv_t* kj = k + ((size_t) j * n_kv_heads + kv_head) * head_dim;
    float dot = 0.0f;
    for (int i = 0; i < head_dim; i++) {
        dot += qh[i] * load_kv(kj, i);
    }
    scores[((size_t) t * n_heads + h) * context + j] = dot * scale;
}
