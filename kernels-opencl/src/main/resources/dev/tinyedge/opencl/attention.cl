// Causal grouped-query attention over the KV cache on the device, in two kernels around softmax.cl:
//   scores[t][h][j] = (q[t][h] . k[j][h / group]) * scale   for j <= start_pos + t
//   out[t][h]       = sum_j probs[t][h][j] * v[j][h / group]
// with group = n_heads / n_kv_heads. q, out: [n_tokens][n_heads][head_dim]; k, v caches of one layer:
// [context][n_kv_heads][head_dim]; scores: [n_tokens][n_heads][context].

// Global size (start_pos + n_tokens or more, n_heads, n_tokens).
kernel void attention_scores(global const float* q, global const float* k, global float* scores,
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
    global const float* kj = k + ((size_t) j * n_kv_heads + kv_head) * head_dim;
    float dot = 0.0f;
    for (int i = 0; i < head_dim; i++) {
        dot += qh[i] * kj[i];
    }
    scores[((size_t) t * n_heads + h) * context + j] = dot * scale;
}

// Global size (head_dim or more, n_heads, n_tokens).
kernel void attention_values(global const float* probs, global const float* v, global float* out,
                             int n_heads, int n_kv_heads, int head_dim, int context, int start_pos) {
    const int i = get_global_id(0);
    const int h = get_global_id(1);
    const int t = get_global_id(2);
    if (i >= head_dim) {
        return;
    }
    const int kv_head = h / (n_heads / n_kv_heads);
    global const float* p = probs + ((size_t) t * n_heads + h) * context;
    float sum = 0.0f;
    for (int j = 0; j <= start_pos + t; j++) {
        sum += p[j] * v[((size_t) j * n_kv_heads + kv_head) * head_dim + i];
    }
    out[((size_t) t * n_heads + h) * head_dim + i] = sum;
}
