/* Exact (erf) GELU and inverted dropout. */
#include "models/ops.h"
#include <math.h>
#include <string.h>

/* Let GCC call glibc's vector erff/expf (libmvec, pulled in by -lm; 1-2 ulp), which the
 * headers only declare as SIMD-capable under -ffast-math. GELU is a tenth of a step else. */
#pragma omp declare simd notinbranch
float erff(float);
#pragma omp declare simd notinbranch
float expf(float);

void gelu_forward(const float *x, size_t n, float *y) {
    #pragma omp parallel for simd schedule(static) if (n > 32768)
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

void gelu_backward(const float *x, const float *dy, size_t n, float *dx) {
    const float inv_sqrt_2pi = 0.3989422804014327f;
    #pragma omp parallel for simd schedule(static) if (n > 32768)
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float cdf = 0.5f * (1.0f + erff(v * (float)M_SQRT1_2));
        dx[i] = dy[i] * (cdf + v * inv_sqrt_2pi * expf(-0.5f * v * v));
    }
}

void dropout_mask(uint8_t *mask, size_t n, float p, avm_rng *rng) {
    /* four 16-bit draws per 64-bit number; serial, so independent of the thread count */
    uint32_t thr = (uint32_t)lrint((double)p * 65536.0);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint64_t r = rng_u64(rng);
        for (int k = 0; k < 4; k++) mask[i + k] = ((r >> (16 * k)) & 0xFFFF) >= thr;
    }
    if (i < n) {
        uint64_t r = rng_u64(rng);
        for (int k = 0; i < n; i++, k++) mask[i] = ((r >> (16 * k)) & 0xFFFF) >= thr;
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
    dropout_mask(mask, n, p, rng);
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
