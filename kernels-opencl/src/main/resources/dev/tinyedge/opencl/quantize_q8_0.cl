// The input of Q4_0 and Q8_0 products rounded to Q8_0 (blocks.cl), as llama.cpp's CPU code rounds it before its
// integer dot products and tinyedge's CPU backend does too: per block of 32, d = amax / 127 kept as fp16,
// q = x / d rounded half to even. x [n][32 * blocks] for n tokens, blocks counting all of them.
//
// Eight work-items per block, each rounding four values: every one finds the block's amax itself (32 reads
// that hit the cache), so no barrier or local memory is needed and a 2048-value input keeps 512 work-items
// busy. Every operation here decides which integer a value rounds to, so each must give the correctly
// rounded result the CPU gets: no contraction into fma, and the divisions through divide_rn.
#pragma OPENCL FP_CONTRACT OFF

// f rounded to the nearest fp16 value (ties to even), as a float. No half variables: OpenCL C 1.2 without
// cl_khr_fp16 allows half only behind pointers.
inline float round_to_half(float f) {
    const float a = fabs(f);
    if (a < 6.103515625e-05f) {           // 2^-14: fp16 subnormals are multiples of 2^-24
        return rint(f * 16777216.0f) * 5.9604644775390625e-08f;  // exact: scaling by powers of two
    }
    uint bits = as_uint(f);
    bits += 0x0fffu + ((bits >> 13) & 1u);  // round the 23-bit mantissa to 10 bits, ties to even
    return as_float(bits & ~0x1fffu);
}

// Global size 8 * blocks or more.
kernel void quantize_q8_0(global const float* x, global char* q, global float* d, int blocks) {
    const int i = get_global_id(0);
    const int b = i / 8;
    if (b >= blocks) {
        return;
    }
    global const float* in = x + (size_t) b * 32;
    float4 amax4 = 0.0f;
    for (int j = 0; j < 8; j++) {
        amax4 = fmax(amax4, fabs(vload4(j, in)));
    }
    const float amax = fmax(fmax(amax4.x, amax4.y), fmax(amax4.z, amax4.w));
    const float scale = divide_rn(amax, 127.0f);
    const float inverse = scale != 0.0f ? divide_rn(1.0f, scale) : 0.0f;
    vstore4(convert_char4(rint(vload4(i % 8, in) * inverse)), i % 8, q + (size_t) b * 32);
    if (i % 8 == 0) {
        d[b] = round_to_half(scale);
    }
}
