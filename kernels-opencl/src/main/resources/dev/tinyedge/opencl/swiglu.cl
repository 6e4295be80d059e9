// SwiGLU in place: gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + e^-g), for i < n.
kernel void swiglu(global float* gate, global const float* up, int n) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    const float g = gate[i];
    gate[i] = g / (1.0f + exp(-g)) * up[i];
}
