// Residual add in place: x[i] += y[i]. Global size n.
kernel void add(global float* x, global const float* y) {
    const int i = get_global_id(0);
    x[i] += y[i];
}
