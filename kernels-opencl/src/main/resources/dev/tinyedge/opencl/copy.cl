// dst = src, 16 bytes per work-item: the copy kernel whose speed `bench` reports as the device's memory
// bandwidth, the ceiling for the matrix-vector kernels (which read each weight once). Global size n or more.
kernel void copy(global const float4* src, global float4* dst, int n) {
    const int i = get_global_id(0);
    if (i < n) {
        dst[i] = src[i];
    }
}
