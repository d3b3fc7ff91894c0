/* Layer norm over the last dimension (biased variance, eps 1e-5, like torch.nn.LayerNorm). */
#include "models/ops.h"
#include <math.h>
#include <omp.h>

/* y = (x - m) * r * g + b for one row: the forward's output, and its recomputation in the
 * backward (the same code, so the same floats). */
static inline void norm_row(const float *xr, int d, float m, float r, const float *g, const float *b, float *yr) {
    #pragma omp simd
    for (int j = 0; j < d; j++) yr[j] = (xr[j] - m) * r * g[j] + b[j];
}

void layernorm_forward(const float *x, int n, int d, const float *g, const float *b,
                       float *y, float *mean, float *rstd) {
    #pragma omp parallel for schedule(static) if ((size_t)n * d > 32768)
    for (int i = 0; i < n; i++) {
        const float *xr = x + (size_t)i * d;
        /* two-pass mean and variance; float lanes, explicit SIMD reductions (no fast-math) */
        float s = 0, ss = 0;
        #pragma omp simd reduction(+:s)
        for (int j = 0; j < d; j++) s += xr[j];
        float m = s / d;
        #pragma omp simd reduction(+:ss)
        for (int j = 0; j < d; j++) { float c = xr[j] - m; ss += c * c; }
        float r = 1.0f / sqrtf(ss / d + AVM_LN_EPS);
        norm_row(xr, d, m, r, g, b, y + (size_t)i * d);
        mean[i] = m;
        rstd[i] = r;
    }
}

void layernorm_apply(const float *x, int n, int d, const float *g, const float *b, const float *mean,
                     const float *rstd, float *y) {
    #pragma omp parallel for schedule(static) if ((size_t)n * d > 32768)
    for (int i = 0; i < n; i++) norm_row(x + (size_t)i * d, d, mean[i], rstd[i], g, b, y + (size_t)i * d);
}

/* dg += sum_i dy * xhat, db += sum_i dy: column blocks per thread, rows streamed in order
 * (the sums do not depend on the thread count, nor on the block width: 16-column blocks
 * when 64-column ones would leave threads idle) */
static void norm_param_grads(const float *x, int n, int d, const float *mean, const float *rstd,
                             const float *dy, float *dg, float *db) {
    int bw = d / 64 >= omp_get_max_threads() ? 64 : 16;
    #pragma omp parallel for schedule(static) if ((size_t)n * d > 32768)
    for (int j0 = 0; j0 < d; j0 += bw) {
        int w = d - j0 < bw ? d - j0 : bw;
        float ag[64] = {0}, ab[64] = {0};
        for (int i = 0; i < n; i++) {
            const float *xr = x + (size_t)i * d + j0, *dyr = dy + (size_t)i * d + j0;
            float m = mean[i], r = rstd[i];
            #pragma omp simd
            for (int j = 0; j < w; j++) {
                ag[j] += dyr[j] * (xr[j] - m) * r;
                ab[j] += dyr[j];
            }
        }
        for (int j = 0; j < w; j++) { dg[j0 + j] += ag[j]; db[j0 + j] += ab[j]; }
    }
}

void layernorm_backward_add(const float *x, int n, int d, const float *g, const float *mean,
                            const float *rstd, const float *dy, const float *res, float *dx, float *dg,
                            float *db) {
    /* parameter gradients first (they read dy), so that dx may overwrite dy in place */
    norm_param_grads(x, n, d, mean, rstd, dy, dg, db);
    /* dx = rstd * (dy g - mean(dy g) - xhat * mean(dy g xhat)) [+ res] */
    #pragma omp parallel for schedule(static) if ((size_t)n * d > 32768)
    for (int i = 0; i < n; i++) {
        const float *xr = x + (size_t)i * d, *dyr = dy + (size_t)i * d;
        float *dxr = dx + (size_t)i * d;
        float m = mean[i], r = rstd[i], s1 = 0, s2 = 0;
        #pragma omp simd reduction(+:s1, s2)
        for (int j = 0; j < d; j++) {
            float gy = dyr[j] * g[j], xh = (xr[j] - m) * r;
            s1 += gy;
            s2 += gy * xh;
        }
        s1 /= d;
        s2 /= d;
        if (!res) {
            #pragma omp simd
            for (int j = 0; j < d; j++) dxr[j] = r * (dyr[j] * g[j] - s1 - (xr[j] - m) * r * s2);
            continue;
        }
        const float *rr = res + (size_t)i * d;
        #pragma omp simd
        for (int j = 0; j < d; j++) dxr[j] = r * (dyr[j] * g[j] - s1 - (xr[j] - m) * r * s2) + rr[j];
    }
}

void layernorm_backward(const float *x, int n, int d, const float *g, const float *mean,
                        const float *rstd, const float *dy, float *dx, float *dg, float *db) {
    layernorm_backward_add(x, n, d, g, mean, rstd, dy, NULL, dx, dg, db);
}
