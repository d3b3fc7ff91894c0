/* train/: AdamW, LR schedules and gradient clipping against PyTorch 1.13
 * (tests/ref/train_optim.py: torch.optim.AdamW foreach=False, clip_grad_norm_,
 * LinearLR + CosineAnnealingLR/LinearLR in SequentialLR) on the same parameters
 * and gradients for 12 steps. Tolerances: parameters max|c-t| / max|t| <= 1e-6 per
 * tensor and step; learning rates and norms relative 1e-6 (1e-9 for lr). */
#include "check.h"
#include <limits.h>
#include "common/rng.h"
#include "common/util.h"
#include "models/params.h"
#include "train/clip.h"
#include "train/optim.h"
#include "train/sched.h"
#include <stdlib.h>
#include <string.h>

#define STEPS 12

static void write_raw(const char *path, const void *p, size_t bytes) {
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(p, 1, bytes, f) == bytes);
    if (f) fclose(f);
}

static void *read_raw(const char *path, size_t bytes) {
    size_t len = 0;
    char *s = read_file(path, &len);
    CHECK_MSG(s && len == bytes, "%s: %zu bytes, expected %zu", path, len, bytes);
    if (!s || len != bytes) { free(s); return NULL; }
    return s;
}

static void test_sched_basics(void) {
    avm_sched s = {SCHED_COSINE, 1e-3, 0.0, 10, 110};
    CHECK(sched_check(&s) == 0);
    CHECK_NEAR(sched_lr(&s, 0), 1e-4, 1e-15);
    CHECK_NEAR(sched_lr(&s, 9), 1e-3, 1e-15);
    CHECK_NEAR(sched_lr(&s, 60), 5e-4, 1e-15);     /* halfway down the cosine */
    CHECK_NEAR(sched_lr(&s, 110), 0, 1e-15);
    CHECK_NEAR(sched_lr(&s, 500), 0, 1e-15);        /* past the end: stays at the floor */
    avm_sched bad = {SCHED_LINEAR, 1e-3, 0.0, 200, 100};
    CHECK(sched_check(&bad) == -1);
    avm_sched_kind k;
    CHECK(sched_parse_kind("cosinus", &k) == -1);
    CHECK(sched_parse_kind("linear", &k) == 0 && k == SCHED_LINEAR);
}

static void test_clip_nan(void) {
    float g[4] = {3, 4, 0, 0};
    CHECK_NEAR(clip_grad_norm(g, 4, 1.0), 5.0, 1e-12);
    CHECK_NEAR(grad_norm(g, 4), 1.0, 1e-6);
    float h[3] = {1, NAN, 2};
    CHECK(!isfinite(clip_grad_norm(h, 3, 1.0)));
    CHECK(h[0] == 1 && h[2] == 2);                  /* untouched */
    float i[2] = {INFINITY, 0};
    CHECK(!isfinite(grad_norm(i, 2)));
}

