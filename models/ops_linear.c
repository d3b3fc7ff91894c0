/* Linear layer on cblas_sgemm, PyTorch weight layout [out, in]. */
#include "models/ops.h"
#include <cblas.h>
#include <omp.h>
#include <string.h>

void linear_forward(const float *x, int n, int in, const float *W, const float *b, int out, float *y) {
    float beta = 0.0f;
    if (b) {    /* start from the bias so sgemm adds into it */
        #pragma omp parallel for schedule(static) if ((size_t)n * out > 65536)
        for (int i = 0; i < n; i++) memcpy(y + (size_t)i * out, b, (size_t)out * sizeof(float));
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
