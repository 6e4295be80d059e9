// Memory bandwidth of this machine: the ceiling for decoding, which reads every weight once per token.
//   read:  sum of one array (what decoding does to the weights)
//   triad: a[i] = b[i] + s * c[i] over three arrays, counted as STREAM counts it (24 bytes per element)
// Each array is 512 MiB, and between two passes over one array the loops touch 1.5 GiB, five times the 300 MiB
// L3 of the machine this was written on, so the numbers are DRAM's. Best of 5 runs, as STREAM reports.
// Threads: OMP_NUM_THREADS. Prints one JSON line: {"threads":n,"read_gb_s":x,"triad_gb_s":y,"check":sum}, where the
// sum of what the loops computed is printed only so that the compiler cannot drop them.
//   gcc -O3 -march=native -fopenmp bandwidth.c -o bandwidth && OMP_NUM_THREADS=2 ./bandwidth
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define N ((size_t) 64 << 20)  /* doubles per array: 512 MiB */
#define RUNS 5

static double seconds(void) { return omp_get_wtime(); }

int main(void) {
    double *a = malloc(N * sizeof(double)), *b = malloc(N * sizeof(double)), *c = malloc(N * sizeof(double));
    if (!a || !b || !c) { fprintf(stderr, "bandwidth: out of memory\n"); return 1; }
    // first touch by the threads that will read the pages later
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N; i++) { a[i] = 0; b[i] = 1; c[i] = 2; }

    double best_read = 1e30, best_triad = 1e30, sum = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = seconds(), s = 0;
        #pragma omp parallel for simd schedule(static) reduction(+:s)
        for (size_t i = 0; i < N; i++) s += b[i];
        double t1 = seconds();
        #pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < N; i++) a[i] = b[i] + 3.0 * c[i];
        double t2 = seconds();
        sum += s + a[r];  // used, so the compiler keeps both loops
        if (t1 - t0 < best_read) best_read = t1 - t0;
        if (t2 - t1 < best_triad) best_triad = t2 - t1;
    }
    printf("{\"threads\":%d,\"read_gb_s\":%.2f,\"triad_gb_s\":%.2f,\"check\":%.0f}\n", omp_get_max_threads(),
           N * sizeof(double) / best_read / 1e9, 3 * N * sizeof(double) / best_triad / 1e9, sum);
    free(a); free(b); free(c);
    return 0;
}