static void test_vs_torch(void) {
    avm_params ps = {0};
    int s1[2] = {6, 5}, s2[1] = {6}, s3[1] = {5}, s4[2] = {3, 7};
    params_add(&ps, "lin.weight", 2, s1, 1);
    params_add(&ps, "lin.bias", 1, s2, 0);
    params_add(&ps, "norm.weight", 1, s3, 0);
    params_add(&ps, "head.weight", 2, s4, 1);
    params_alloc(&ps);
    /* frozen views: norm.weight never trains, head.weight joins at the 5th update (torch:
     * no gradient before, so it is neither updated nor counted, its own step starts at 1) */
    ps.p[2].frozen = LONG_MAX;
    ps.p[3].frozen = 4;
    avm_rng r;
    rng_seed(&r, 7, 0);
    for (size_t i = 0; i < ps.total; i++) ps.data[i] = (float)(0.5 * rng_normal(&r));
    float *init = xmalloc(sizeof(float) * ps.total);
    memcpy(init, ps.data, sizeof(float) * ps.total);
    /* gradients only inside the views: the alignment gaps of the flat buffer stay 0, as
     * after params_zero_grad; alternate small and large ones so clipping acts sometimes;
     * a frozen view's gradient is 0 (a task skips its backward) */
    float *grads = xcalloc(ps.total * STEPS, sizeof(float));
    for (int s = 0; s < STEPS; s++)
        for (int k = 0; k < ps.n; k++)
            for (size_t i = 0; i < ps.p[k].numel; i++)
                grads[s * ps.total + ps.p[k].offset + i] =
                    s < ps.p[k].frozen ? 0.0f : (float)(rng_normal(&r) * (s % 3 == 0 ? 1.0 : 0.05));

    const double lr = 3e-3, b1 = 0.9, b2 = 0.98, eps = 1e-6, wd = 0.1, max_norm = 1.0, fr = 0.1;
    const long warm = 3;
    write_raw("init.f32", ps.data, sizeof(float) * ps.total);
    write_raw("grads.f32", grads, sizeof(float) * ps.total * STEPS);
    FILE *f = fopen("spec.json", "w");
    fprintf(f, "{\"total\":%zu,\"steps\":%d,\"lr\":%.17g,\"beta1\":%.17g,\"beta2\":%.17g,"
               "\"eps\":%.17g,\"weight_decay\":%.17g,\"max_norm\":%.17g,\"warmup\":%ld,"
               "\"final_ratio\":%.17g,\"params\":[", ps.total, STEPS, lr, b1, b2, eps, wd,
            max_norm, warm, fr);
    for (int k = 0; k < ps.n; k++)
        fprintf(f, "%s{\"offset\":%zu,\"numel\":%zu,\"decay\":%d,\"frozen\":%ld,\"shape\":[%d%s%.0d]}", k ? "," : "",
                ps.p[k].offset, ps.p[k].numel, ps.p[k].decay, ps.p[k].frozen, ps.p[k].shape[0],
                ps.p[k].ndim > 1 ? "," : "", ps.p[k].ndim > 1 ? ps.p[k].shape[1] : 0);
    fprintf(f, "]}\n");
    fclose(f);
    const char *py = getenv("PY") ? getenv("PY") : "/usr/bin/python3";
    const char *root = getenv("AVMASK_ROOT") ? getenv("AVMASK_ROOT") : ".";
    char *cmd = xasprintf("%s %s/tests/ref/train_optim.py . 2>torch.err", py, root);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "%s failed (see torch.err)", cmd);
    free(cmd);

    float *tp = read_raw("params.f32", sizeof(float) * ps.total * STEPS);
    double *tlr = read_raw("lr_cosine.f64", sizeof(double) * STEPS);
    double *tlin = read_raw("lr_linear.f64", sizeof(double) * STEPS);
    double *tnorm = read_raw("norms.f64", sizeof(double) * STEPS);
    avm_adamw o;
    adamw_init(&o, &ps, b1, b2, eps, wd);
    avm_sched sc = {SCHED_COSINE, lr, fr, warm, STEPS}, sl = {SCHED_LINEAR, lr, fr, warm, STEPS};
    double worst = 0;
    int clipped = 0;
    for (int s = 0; tp && tlr && tlin && tnorm && s < STEPS; s++) {
        memcpy(ps.grad, grads + s * ps.total, sizeof(float) * ps.total);
        double norm = clip_grad_norm(ps.grad, ps.total, max_norm);
        clipped += norm > max_norm;
        CHECK_NEAR(norm / tnorm[s], 1.0, 1e-6);
        double l = sched_lr(&sc, s);
        CHECK_NEAR(l / tlr[s], 1.0, 1e-9);
        CHECK_NEAR(sched_lr(&sl, s) / tlin[s], 1.0, 1e-9);
        adamw_step(&o, &ps, l);
        for (int k = 0; k < ps.n; k++) {
            const float *c = ps.data + ps.p[k].offset, *t = tp + s * ps.total + ps.p[k].offset;
            double dmax = 0, tmax = 1e-6;
            for (size_t i = 0; i < ps.p[k].numel; i++) {
                dmax = fmax(dmax, fabs((double)c[i] - t[i]));
                tmax = fmax(tmax, fabs((double)t[i]));
            }
            CHECK_MSG(dmax / tmax <= 1e-6, "step %d %s: rel %.3g", s, ps.p[k].name, dmax / tmax);
            worst = fmax(worst, dmax / tmax);
        }
    }
    CHECK(o.step == STEPS);
    CHECK(clipped > 0 && clipped < STEPS);          /* both branches of clipping exercised */
    const avm_param *nv = &ps.p[2];
    int kept = !memcmp(ps.data + nv->offset, init + nv->offset, sizeof(float) * nv->numel);
    for (size_t i = 0; i < nv->numel; i++) kept &= o.m[nv->offset + i] == 0 && o.v[nv->offset + i] == 0;
    CHECK_MSG(kept, "a view frozen for good moved or has moments");
    printf("AdamW vs torch: worst relative parameter error %.3g over %d steps\n", worst, STEPS);
    adamw_free(&o);
    free(tp); free(tlr); free(tlin); free(tnorm); free(grads); free(init);
    params_free(&ps);
}

