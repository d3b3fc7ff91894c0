/* Finite-difference helpers of the op tests (test_ops.c, test_ops_mix.c): random tensors
 * from one seeded generator, L = sum(y * R) in double, and the central-difference check
 * (step h = 1e-2, |fd - analytic| <= 2e-3 * max(1, |analytic|), at most ~60 elements per
 * tensor; fd_check_h takes another step, for whole models whose curvature makes the
 * central difference at 1e-2 miss by more than the tolerance). */
#ifndef AVMASK_FDCHECK_H
#define AVMASK_FDCHECK_H
#include "check.h"
#include "common/rng.h"
#include "common/util.h"
#include <math.h>
#include <stdio.h>

static avm_rng g_rng;

static inline float *randv(size_t n, float sc) {
    float *v = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) v[i] = (float)(rng_normal(&g_rng) * sc);
    return v;
}
static inline float *zerov(size_t n) { return xcalloc(n, sizeof(float)); }

static inline double dotR(const float *y, const float *R, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * R[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

/* Checks analytic grad g of variable v (n floats) against central differences of f. */
static inline void fd_check_h(const char *what, loss_fn f, void *ctx, float *v, const float *g, size_t n, float h) {
    size_t step = n > 60 ? n / 60 : 1;          /* at most ~60 elements per tensor */
    int bad = 0;
    for (size_t i = 0; i < n; i += step) {
        float keep = v[i];
        v[i] = keep + h; double lp = f(ctx);
        v[i] = keep - h; double lm = f(ctx);
        v[i] = keep;
        double fd = (lp - lm) / (2.0 * h), an = g[i];
        double tol = 2e-3 * (fabs(an) > 1 ? fabs(an) : 1);
        if (fabs(fd - an) > tol && bad++ < 3)
            fprintf(stderr, "%s[%zu]: fd %.6g analytic %.6g\n", what, i, fd, an);
    }
    CHECK_MSG(bad == 0, "%s: %d elements off", what, bad);
}
static inline void fd_check(const char *what, loss_fn f, void *ctx, float *v, const float *g, size_t n) {
    fd_check_h(what, f, ctx, v, g, n, 1e-2f);
}
#endif
