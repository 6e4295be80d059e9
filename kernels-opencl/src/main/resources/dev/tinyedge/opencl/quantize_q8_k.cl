// The input of Q4_K, Q5_K and Q6_K products rounded to Q8_K (blocks.cl) as llama.cpp's quantize_row_q8_K
// does: per block of 256, max = the value of largest magnitude (the first one, if several), iscale = -127 / max,
// q = min(127, round-half-even(iscale * x)), d = 1 / iscale, and the sum of every 16 quants. x [n][256 * blocks]
// for n tokens, blocks counting all of them.
//
// Sixteen work-items per block, each rounding sixteen values and writing their sum; every one finds the
// block's max itself (reads that hit the cache), so no barrier or local memory is needed. As in
// quantize_q8_0.cl, no contraction into fma and correctly rounded divisions: each decides an integer.
#pragma OPENCL FP_CONTRACT OFF

// Global size 16 * blocks or more.
kernel void quantize_q8_k(global const float* x, global char* q, global float* d, global short* sums, int blocks) {
    const int i = get_global_id(0);
    const int b = i / 16;
    if (b >= blocks) {
        return;
    }
    global const float* in = x + (size_t) b * 256;
    float4 amax4 = 0.0f;
    for (int j = 0; j < 64; j++) {
        amax4 = fmax(amax4, fabs(vload4(j, in)));
    }
    const float amax = fmax(fmax(amax4.x, amax4.y), fmax(amax4.z, amax4.w));
    const int part = i % 16;
    global char* out = q + (size_t) b * 256 + part * 16;
    if (amax == 0.0f) {
        vstore16((char16) 0, 0, out);
        sums[(size_t) b * 16 + part] = 0;
        if (part == 0) {
            d[b] = 0.0f;
        }
        return;
    }
    int first = 0;
    while (fabs(in[first]) != amax) {
        first++;
    }
    const float iscale = divide_rn(-127.0f, in[first]);
    const int16 quants = min(convert_int16(rint(vload16(part, in) * iscale)), 127);
    vstore16(convert_char16(quants), 0, out);
    const int8 s8 = quants.lo + quants.hi;
    const int4 s4 = s8.lo + s8.hi;
    sums[(size_t) b * 16 + part] = (short) (s4.x + s4.y + s4.z + s4.w);
    if (part == 0) {
        d[b] = divide_rn(1.0f, iscale);
    }
}
