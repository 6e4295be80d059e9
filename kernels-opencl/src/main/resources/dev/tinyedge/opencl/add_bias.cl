// A bias added to every row in place: x[r][i] += bias[i] for the n values of rows of width values (the Q, K and V
// projections' biases of qwen2, one row per token).
kernel void add_bias(global float* x, global const float* bias, int width, int n) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    x[i] += bias[i % width];
}
