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
    /* One draw from rng seeds fixed 4096-element chunks (stream = chunk index), so chunks
     * fill in parallel and the mask does not depend on the thread count; four 16-bit
     * uniforms per 64-bit number. */
    const size_t chunk = 4096;
    uint32_t thr = (uint32_t)lrint((double)p * 65536.0);
    uint64_t base = rng_u64(rng);
    long nchunks = (long)((n + chunk - 1) / chunk);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (long c = 0; c < nchunks; c++) {
        avm_rng r;
        rng_seed(&r, base, (uint64_t)c);
        size_t i0 = (size_t)c * chunk, i1 = i0 + chunk < n ? i0 + chunk : n;
        uint64_t bits = 0;
        for (size_t i = i0; i < i1; i++) {
            if ((i - i0) % 4 == 0) bits = rng_u64(&r);
            mask[i] = (bits & 0xFFFF) >= thr;
            bits >>= 16;
        }
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
    #pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = mask[i] ? x[i] * s : 0.0f;
}

void dropout_backward(const float *dy, size_t n, float p, const uint8_t *mask, float *dx) {
    if (p <= 0.0f) {
        if (dx != dy) memcpy(dx, dy, n * sizeof(float));
        return;
    }
    float s = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    #pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dx[i] = mask[i] ? dy[i] * s : 0.0f;
}

void dropout_add_forward(const float *x, const float *res, size_t n, float p, avm_rng *rng,
                         uint8_t *mask, float *y) {
    if (p <= 0.0f) {
        #pragma omp parallel for simd schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) y[i] = res[i] + x[i];
        return;
    }
    float s = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    dropout_mask(mask, n, p, rng);
    #pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = res[i] + (mask[i] ? x[i] * s : 0.0f);
}
