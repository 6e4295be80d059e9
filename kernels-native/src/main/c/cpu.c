/* Which tiers this CPU runs, and the activation records' size: the parts of the library that every tier shares. */
#include "tek.h"

/* The tier numbers the Java side names (NativeTier): 0-2 x86-64, 3-5 aarch64. */
enum { AVX2, AVX2_VNNI, AVX512_VNNI, NEON, DOTPROD, I8MM };

TEK_EXPORT int64_t tek_input_stride(int32_t kind, int64_t cols) {
    int64_t bytes = kind == TEK_Q8_K ? cols + 4 * (cols / QK_K) + 2 * (cols / 16) + 2 * (cols / 32) : 2 * cols + 8 * (cols / QK);
    return (bytes + 63) / 64 * 64;
}

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t) hi << 32) | lo;
}

TEK_EXPORT int32_t tek_supported_tiers(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, f16c = (c >> 29) & 1;
    if (!osxsave) return 0;
    const uint64_t xcr0 = xgetbv0();
    const int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xE6) == 0xE6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    const int avx512vnni = (c >> 11) & 1;
    unsigned a1 = 0, b1, c1, d1;
    __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
    const int avxvnni = (a1 >> 4) & 1;
    int32_t tiers = 0;
    if (ymm && avx2 && fma && f16c) {
        tiers |= 1 << AVX2;
        if (avxvnni) tiers |= 1 << AVX2_VNNI;
        if (zmm && avx512f && avx512bw && avx512vl && avx512vnni) tiers |= 1 << AVX512_VNNI;
    }
    return tiers;
}

#elif defined(__aarch64__)
#include <sys/auxv.h>

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif

TEK_EXPORT int32_t tek_supported_tiers(void) {
    const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    int32_t tiers = 1 << NEON; /* Advanced SIMD is part of every Linux aarch64 ABI */
    if (hwcap & HWCAP_ASIMDDP) {
        tiers |= 1 << DOTPROD;
        if (hwcap2 & HWCAP2_I8MM) tiers |= 1 << I8MM;
    }
    return tiers;
}
#endif
