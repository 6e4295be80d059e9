// Causal grouped-query attention over a layer's KV cache (blocks.cl), first of two kernels around softmax.cl:
//   scores[t][h][j] = (q[t][h] . k[j % ring][h / group]) * scale   for j <= start_pos + t
// with group = n_heads / n_kv_heads. q: [n_tokens][n_heads][head_dim]; scores: [n_tokens][n_heads][context].
// With a sliding window (window > 0: gemma3's local layers) position p sees only j > p - window; the positions
// before that score -infinity, which the softmax turns into 0.
// Global size (start_pos + n_tokens or more, n_heads, n_tokens).
kernel void attention_scores(global const float* q, global const kv_t* k, global float* scores,
                             int n_heads, int n_kv_heads, int head_dim, int context, int start_pos,
                             float scale, int window, int ring) {
    const int j = get_global_id(0);
    const int h = get_global_id(1);
    const int t = get_global_id(2);
    const int pos = start_pos + t;
    if (j > pos) {
        return;
    }
    global float* score = scores + ((size_t) t * n_heads + h) * context + j;
    if (window > 0 && pos - j >= window) {
        *score = -INFINITY;
        return;
    }
    const int kv_head = h / (n_heads / n_kv_heads);
    global const float* qh = q + ((size_t) t * n_heads + h) * head_dim;
    global const kv_t* kj = k + ((size_t) (j % ring) * n_kv_heads + kv_head) * head_dim;
    float dot = 0.0f;
    for (int i = 0; i < head_dim; i++) {
        dot += qh[i] * load_kv(kj, i);
    }
    *score = dot * scale;
}
