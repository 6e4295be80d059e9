// GELU-gated feed-forward in place (gemma3): gate[i] = gelu(gate[i]) * up[i] for i < n, as ggml's CPU backend
// computes it (ggml_vec_geglu_f32 with GGML_GELU_FP16) and so the CPU backend: 0 below -10, the input above 10,
// between them GELU's tanh form of the input rounded to fp16, itself rounded to fp16 (ggml looks it up in a table
// of those). Contraction off: the same float operations as the CPU's table; only tanh may differ by a few ulp,
// which the rounding to fp16 hides but next to an fp16 tie.
#pragma OPENCL FP_CONTRACT OFF

inline float round_to_half(float value) {
    ushort bits;
    vstore_half_rte(value, 0, (private half*) &bits);
    return vload_half(0, (private const half*) &bits);
}

kernel void geglu(global float* gate, global const float* up, int n) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    const float g = gate[i];
    float gelu;
    if (g <= -10.0f) {
        gelu = 0.0f;
    } else if (g >= 10.0f) {
        gelu = g;
    } else {
        const float x = round_to_half(g);
        const float inner = 0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x);
        gelu = round_to_half(0.5f * x * (1.0f + tanh(inner)));
    }
    gate[i] = gelu * up[i];
}
