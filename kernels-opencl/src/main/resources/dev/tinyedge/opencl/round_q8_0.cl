// The input of Q4_0 and Q8_0 products rounded to Q8_0, as llama.cpp's CPU code rounds it before its integer
// dot products (and tinyedge's CPU backend does too): per block of 32, scale d = amax/127 kept as fp16,
// q = x/d rounded half to even; out = q * d. With it the OpenCL backend computes what the CPU backend does.
//
// Every operation here decides which integer a value rounds to, so each must give the correctly rounded
// result the CPU gets: no contraction into fma, and the divisions through divide_rn (OpenCL C lets a device's
// float division be up to 2.5 ulp off unless the program is built with -cl-fp32-correctly-rounded-divide-sqrt,
// an option a device need not support).
#pragma OPENCL FP_CONTRACT OFF

// a / b rounded to the nearest float. |a - c * b| = |b| * |a / b - c|, so the float c nearest the quotient is
// the one with the smallest remainder; fma computes each remainder with one rounding. Starting from the
// device's quotient (a few ulp off at most), step to a neighbour while its remainder is smaller.
float divide_rn(float a, float b) {
    float q = a / b;
    if (isinf(q)) {
        return q; // overflow (amax near zero): nothing to correct in practice
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

// f rounded to the nearest fp16 value (ties to even), as a float. No half variables: OpenCL C 1.2 without
// cl_khr_fp16 allows half only behind pointers.
float round_to_half(float f) {
    const float a = fabs(f);
    if (a < 6.103515625e-05f) {           // 2^-14: fp16 subnormals are multiples of 2^-24
        return rint(f * 16777216.0f) * 5.9604644775390625e-08f;  // exact: scaling by powers of two
    }
    uint bits = as_uint(f);
    bits += 0x0fffu + ((bits >> 13) & 1u);  // round the 23-bit mantissa to 10 bits, ties to even
    return as_float(bits & ~0x1fffu);
}

kernel void round_q8_0(global const float* x, global float* out, int blocks) {
    const int b = get_global_id(0);
    if (b >= blocks) {
        return;
    }
    global const float* in = x + b * 32;
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        amax = fmax(amax, fabs(in[j]));
    }
    const float d = divide_rn(amax, 127.0f);
    const float id = d != 0.0f ? divide_rn(1.0f, d) : 0.0f;
    const float scale = round_to_half(d);
    for (int j = 0; j < 32; j++) {
        out[b * 32 + j] = rint(in[j] * id) * scale;
    }
}
