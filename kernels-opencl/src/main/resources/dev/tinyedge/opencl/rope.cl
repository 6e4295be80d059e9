// Rotary position embedding in place on x [n_tokens][n_heads][head_dim], by angles the host computed as the CPU
// backend and llama.cpp compute them: cos_table and sin_table [n_tokens][head_dim/2] hold, for token t, the cosine
// and sine of pair i's angle (base, frequency scale and per-dimension factors already applied). Pair i is
// (2i, 2i+1) in llama.cpp's normal mode (llama), (i, i + head_dim/2) in NEOX mode (qwen2, qwen3, gemma3).
// Contraction off: the same float operations as the CPU backend's rotation, so the same bits.
// Global size (head_dim/2 or more, n_heads, n_tokens).
#pragma OPENCL FP_CONTRACT OFF

kernel void rope(global float* x, global const float* cos_table, global const float* sin_table, int n_heads,
                 int head_dim, int neox) {
    const int i = get_global_id(0);
    const int h = get_global_id(1);
    const int t = get_global_id(2);
    const int pairs = head_dim / 2;
    if (i >= pairs) {
        return;
    }
    global float* head = x + ((size_t) t * n_heads + h) * head_dim;
    const int first = neox ? i : 2 * i;
    const int second = neox ? i + pairs : 2 * i + 1;
    const float c = cos_table[(size_t) t * pairs + i];
    const float s = sin_table[(size_t) t * pairs + i];
    const float x0 = head[first];
    const float x1 = head[second];
    head[first] = x0 * c - x1 * s;
    head[second] = x0 * s + x1 * c;
}
