// Prepended to every program (before blocks.cl). The host chooses, per device (DeviceTuning.java), the
// defines this reads:
//   LANES, ROWS    the decode split of the matrix-vector kernels: LANES work-items share one output row,
//                  a work-group holds ROWS rows (LANES 1: a work-item per row, the split for CPU devices)
//   VEC            floats a work-item loads at once in the F32/F16 matrix-vector kernels (4, 8 or 16)
//   TE_SUBGROUPS   the LANES of a row are one subgroup (cl_khr_subgroups, cl_intel_subgroups): their sum
//                  is sub_group_reduce_add instead of a tree in local memory
//   TE_NV_SHUFFLE  NVIDIA's equivalent: the LANES of a row (at most 32) are consecutive lanes of a warp, summed
//                  with PTX warp shuffles (NVIDIA's OpenCL compiles inline PTX; it offers no subgroups)
//   TE_DOT_KHR, TE_DOT_ARM, TE_DOT_NV   4 x int8 dot products from cl_khr_integer_dot_product,
//                  cl_arm_integer_dot_product_int8, or PTX's dp4a (NVIDIA, compute capability 6.1 and up);
//                  without them, plain int arithmetic (same results: the sums are exact integers either way)

#ifndef LANES
#define LANES 1
#endif
#ifndef ROWS
#define ROWS 64
#endif
#ifndef VEC
#define VEC 4
#endif

#if defined(TE_SUBGROUPS) && defined(cl_khr_subgroups)
#pragma OPENCL EXTENSION cl_khr_subgroups : enable
#elif defined(TE_SUBGROUPS) && defined(cl_intel_subgroups)
#pragma OPENCL EXTENSION cl_intel_subgroups : enable
#endif
#if defined(TE_DOT_ARM)
#pragma OPENCL EXTENSION cl_arm_integer_dot_product_int8 : enable
#endif
#if defined(TE_DOT_KHR) && !defined(__opencl_c_integer_dot_product_input_4x8bit) && !defined(cl_khr_integer_dot_product)
#error "this compiler does not offer cl_khr_integer_dot_product's dot(char4, char4)"
#endif

// ---- integer dot products of int8 vectors --------------------------------------------------------------

#if defined(TE_DOT_KHR)
inline int dot16(char16 a, char16 b) {
    return dot(a.s0123, b.s0123) + dot(a.s4567, b.s4567) + dot(a.s89ab, b.s89ab) + dot(a.scdef, b.scdef);
}
#elif defined(TE_DOT_NV)
inline int dp4a(int a, int b, int c) {
    int r;
    asm("dp4a.s32.s32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
}
inline int dot16(char16 a, char16 b) {
    const int4 x = as_int4(a);
    const int4 y = as_int4(b);
    return dp4a(x.w, y.w, dp4a(x.z, y.z, dp4a(x.y, y.y, dp4a(x.x, y.x, 0))));
}
#elif defined(TE_DOT_ARM)
inline int dot16(char16 a, char16 b) {
    return arm_dot(a.s0123, b.s0123) + arm_dot(a.s4567, b.s4567) + arm_dot(a.s89ab, b.s89ab)
         + arm_dot(a.scdef, b.scdef);
}
#else
inline int dot16(char16 a, char16 b) {
    const int16 p = convert_int16(a) * convert_int16(b);
    const int8 s8 = p.lo + p.hi;
    const int4 s4 = s8.lo + s8.hi;
    return s4.x + s4.y + s4.z + s4.w;
}
#endif

// ---- the decode split ----------------------------------------------------------------------------------

// Which output row this work-item works on, and its lane among the LANES work-items of that row.
#if defined(TE_SUBGROUPS)
#define MV_ROW() ((int) (get_group_id(0) * ROWS + get_sub_group_id()))
#define MV_LANE() ((int) get_sub_group_local_id())
#else
#define MV_ROW() ((int) (get_group_id(0) * ROWS + get_local_id(0) / LANES))
#define MV_LANE() ((int) (get_local_id(0) % LANES))
#endif

// Local memory the row sums need: none with a work-item per row, subgroups or warp shuffles.
#if LANES > 1 && !defined(TE_SUBGROUPS) && !defined(TE_NV_SHUFFLE)
#define MV_SCRATCH (LANES * ROWS)
#else
#define MV_SCRATCH 1
#endif

// The sum of v over the LANES work-items of this work-item's row, valid in lane 0. Every work-item of the
// work-group calls it (it may hold barriers).
inline float row_sum(float v, local float* scratch) {
#if LANES == 1
    return v;
#elif defined(TE_SUBGROUPS)
    return sub_group_reduce_add(v);
#elif defined(TE_NV_SHUFFLE)
    // a 1-D work-group fills warps with consecutive work-items, so a row's lanes are a run of one warp; every
    // work-item of the warp takes part (the 0xffffffff mask): row_sum is called outside any condition
    for (int offset = LANES / 2; offset > 0; offset /= 2) {
        uint other;
        asm volatile("shfl.sync.bfly.b32 %0, %1, %2, 0x1f, 0xffffffff;" : "=r"(other) : "r"(as_uint(v)), "r"(offset));
        v += as_float(other);
    }
    return v;
#else
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int half_size = LANES / 2; half_size > 0; half_size /= 2) {
        if (lid % LANES < half_size) {
            scratch[lid] += scratch[lid + half_size];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return scratch[lid];
#endif
}

// ---- work-group reductions (RMSNorm and softmax: one work-group per row, a power-of-two local size) -------

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

// ---- float vectors of VEC lanes (the F32/F16 matrix-vector kernels) --------------------------------------

inline float sum4(float4 v) {
    return (v.x + v.y) + (v.z + v.w);
}

#if VEC == 16
typedef float16 floatv;
#define vload_floatv vload16
#define vload_halfv vload_half16
inline float sumv(float16 v) {
    const float8 a = v.lo + v.hi;
    return sum4(a.lo + a.hi);
}
#elif VEC == 8
typedef float8 floatv;
#define vload_floatv vload8
#define vload_halfv vload_half8
inline float sumv(float8 v) {
    return sum4(v.lo + v.hi);
}
#else
typedef float4 floatv;
#define vload_floatv vload4
#define vload_halfv vload_half4
inline float sumv(float4 v) {
    return sum4(v);
}
#endif

// ---- exact float arithmetic for the activation rounding ------------------------------------------------

// a / b rounded to the nearest float, as C's division on the CPU gives it (OpenCL C lets a device's float
// division be up to 2.5 ulp off unless the program is built with -cl-fp32-correctly-rounded-divide-sqrt, an
// option a device need not support). |a - c * b| = |b| * |a / b - c|, so the float c nearest the quotient
// has the smallest remainder; fma computes each remainder with one rounding. Starting from the device's
// quotient (a few ulp off at most), step to a neighbour while its remainder is smaller.
inline float divide_rn(float a, float b) {
    float q = a / b;
    if (isinf(q)) {
        return q; // overflow (a divisor near zero): nothing to correct in practice
    }
    for (;;) {
        const float remainder = fabs(fma(-q, b, a));
        const float up = nextafter(q, INFINITY);
        const float down = nextafter(q, -INFINITY);
        if (fabs(fma(-up, b, a)) < remainder) {
            q = up;
        } else if (fabs(fma(-down, b, a)) < remainder) {
            q = down;
        } else {
            return q;
        }
    }
}
