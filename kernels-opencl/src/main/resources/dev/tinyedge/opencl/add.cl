// Residual add in place: x[i] += y[i] for i < n.
kernel void add(global float* x, global const float* y, int n) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    x[i] += y[i];
}
