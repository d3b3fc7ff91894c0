/* Exact (erf) GELU and inverted dropout. Dropout draws its keep mask and applies it in
 * one pass per 4096-element chunk (the chunk stays in L1 between the two). */
#include "models/ops.h"
#include <math.h>
#include <string.h>

/* Let GCC call glibc's vector erff/expf (libmvec, pulled in by -lm; 1-2 ulp), which the
 * headers only declare as SIMD-capable under -ffast-math. GELU is a tenth of a step else. */
#pragma omp declare simd notinbranch
float erff(float);
#pragma omp declare simd notinbranch
float expf(float);

#define CHUNK 4096

static inline float gelu1(float x) { return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)); }

void gelu_forward(const float *x, size_t n, float *y) {
    #pragma omp parallel for simd schedule(static) if (n > 32768)
    for (size_t i = 0; i < n; i++) y[i] = gelu1(x[i]);
}

/* d GELU / dx = Phi(x) + x phi(x) */
static inline float gelu_grad1(float v) {
    const float inv_sqrt_2pi = 0.3989422804014327f;
    float cdf = 0.5f * (1.0f + erff(v * (float)M_SQRT1_2));
    return cdf + v * inv_sqrt_2pi * expf(-0.5f * v * v);
}

void gelu_backward(const float *x, const float *dy, size_t n, float *dx) {
    #pragma omp parallel for simd schedule(static) if (n > 32768)
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * gelu_grad1(x[i]);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* Keep bits of elements [i0, i1) of chunk c: stream c of base, four 16-bit uniforms per
 * 64-bit draw, lowest bits first. The xoshiro256** step of common/rng.c, inlined (the same
 * numbers as rng_u64 on that stream); draws go to a buffer first so that the comparisons
 * vectorise. */
static void mask_chunk(uint8_t *mask, size_t i0, size_t i1, uint64_t base, long c, uint32_t thr) {
    uint16_t u[CHUNK + 3];
    avm_rng r;
    rng_seed(&r, base, (uint64_t)c);
    uint64_t s0 = r.s[0], s1 = r.s[1], s2 = r.s[2], s3 = r.s[3];
    size_t n = i1 - i0;
    for (size_t k = 0; k < n; k += 4) {
        uint64_t bits = rotl(s1 * 5, 7) * 9, t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45);
        u[k] = (uint16_t)bits; u[k + 1] = (uint16_t)(bits >> 16);
        u[k + 2] = (uint16_t)(bits >> 32); u[k + 3] = (uint16_t)(bits >> 48);
    }
    #pragma omp simd
    for (size_t k = 0; k < n; k++) mask[i0 + k] = u[k] >= thr;
}

static long nchunks(size_t n) { return (long)((n + CHUNK - 1) / CHUNK); }
static size_t chunk_end(long c, size_t n) { return (size_t)(c + 1) * CHUNK < n ? (size_t)(c + 1) * CHUNK : n; }
static uint32_t threshold(float p) { return (uint32_t)lrint((double)p * 65536.0); }

void dropout_mask(uint8_t *mask, size_t n, float p, avm_rng *rng) {
    /* One draw from rng seeds fixed 4096-element chunks (stream = chunk index), so chunks
     * fill in parallel and the mask does not depend on the thread count. */
    uint32_t thr = threshold(p);
    uint64_t base = rng_u64(rng);
    long nc = nchunks(n);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (long c = 0; c < nc; c++) mask_chunk(mask, (size_t)c * CHUNK, chunk_end(c, n), base, c, thr);
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
    uint32_t thr = threshold(p);
    uint64_t base = rng_u64(rng);
    float s = 1.0f / (1.0f - p);
    long nc = nchunks(n);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (long c = 0; c < nc; c++) {
        size_t i0 = (size_t)c * CHUNK, i1 = chunk_end(c, n);
        mask_chunk(mask, i0, i1, base, c, thr);
        #pragma omp simd
        for (size_t i = i0; i < i1; i++) y[i] = mask[i] ? x[i] * s : 0.0f;
    }
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

void add_forward(const float *x, const float *res, size_t n, float *y) {
    #pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = res[i] + x[i];
}

void dropout_add_forward(const float *x, const float *res, size_t n, float p, avm_rng *rng,
                         uint8_t *mask, float *y) {
    if (p <= 0.0f) {
        add_forward(x, res, n, y);
        return;
    }
    float s = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    uint32_t thr = threshold(p);
    uint64_t base = rng_u64(rng);
    long nc = nchunks(n);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (long c = 0; c < nc; c++) {
        size_t i0 = (size_t)c * CHUNK, i1 = chunk_end(c, n);
        mask_chunk(mask, i0, i1, base, c, thr);
        #pragma omp simd
        for (size_t i = i0; i < i1; i++) y[i] = res[i] + (mask[i] ? x[i] * s : 0.0f);
    }
}

void gelu_dropout_forward(const float *x, size_t n, float p, avm_rng *rng, uint8_t *mask, float *y) {
    if (p <= 0.0f || p >= 1.0f) {
        gelu_forward(x, n, y);
        dropout_forward(y, n, p, rng, mask, y);
        return;
    }
    uint32_t thr = threshold(p);
    uint64_t base = rng_u64(rng);
    float s = 1.0f / (1.0f - p);
    long nc = nchunks(n);
    #pragma omp parallel for schedule(static) if (n > 32768)
    for (long c = 0; c < nc; c++) {
        size_t i0 = (size_t)c * CHUNK, i1 = chunk_end(c, n);
        mask_chunk(mask, i0, i1, base, c, thr);
        #pragma omp simd
        for (size_t i = i0; i < i1; i++) {
            float g = gelu1(x[i]);
            y[i] = mask[i] ? g * s : 0.0f;
        }
    }
}

void gelu_dropout_backward(const float *x, const float *dy, size_t n, float p, const uint8_t *mask, float *dx) {
    if (p <= 0.0f) {
        gelu_backward(x, dy, n, dx);
        return;
    }
    float s = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    long nc = nchunks(n);
    /* per chunk: dropout's backward into dx, then GELU's in place while it is in L1 (GCC
     * does not vectorise the select and the erff/expf calls in one loop) */
    #pragma omp parallel for schedule(static) if (n > 32768)
    for (long c = 0; c < nc; c++) {
        size_t i0 = (size_t)c * CHUNK, i1 = chunk_end(c, n);
        #pragma omp simd
        for (size_t i = i0; i < i1; i++) dx[i] = mask[i] ? dy[i] * s : 0.0f;
        #pragma omp simd
        for (size_t i = i0; i < i1; i++) dx[i] = dx[i] * gelu_grad1(x[i]);
    }
}
