/* Linear layer on cblas_sgemm, PyTorch weight layout [out, in]. */
#include "models/ops.h"
#include <cblas.h>
#include <omp.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

/* Row r of y = b. y was last touched a step ago (a saved activation), so plain stores
 * would first read every line back from memory; streaming stores only write. */
static void bias_row(float *r, const float *b, int out) {
#ifdef __AVX512F__
    int j = 0;
    for (; j < out && ((uintptr_t)(r + j) & 63); j++) r[j] = b[j];   /* to a 64-byte line */
    for (; j + 16 <= out; j += 16) _mm512_stream_ps(r + j, _mm512_loadu_ps(b + j));
    for (; j < out; j++) r[j] = b[j];
#else
    memcpy(r, b, (size_t)out * sizeof(float));
#endif
}

/* Every row of y [n, out] = b. */
static void bias_rows(float *y, int n, const float *b, int out) {
    #pragma omp parallel if ((size_t)n * out > 65536)
    {
        #pragma omp for schedule(static)
        for (int i = 0; i < n; i++) bias_row(y + (size_t)i * out, b, out);
#ifdef __AVX512F__
        _mm_sfence();   /* the streamed rows are visible before sgemm reads them */
#endif
    }
}

void linear_forward(const float *x, int n, int in, const float *W, const float *b, int out, float *y) {
    float beta = 0.0f;
    if (b) {    /* start from the bias so sgemm adds into it */
        bias_rows(y, n, b, out);
        beta = 1.0f;
    }
    if (n == 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, W, in, beta, y, out);
}

void linear_backward(const float *x, int n, int in, const float *W, int out, const float *dy,
                     float *dx, float *dW, float *db) {
    if (n == 0) return;
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out, W, in, 0.0f, dx, in);
    if (dW) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in, 1.0f, dW, in);
    if (db) {
        /* column blocks per thread: each thread owns its slice of db, rows stream through
         * in order (16-column blocks when 64-column ones would leave threads idle; the
         * sums are the same) */
        int bw = out / 64 >= omp_get_max_threads() ? 64 : 16;
        #pragma omp parallel for schedule(static) if ((size_t)n * out > 65536)
        for (int j0 = 0; j0 < out; j0 += bw) {
            int w = out - j0 < bw ? out - j0 : bw;
            float acc[64] = {0};
            for (int i = 0; i < n; i++) {
                const float *r = dy + (size_t)i * out + j0;
                #pragma omp simd
                for (int j = 0; j < w; j++) acc[j] += r[j];
            }
            for (int j = 0; j < w; j++) db[j0 + j] += acc[j];
        }
    }
}