/* clip_coef + adamw_step_scaled (one pass) = clip_grad_norm + adamw_step, bit for bit,
 * on a buffer large enough for the parallel path, clipped and unclipped steps alike. */
static void test_fused_clip(void) {
    avm_params a = {0}, b = {0};
    int s1[2] = {300, 257}, s2[1] = {33}, s3[2] = {129, 300};
    avm_params *both[2] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        params_add(both[k], "w1", 2, s1, 1); params_add(both[k], "b1", 1, s2, 0); params_add(both[k], "w2", 2, s3, 1);
        params_alloc(both[k]);
    }
    avm_rng r;
    rng_seed(&r, 11, 0);
    for (size_t i = 0; i < a.total; i++) a.data[i] = b.data[i] = (float)rng_normal(&r);
    avm_adamw oa, ob;
    adamw_init(&oa, &a, 0.9, 0.98, 1e-6, 0.01);
    adamw_init(&ob, &b, 0.9, 0.98, 1e-6, 0.01);
    int same = 1;
    for (int s = 0; s < 4; s++) {
        for (int k = 0; k < a.n; k++)
            for (size_t i = 0; i < a.p[k].numel; i++)
                a.grad[a.p[k].offset + i] = b.grad[a.p[k].offset + i] = (float)(rng_normal(&r) * (s % 2 ? 1e-3 : 1.0));
        double na = clip_grad_norm(a.grad, a.total, 1.0);
        adamw_step(&oa, &a, 1e-3);
        double nb = grad_norm(b.grad, b.total);
        adamw_step_scaled(&ob, &b, 1e-3, clip_coef(nb, 1.0));
        same &= na == nb && !memcmp(a.data, b.data, a.total * sizeof(float)) &&
                !memcmp(oa.m, ob.m, a.total * sizeof(float)) && !memcmp(oa.v, ob.v, a.total * sizeof(float));
    }
    CHECK_MSG(same, "fused clip + AdamW differs from clip_grad_norm + adamw_step");
    CHECK(clip_coef(NAN, 1.0) == 1.0f && clip_coef(0.5, 1.0) == 1.0f && clip_coef(3.0, 0) == 1.0f);
    adamw_free(&oa); adamw_free(&ob);
    params_free(&a); params_free(&b);
}

/* params_join: an encoder and a head as one buffer; each part keeps working on its slice. */
static void test_join(void) {
    avm_params enc = {0}, head = {0}, all;
    int s1[2] = {3, 5}, s2[1] = {7}, s3[2] = {2, 3};
    params_add(&enc, "enc.w", 2, s1, 1);
    params_add(&enc, "enc.b", 1, s2, 0);
    params_add(&head, "head.w", 2, s3, 1);
    params_alloc(&enc);
    params_alloc(&head);
    enc.p[0].frozen = 9;
    for (size_t i = 0; i < enc.total; i++) enc.data[i] = (float)i;
    for (size_t i = 0; i < head.total; i++) head.data[i] = (float)(100 + i);
    size_t hw = head.p[0].offset;
    avm_params *parts[2] = {&enc, &head};
    params_join(&all, parts, 2);
    CHECK(all.n == 3 && !strcmp(all.p[2].name, "head.w") && all.p[0].frozen == 9 && all.p[2].decay == 1);
    CHECK(all.p[2].offset % 16 == 0 && all.p[2].offset >= enc.total && all.total == all.p[2].offset + 6);
    CHECK(enc.data == all.data && head.data == all.data + all.p[2].offset && head.grad == all.grad + all.p[2].offset);
    CHECK(all.data[all.p[1].offset + 2] == (float)(enc.p[1].offset + 2) && all.data[all.p[2].offset + 5] == (float)(100 + hw + 5));
    head.grad[head.p[0].offset + 1] = 3;                 /* a part writes into the one buffer */
    CHECK(all.grad[all.p[2].offset + 1] == 3);
    params_free(&enc);                                   /* names only: the memory is the join's */
    params_free(&head);
    CHECK(all.data[all.p[2].offset] == 100);
    params_free(&all);
}

int main(void) {
    test_join();
    test_sched_basics();
    test_clip_nan();
    test_fused_clip();
    test_vs_torch();
    return check_done("test_train_optim");
}
