/* Exact (erf) GELU and inverted dropout. Dropout draws its keep mask and applies it in
 * one pass per group of 8 chunks of 4096 elements (the group stays in L2 between the two). */
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

/* Dropout masks. Chunk c (elements [4096 c, 4096 c + 4096)) of a mask is stream c of one
 * draw from the caller's rng, four 16-bit uniforms per 64-bit draw, lowest bits first, kept
 * when >= thr. A group of LANES chunks is drawn at once: xoshiro256** steps one stream at a
 * time (each step needs the last), so the LANES streams step side by side in the lanes of a
 * vector (the step of common/rng.c: the same numbers as rng_u64), and an 8 x 8 transpose
 * puts each stream's words back in order. */
#define LANES 8
#define GROUP (LANES * CHUNK)
typedef uint64_t u64x8 __attribute__((vector_size(64)));
/* Built without AVX-512 (SAN=1, ARCH=), gcc warns that passing a 64-byte vector would change
 * the ABI: these helpers are static and inlined, no call crosses a unit. */
#pragma GCC diagnostic ignored "-Wpsabi"

static inline u64x8 rotl8(u64x8 x, int k) { return (x << k) | (x >> (64 - k)); }

/* b[l] := lane l of b[0..7] */
static inline void transpose8(u64x8 *b) {
    u64x8 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(b[i], b[i + 1], 0, 8, 2, 10, 4, 12, 6, 14);
        t[i + 1] = __builtin_shufflevector(b[i], b[i + 1], 1, 9, 3, 11, 5, 13, 7, 15);
    }
    for (int i = 0; i < 8; i += 4)
        for (int j = i; j < i + 2; j++) {
            u[j] = __builtin_shufflevector(t[j], t[j + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[j + 2] = __builtin_shufflevector(t[j], t[j + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    for (int j = 0; j < 4; j++) {
        b[j] = __builtin_shufflevector(u[j], u[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        b[j + 4] = __builtin_shufflevector(u[j], u[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/* Keep bits of group g of a mask of n elements (thr <= 65536). */
static void mask_group(uint8_t *mask, size_t n, uint64_t base, long g, uint32_t thr) {
    uint64_t w[LANES][CHUNK / 4] __attribute__((aligned(64)));   /* 64 KB: L2 */
    long c0 = g * LANES, nc = (long)((n - (size_t)c0 * CHUNK + CHUNK - 1) / CHUNK);
    if (nc > LANES) nc = LANES;
    u64x8 s0, s1, s2, s3;
    for (int l = 0; l < LANES; l++) {     /* lanes past the last chunk: a copy of the first */
        avm_rng r;
        rng_seed(&r, base, (uint64_t)(c0 + (l < nc ? l : 0)));
        s0[l] = r.s[0]; s1[l] = r.s[1]; s2[l] = r.s[2]; s3[l] = r.s[3];
    }
    for (int k = 0; k < CHUNK / 4; k += 8) {
        u64x8 b[8];
        for (int i = 0; i < 8; i++) {
            u64x8 r5 = rotl8((s1 << 2) + s1, 7), t = s1 << 17;   /* rotl(s1 * 5, 7) * 9 */
            b[i] = (r5 << 3) + r5;
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl8(s3, 45);
        }
        transpose8(b);
        for (int l = 0; l < LANES; l++) memcpy(&w[l][k], &b[l], sizeof b[l]);
    }
    for (long l = 0; l < nc; l++) {
        size_t i0 = (size_t)(c0 + l) * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        const uint16_t *u = (const uint16_t *)w[l];   /* little-endian: lowest bits first */
        #pragma omp simd
        for (size_t k = 0; k < len; k++) mask[i0 + k] = u[k] >= thr;
    }
}

static long nchunks(size_t n) { return (long)((n + CHUNK - 1) / CHUNK); }
static size_t chunk_end(long c, size_t n) { return (size_t)(c + 1) * CHUNK < n ? (size_t)(c + 1) * CHUNK : n; }
static long ngroups(size_t n) { return (long)((n + GROUP - 1) / GROUP); }
static size_t group_end(long g, size_t n) { return (size_t)(g + 1) * GROUP < n ? (size_t)(g + 1) * GROUP : n; }
static uint32_t threshold(float p) { return (uint32_t)lrint((double)p * 65536.0); }

void dropout_mask(uint8_t *mask, size_t n, float p, avm_rng *rng) {
    /* One draw from rng seeds fixed 4096-element chunks (stream = chunk index), so chunks
     * fill in parallel and the mask does not depend on the thread count. */
    uint32_t thr = threshold(p);
    uint64_t base = rng_u64(rng);
    long ng = ngroups(n);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (long g = 0; g < ng; g++) mask_group(mask, n, base, g, thr);
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
    long ng = ngroups(n);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (long g = 0; g < ng; g++) {
        size_t i0 = (size_t)g * GROUP, i1 = group_end(g, n);
        mask_group(mask, n, base, g, thr);
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
    long ng = ngroups(n);
    #pragma omp parallel for schedule(static) if (n > 65536)
    for (long g = 0; g < ng; g++) {
        size_t i0 = (size_t)g * GROUP, i1 = group_end(g, n);
        mask_group(mask, n, base, g, thr);
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
    long ng = ngroups(n);
    #pragma omp parallel for schedule(static) if (n > 32768)
    for (long g = 0; g < ng; g++) {
        size_t i0 = (size_t)g * GROUP, i1 = group_end(g, n);
        mask_group(mask, n, base, g, thr);
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
