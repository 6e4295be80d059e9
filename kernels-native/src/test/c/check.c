/*
 * Runs a library's kernels on every tier the CPU (or qemu's -cpu max) has, against products the Java tests
 * computed with the scalar reference, and says which tiers ran. For the aarch64 library under
 * qemu-aarch64-static, where the JVM cannot load it:
 *   check LIBRARY CASES
 * CASES (little-endian): int32 count, then per case int32 type, rows, cols, batch, exact; int64 weight
 * bytes; the weights; float x[batch*cols]; float expected[batch*rows]; float tolerance[batch*rows].
 * exact: the products must equal the reference bit for bit (the integer math and every float step are exact).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

typedef void (*quantize_fn)(int32_t, const float *, int64_t, uint8_t *, int64_t, int32_t, int32_t);
typedef void (*matmul_fn)(int32_t, const uint8_t *, int64_t, const uint8_t *, int64_t, int32_t, float *, int64_t, int32_t, int32_t);

static const char *TIERS[] = {"avx2", "avx2_vnni", "avx512_vnni", "neon", "dotprod", "i8mm"};

static void *read_all(FILE *f, size_t n) {
    void *p = malloc(n ? n : 1);
    if (fread(p, 1, n, f) != n) {
        fprintf(stderr, "check: truncated cases file\n");
        exit(2);
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: check LIBRARY CASES\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "check: %s\n", dlerror());
        return 2;
    }
    int32_t (*supported)(void) = (int32_t (*)(void)) dlsym(lib, "tek_supported_tiers");
    int64_t (*input_stride)(int32_t, int64_t) = (int64_t (*)(int32_t, int64_t)) dlsym(lib, "tek_input_stride");
    FILE *f = fopen(argv[2], "rb");
    if (!f || !supported || !input_stride) {
        fprintf(stderr, "check: cannot open %s or the library's entry points\n", argv[2]);
        return 2;
    }
    int32_t count;
    void *first = read_all(f, 4);
    memcpy(&count, first, 4);
    free(first);
    const long cases_at = 4;
    const int32_t mask = supported();
    int failures = 0, checks = 0;
    printf("tiers:");
    for (int t = 0; t < 6; t++) if (mask & (1 << t)) printf(" %s", TIERS[t]);
    printf("\n");
    for (int t = 0; t < 6; t++) {
        if (!(mask & (1 << t))) continue;
        char name[64];
        snprintf(name, sizeof name, "tek_%s_quantize", TIERS[t]);
        quantize_fn quantize = (quantize_fn) dlsym(lib, name);
        snprintf(name, sizeof name, "tek_%s_matmul", TIERS[t]);
        matmul_fn matmul = (matmul_fn) dlsym(lib, name);
        if (!quantize || !matmul) {
            fprintf(stderr, "check: the library lacks %s\n", name);
            return 2;
        }
        fseek(f, cases_at, SEEK_SET);
        for (int c = 0; c < count; c++) {
            int32_t head[5];
            int64_t wbytes;
            void *h = read_all(f, sizeof head);
            memcpy(head, h, sizeof head);
            free(h);
            h = read_all(f, 8);
            memcpy(&wbytes, h, 8);
            free(h);
            const int32_t type = head[0], rows = head[1], cols = head[2], batch = head[3], exact = head[4];
            uint8_t *w = read_all(f, (size_t) wbytes);
            float *x = read_all(f, sizeof(float) * batch * cols);
            float *expected = read_all(f, sizeof(float) * batch * rows);
            float *tolerance = read_all(f, sizeof(float) * batch * rows);
            const int32_t kind = type == 2 || type == 8 ? 8 : 15;
            const int64_t stride = input_stride(kind, cols);
            uint8_t *xq = aligned_alloc(64, (size_t) (stride * batch));
            const int32_t chunks = batch * ((cols + 255) / 256);
            quantize(kind, x, cols, xq, stride, 0, chunks / 2);
            quantize(kind, x, cols, xq, stride, chunks / 2, chunks);
            float *out = calloc((size_t) batch * rows, sizeof(float));
            matmul(type, w, cols, xq, stride, batch, out, rows, 0, rows / 2);
            matmul(type, w, cols, xq, stride, batch, out, rows, rows / 2, rows);
            int bad = 0;
            for (int i = 0; i < batch * rows; i++) {
                const int ok = exact ? memcmp(&out[i], &expected[i], sizeof(float)) == 0
                                     : fabsf(out[i] - expected[i]) <= tolerance[i];
                if (!ok && bad++ < 3) {
                    printf("FAIL %s type %d rows %d cols %d batch %d: [%d] = %.9g, expected %.9g%s\n", TIERS[t], type, rows,
                           cols, batch, i, out[i], expected[i], exact ? " exactly" : "");
                }
            }
            failures += bad != 0;
            checks++;
            free(w); free(x); free(expected); free(tolerance); free(xq); free(out);
        }
    }
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
