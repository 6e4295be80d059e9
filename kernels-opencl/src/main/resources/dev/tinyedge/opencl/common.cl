// Prepended to every program. OpenCL C 1.2 has no work_group_reduce_add, so the work-groups that
// reduce share this tree sum over local memory. The host launches them with a power-of-two local size.

// Sum of v over the work-group; every work-item gets the result. scratch holds get_local_size(0) floats.
inline float group_sum(local float* scratch, float v) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int half_size = get_local_size(0) / 2; half_size > 0; half_size /= 2) {
        if (lid < half_size) {
            scratch[lid] += scratch[lid + half_size];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE); // scratch may be reused right after
    return total;
}

inline float group_max(local float* scratch, float v) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int half_size = get_local_size(0) / 2; half_size > 0; half_size /= 2) {
        if (lid < half_size) {
            scratch[lid] = fmax(scratch[lid], scratch[lid + half_size]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

inline float sum16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}
