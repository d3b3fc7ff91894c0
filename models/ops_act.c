/* Exact (erf) GELU and inverted dropout. */
#include "models/ops.h"
#include <math.h>
#include <string.h>

void gelu_forward(const float *x, size_t n, float *y) {
    #pragma omp parallel for schedule(static) if (n > 32768)
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

void gelu_backward(const float *x, const float *dy, size_t n, float *dx) {
    const float inv_sqrt_2pi = 0.3989422804014327f;
    #pragma omp parallel for schedule(static) if (n > 32768)
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float cdf = 0.5f * (1.0f + erff(v * (float)M_SQRT1_2));
        dx[i] = dy[i] * (cdf + v * inv_sqrt_2pi * expf(-0.5f * v * v));
    }
}

void dropout_forward(const float *x, size_t n, float p, avm_rng *rng, uint8_t *mask, float *y) {
    if (p <= 0.0f) {
        if (y != x) memcpy(y, x, n * sizeof(float));
        return;
    }
    if (p >= 1.0f) {            /* everything dropped */
        memset(mask, 0, n);
        memset(y, 0, n * sizeof(float));
        return;
    }
    /* draw serially so the mask does not depend on the thread count */
    uint64_t thr = (uint64_t)((double)p * 18446744073709551616.0);
    for (size_t i = 0; i < n; i++) mask[i] = rng_u64(rng) >= thr;
    float s = 1.0f / (1.0f - p);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = mask[i] ? x[i] * s : 0.0f;
}

void dropout_backward(const float *dy, size_t n, float p, const uint8_t *mask, float *dx) {
    if (p <= 0.0f) {
        if (dx != dy) memcpy(dx, dy, n * sizeof(float));
        return;
    }
    float s = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dx[i] = mask[i] ? dy[i] * s : 0.0f;
}
