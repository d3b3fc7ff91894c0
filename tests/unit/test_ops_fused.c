/* models/ops: the fused passes against the separate ops they replace, and the dropout
 * masks against their definition (the keyed streams of train/README.md "Randomness"):
 * chunk c of a mask is stream c of one draw from the caller's rng, four 16-bit uniforms per
 * rng_u64, lowest bits first, kept when >= round(p * 65536). */
#include "check.h"
#include "models/ops.h"
#include "common/rng.h"
#include "common/util.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static float *randv(avm_rng *r, size_t n) {
    float *v = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) v[i] = (float)rng_normal(r);
    return v;
}

/* The mask as the definition above draws it, one rng_u64 at a time. */
static void mask_reference(uint8_t *mask, size_t n, float p, avm_rng rng) {
    uint32_t thr = (uint32_t)lrint((double)p * 65536.0);
    uint64_t base = rng_u64(&rng), bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 4096 == 0) rng_seed(&rng, base, i / 4096);
        if (i % 4 == 0) bits = rng_u64(&rng);
        mask[i] = (bits & 0xFFFF) >= thr;
        bits >>= 16;
    }
}

static void test_masks(void) {
    size_t n = 19 * 4096 + 4097 + 3;       /* chunks are drawn 8 at a time: 3 groups, the last partial */
    uint8_t *want = xmalloc(n), *got = xmalloc(n);
    avm_rng r, r0;
    rng_seed(&r, 77, 1);
    r0 = r;
    mask_reference(want, n, 0.1f, r0);
    dropout_mask(got, n, 0.1f, &r);
    CHECK(!memcmp(want, got, n));
    CHECK(r.s[0] != r0.s[0]);                   /* one draw consumed */
    avm_rng r1 = r;
    float *x = randv(&r1, n), *y = xmalloc(n * sizeof(float));
    r1 = r;
    mask_reference(want, n, 0.3f, r1);
    dropout_forward(x, n, 0.3f, &r1, got, y);
    int ok = !memcmp(want, got, n);
    for (size_t i = 0; i < n; i++) ok &= y[i] == (got[i] ? x[i] * (1.0f / 0.7f) : 0.0f);
    CHECK_MSG(ok, "dropout_forward: mask or values differ from the definition");
    free(want); free(got); free(x); free(y);
}

static int near_eq(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(a[i] - b[i]) <= 1e-6f * (1 + fabsf(a[i])))) return 0;
    return 1;
}

/* gelu_dropout_* == gelu + dropout on 1 and 2 threads: the same masks and rng draws, the
 * same values up to libmvec's variants (which erff/expf, 16-, 8-lane or scalar, handles
 * an element depends on where the loop's remainder falls; they differ by a few ulps) */
static void test_gelu_dropout(void) {
    size_t n = 70001;
    avm_rng g;
    rng_seed(&g, 5, 5);
    float *x = randv(&g, n), *dy = randv(&g, n);
    float *y1 = xmalloc(n * 4), *y2 = xmalloc(n * 4), *d1 = xmalloc(n * 4), *d2 = xmalloc(n * 4);
    uint8_t *m1 = xmalloc(n), *m2 = xmalloc(n);
    int keep = omp_get_max_threads();
    for (int t = 1; t <= 2; t++) {
        omp_set_num_threads(t);
        avm_rng a, b;
        rng_seed(&a, 9, 9); b = a;
        gelu_forward(x, n, y1);
        dropout_forward(y1, n, 0.1f, &a, m1, y1);
        gelu_dropout_forward(x, n, 0.1f, &b, m2, y2);
        CHECK(!memcmp(m1, m2, n) && !memcmp(&a, &b, sizeof a) && near_eq(y1, y2, n));
        dropout_backward(dy, n, 0.1f, m1, d1);
        gelu_backward(x, d1, n, d1);
        gelu_dropout_backward(x, dy, n, 0.1f, m2, d2);
        CHECK(near_eq(d1, d2, n));
    }
    omp_set_num_threads(keep);
    free(x); free(dy); free(y1); free(y2); free(d1); free(d2); free(m1); free(m2);
}

/* layernorm_apply == the forward's output; layernorm_backward_add == backward + res (to a
 * rounding: the fused sum may be one FMA) */
static void test_layernorm(void) {
    int n = 300, d = 256;
    size_t nd = (size_t)n * d;
    avm_rng g;
    rng_seed(&g, 6, 6);
    float *x = randv(&g, nd), *gm = randv(&g, d), *bt = randv(&g, d), *dy = randv(&g, nd), *res = randv(&g, nd);
    float *y = xmalloc(nd * 4), *y2 = xmalloc(nd * 4), *mean = xmalloc(n * 4), *rstd = xmalloc(n * 4);
    float *dx1 = xmalloc(nd * 4), *dx2 = xmalloc(nd * 4);
    float *dg1 = xcalloc(d, 4), *db1 = xcalloc(d, 4), *dg2 = xcalloc(d, 4), *db2 = xcalloc(d, 4);
    layernorm_forward(x, n, d, gm, bt, y, mean, rstd);
    layernorm_apply(x, n, d, gm, bt, mean, rstd, y2);
    CHECK(!memcmp(y, y2, nd * 4));
    layernorm_backward(x, n, d, gm, mean, rstd, dy, dx1, dg1, db1);
    layernorm_backward_add(x, n, d, gm, mean, rstd, dy, res, dx2, dg2, db2);
    double worst = 0;
    for (size_t i = 0; i < nd; i++) worst = fmax(worst, fabs((double)dx1[i] + res[i] - dx2[i]) / (1 + fabs(dx2[i])));
    CHECK_MSG(worst <= 1e-6, "layernorm_backward_add: %.3g", worst);
    CHECK(!memcmp(dg1, dg2, d * 4) && !memcmp(db1, db2, d * 4));
    free(x); free(gm); free(bt); free(dy); free(res); free(y); free(y2); free(mean); free(rstd);
    free(dx1); free(dx2); free(dg1); free(db1); free(dg2); free(db2);
}

/* the fused forms work in fixed blocks (groups of 8 x 4096 elements forward, 4096 backward):
 * the same floats on 1 and 2 threads for any n */
static void test_thread_independence(void) {
    size_t n = 70001;
    avm_rng g;
    rng_seed(&g, 8, 8);
    float *x = randv(&g, n), *dy = randv(&g, n), *y[2], *d[2];
    uint8_t *m[2];
    int keep = omp_get_max_threads();
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        y[t] = xmalloc(n * 4); d[t] = xmalloc(n * 4); m[t] = xmalloc(n);
        avm_rng a;
        rng_seed(&a, 9, 9);
        gelu_dropout_forward(x, n, 0.1f, &a, m[t], y[t]);
        gelu_dropout_backward(x, dy, n, 0.1f, m[t], d[t]);
    }
    omp_set_num_threads(keep);
    CHECK(!memcmp(m[0], m[1], n) && !memcmp(y[0], y[1], n * 4) && !memcmp(d[0], d[1], n * 4));
    for (int t = 0; t < 2; t++) { free(y[t]); free(d[t]); free(m[t]); }
    free(x); free(dy);
}

int main(void) {
    test_masks();
    test_gelu_dropout();
    test_thread_independence();
    test_layernorm();
    return check_done("test_ops_fused");
}
