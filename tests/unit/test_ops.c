/* models/ops: every backward against central finite differences.
 * Each op's output y is reduced to L = sum(y * R) (R fixed random, accumulated in double),
 * so the analytic gradient is the op's backward with dy = R. Tolerance (float32 ops, step
 * h = 1e-2): |fd - analytic| <= 2e-3 * max(1, |analytic|) for every checked element. */
#include "check.h"
#include "fdcheck.h"
#include "models/ops.h"
#include "common/rng.h"
#include "common/util.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- linear ---- */
typedef struct { int n, in, out; float *x, *W, *b, *y, *R; } lin_ctx;
static double lin_loss(void *c_) {
    lin_ctx *c = c_;
    linear_forward(c->x, c->n, c->in, c->W, c->b, c->out, c->y);
    return dotR(c->y, c->R, (size_t)c->n * c->out);
}
static void test_linear(void) {
    lin_ctx c = {5, 7, 3, NULL, NULL, NULL, NULL, NULL};
    c.x = randv(35, 1); c.W = randv(21, 0.5f); c.b = randv(3, 0.5f); c.y = zerov(15); c.R = randv(15, 1);
    float *dx = zerov(35), *dW = randv(21, 1), *db = randv(3, 1);
    float *dW0 = xmalloc(21 * 4), *db0 = xmalloc(3 * 4);
    memcpy(dW0, dW, 21 * 4); memcpy(db0, db, 3 * 4);
    lin_loss(&c);
    /* forward against a direct sum */
    double e = 0;
    for (int i = 0; i < 5; i++) for (int o = 0; o < 3; o++) {
        double s = c.b[o];
        for (int k = 0; k < 7; k++) s += (double)c.x[i * 7 + k] * c.W[o * 7 + k];
        e = fmax(e, fabs(s - c.y[i * 3 + o]));
    }
    CHECK_NEAR(e, 0, 1e-5);
    linear_backward(c.x, 5, 7, c.W, 3, c.R, dx, dW, db);
    for (int i = 0; i < 21; i++) dW[i] -= dW0[i];      /* gradients accumulate */
    for (int i = 0; i < 3; i++) db[i] -= db0[i];
    fd_check("linear.dx", lin_loss, &c, c.x, dx, 35);
    fd_check("linear.dW", lin_loss, &c, c.W, dW, 21);
    fd_check("linear.db", lin_loss, &c, c.b, db, 3);
    free(c.x); free(c.W); free(c.b); free(c.y); free(c.R); free(dx); free(dW); free(db); free(dW0); free(db0);
}

/* ---- layer norm ---- */
typedef struct { int n, d; float *x, *g, *b, *y, *mean, *rstd, *R; } ln_ctx;
static double ln_loss(void *c_) {
    ln_ctx *c = c_;
    layernorm_forward(c->x, c->n, c->d, c->g, c->b, c->y, c->mean, c->rstd);
    return dotR(c->y, c->R, (size_t)c->n * c->d);
}
static void test_layernorm(void) {
    int n = 4, d = 9;
    ln_ctx c = {n, d, randv(36, 2), randv(9, 1), randv(9, 1), zerov(36), zerov(4), zerov(4), randv(36, 1)};
    for (int j = 0; j < 9; j++) c.g[j] += 1.0f;
    ln_loss(&c);
    /* forward: normalised rows have mean b-weighted... check a plain row by hand */
    double mu = 0, var = 0;
    for (int j = 0; j < d; j++) mu += c.x[j];
    mu /= d;
    for (int j = 0; j < d; j++) var += (c.x[j] - mu) * (c.x[j] - mu);
    var /= d;
    CHECK_NEAR(c.y[3], (c.x[3] - mu) / sqrt(var + 1e-5) * c.g[3] + c.b[3], 1e-5);
    float *dx = zerov(36), *dg = zerov(9), *db = zerov(9);
    layernorm_backward(c.x, n, d, c.g, c.mean, c.rstd, c.R, dx, dg, db);
    fd_check("layernorm.dx", ln_loss, &c, c.x, dx, 36);
    fd_check("layernorm.dg", ln_loss, &c, c.g, dg, 9);
    fd_check("layernorm.db", ln_loss, &c, c.b, db, 9);
    free(c.x); free(c.g); free(c.b); free(c.y); free(c.mean); free(c.rstd); free(c.R);
    free(dx); free(dg); free(db);
}

/* ---- gelu ---- */
typedef struct { size_t n; float *x, *y, *R; } act_ctx;
static double gelu_loss(void *c_) {
    act_ctx *c = c_;
    gelu_forward(c->x, c->n, c->y);
    return dotR(c->y, c->R, c->n);
}
static void test_gelu(void) {
    act_ctx c = {40, randv(40, 2), zerov(40), randv(40, 1)};
    gelu_loss(&c);
    CHECK_NEAR(c.y[0], 0.5 * c.x[0] * (1 + erf(c.x[0] / sqrt(2.0))), 1e-6);
    float v1 = 1.0f, y1;
    gelu_forward(&v1, 1, &y1);
    CHECK_NEAR(y1, 0.8413447460685429, 1e-6);     /* gelu(1) = Phi(1) */
    float *dx = zerov(40);
    gelu_backward(c.x, c.R, 40, dx);
    fd_check("gelu.dx", gelu_loss, &c, c.x, dx, 40);
    free(c.x); free(c.y); free(c.R); free(dx);
}

/* ---- dropout ---- */
typedef struct { size_t n; float p; float *x, *y, *R; uint8_t *mask; } drop_ctx;
static double drop_loss(void *c_) {
    drop_ctx *c = c_;
    avm_rng r;
    rng_seed(&r, 42, 7);                 /* same mask at every evaluation */
    dropout_forward(c->x, c->n, c->p, &r, c->mask, c->y);
    return dotR(c->y, c->R, c->n);
}
static void test_dropout(void) {
    size_t n = 4000;
    drop_ctx c = {n, 0.25f, randv(n, 1), zerov(n), randv(n, 1), xmalloc(n)};
    drop_loss(&c);
    size_t kept = 0;
    int scaled_ok = 1;
    for (size_t i = 0; i < n; i++) {
        kept += c.mask[i];
        float want = c.mask[i] ? c.x[i] / 0.75f : 0.0f;
        if (fabsf(c.y[i] - want) > 1e-6f * (1 + fabsf(want))) scaled_ok = 0;
    }
    CHECK(scaled_ok);
    CHECK_MSG(fabs((double)kept / n - 0.75) < 0.03, "kept %zu of %zu", kept, n);  /* ~4.4 sigma */
    float *dx = zerov(n);
    dropout_backward(c.R, n, c.p, c.mask, dx);
    fd_check("dropout.dx", drop_loss, &c, c.x, dx, n);
    /* p = 0: exact identity, rng untouched */
    avm_rng r, r0;
    rng_seed(&r, 1, 1); r0 = r;
    dropout_forward(c.x, n, 0.0f, &r, c.mask, c.y);
    CHECK(!memcmp(c.x, c.y, n * sizeof(float)));
    CHECK(!memcmp(&r, &r0, sizeof r));
    dropout_backward(c.R, n, 0.0f, c.mask, dx);
    CHECK(!memcmp(c.R, dx, n * sizeof(float)));
    /* fused residual form: y = res + dropout(x), same mask from the same seed */
    float *y2 = zerov(n);
    uint8_t *m2 = xmalloc(n);
    drop_loss(&c);
    rng_seed(&r, 42, 7);
    dropout_add_forward(c.x, c.R, n, c.p, &r, m2, y2);
    int fused_ok = !memcmp(m2, c.mask, n);
    for (size_t i = 0; i < n; i++) fused_ok &= fabsf(y2[i] - (c.R[i] + c.y[i])) <= 1e-6f * (1 + fabsf(y2[i]));
    CHECK(fused_ok);
    free(y2); free(m2);
    /* large masks are filled in parallel: the same mask with 1 and 2 threads */
    size_t big = 300001;
    uint8_t *a1 = xmalloc(big), *a2 = xmalloc(big);
    int keep = omp_get_max_threads();
    omp_set_num_threads(1);
    rng_seed(&r, 3, 3);
    dropout_mask(a1, big, 0.1f, &r);
    omp_set_num_threads(2);
    rng_seed(&r, 3, 3);
    dropout_mask(a2, big, 0.1f, &r);
    omp_set_num_threads(keep);
    CHECK(!memcmp(a1, a2, big));
    size_t k2 = 0;
    for (size_t i = 0; i < big; i++) k2 += a1[i];
    CHECK_MSG(fabs((double)k2 / big - 0.9) < 0.003, "kept %zu of %zu", k2, big);   /* ~5.5 sigma */
    free(a1); free(a2);
    free(c.x); free(c.y); free(c.R); free(c.mask); free(dx);
}

/* ---- attention ---- */
typedef struct { avm_attn_dims a; float *qkv, *probs, *ctx, *R, *scratch; uint8_t *pad, *dmask; } attn_ctx;
static double attn_loss(void *c_) {
    attn_ctx *c = c_;
    avm_rng r;
    rng_seed(&r, 3, 9);
    attn_forward(&c->a, c->qkv, c->pad, &r, c->probs, c->dmask, c->ctx, c->scratch);
    return dotR(c->ctx, c->R, (size_t)c->a.B * c->a.T * c->a.d);
}
static void test_attention(float p_drop) {
    int B = 2, T = 5, d = 6, H = 2;
    attn_ctx c = {{B, T, d, H, p_drop, 0}, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    size_t nq = (size_t)B * T * 3 * d, np = (size_t)B * H * T * T;
    c.qkv = randv(nq, 1); c.probs = zerov(np); c.ctx = zerov((size_t)B * T * d);
    c.R = randv((size_t)B * T * d, 1); c.scratch = zerov(attn_scratch_floats(T, 0));
    c.dmask = xcalloc(np, 1);
    uint8_t pad[10] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 1};   /* sample 1: two padded tokens */
    c.pad = pad;
    attn_loss(&c);
    /* padded query rows give zero context; softmax rows sum to one; padded keys get zero */
    int zero_ok = 1, sum_ok = 1, key_ok = 1;
    for (int t = 0; t < T; t++) {
        if (pad[T + t]) for (int j = 0; j < d; j++) zero_ok &= c.ctx[((size_t)T + t) * d + j] == 0.0f;
        for (int h = 0; h < H; h++) {
            const float *row = c.probs + (((size_t)1 * H + h) * T + t) * T;
            double s = 0;
            for (int j = 0; j < T; j++) { s += row[j]; if (pad[T + j]) key_ok &= row[j] == 0.0f; }
            if (!pad[T + t]) sum_ok &= fabs(s - 1) < 1e-5;
        }
    }
    CHECK(zero_ok); CHECK(sum_ok); CHECK(key_ok);
    if (p_drop == 0.0f) {   /* one output element against a direct computation */
        int b = 0, t = 2, h = 1, dh = d / H, j = 1;
        double s[5], mx = -1e30, z = 0, out = 0;
        for (int k = 0; k < T; k++) {
            s[k] = 0;
            for (int e = 0; e < dh; e++)
                s[k] += (double)c.qkv[(b * T + t) * 3 * d + h * dh + e] * c.qkv[(b * T + k) * 3 * d + d + h * dh + e];
            s[k] /= sqrt((double)dh);
            mx = fmax(mx, s[k]);
        }
        for (int k = 0; k < T; k++) z += exp(s[k] - mx);
        for (int k = 0; k < T; k++) out += exp(s[k] - mx) / z * c.qkv[(b * T + k) * 3 * d + 2 * d + h * dh + j];
        CHECK_NEAR(c.ctx[(b * T + t) * d + h * dh + j], out, 1e-5);
    }
    float *dqkv = randv(nq, 1);      /* must be overwritten */
    attn_backward(&c.a, c.qkv, c.pad, c.probs, c.dmask, c.R, dqkv, c.scratch);
    fd_check(p_drop > 0 ? "attn(dropout).dqkv" : "attn.dqkv", attn_loss, &c, c.qkv, dqkv, nq);
    int padgrad_ok = 1;     /* padded tokens: no gradient into their q, k or v */
    for (int t = 0; t < T; t++)
        if (pad[T + t]) for (int j = 0; j < 3 * d; j++) padgrad_ok &= dqkv[((size_t)T + t) * 3 * d + j] == 0.0f;
    CHECK(padgrad_ok);
    free(c.qkv); free(c.probs); free(c.ctx); free(c.R); free(c.scratch); free(c.dmask); free(dqkv);
}

/* ---- embeddings ---- */
typedef struct { int B, T, d; float *x0, *x, *memb, *pos, *type, *R; uint8_t *mask; } emb_ctx;
static double emb_loss(void *c_) {
    emb_ctx *c = c_;
    size_t n = (size_t)c->B * c->T * c->d;
    memcpy(c->x, c->x0, n * sizeof(float));
    embed_forward(c->x, c->B, c->T, c->d, c->mask, c->memb, c->pos, c->type);
    return dotR(c->x, c->R, n);
}
static void test_embed(void) {
    int B = 2, T = 3, d = 4, maxlen = 5;
    uint8_t mask[6] = {0, 1, 0, 1, 0, 0};
    emb_ctx c = {B, T, d, randv(24, 1), zerov(24), randv(4, 1), randv((size_t)maxlen * d, 1), randv(4, 1), randv(24, 1), mask};
    emb_loss(&c);
    CHECK_NEAR(c.x[1 * d + 2], c.memb[2] + c.pos[1 * d + 2] + c.type[2], 1e-6);
    CHECK_NEAR(c.x[5 * d + 0], c.x0[5 * d] + c.pos[2 * d] + c.type[0], 1e-6);
    float *dx = xmalloc(24 * 4), *dm = zerov(4), *dp = zerov((size_t)maxlen * d), *dt = zerov(4);
    memcpy(dx, c.R, 24 * 4);
    embed_backward(dx, B, T, d, mask, dm, dp, dt);
    fd_check("embed.dx", emb_loss, &c, c.x0, dx, 24);
    fd_check("embed.dmask_emb", emb_loss, &c, c.memb, dm, 4);
    fd_check("embed.dpos", emb_loss, &c, c.pos, dp, (size_t)maxlen * d);
    fd_check("embed.dtype", emb_loss, &c, c.type, dt, 4);
    free(c.x0); free(c.x); free(c.memb); free(c.pos); free(c.type); free(c.R); free(dx); free(dm); free(dp); free(dt);
}

/* ---- losses, gather/scatter ---- */
typedef struct { avm_loss_kind k; int n, f; float *p, *t; } loss_ctx;
static double rl_loss(void *c_) {
    loss_ctx *c = c_;
    return recon_loss_forward(c->k, c->p, c->t, c->n, c->f);
}
static void test_losses(void) {
    int n = 3, f = 5;
    loss_ctx c = {AVM_LOSS_L1, n, f, randv(15, 1), randv(15, 1)};
    for (int i = 0; i < 15; i++)   /* keep L1 away from its kink at 0 (step h = 1e-2) */
        if (fabsf(c.p[i] - c.t[i]) < 0.05f) c.p[i] += 0.1f;
    double l1 = 0, l2 = 0;
    for (int i = 0; i < 15; i++) { l1 += fabs(c.p[i] - c.t[i]); l2 += (c.p[i] - c.t[i]) * (c.p[i] - c.t[i]); }
    CHECK_NEAR(rl_loss(&c), l1 / 15, 1e-6);
    float *dp = zerov(15);
    recon_loss_backward(AVM_LOSS_L1, c.p, c.t, n, f, 1.0f, dp);
    fd_check("l1.dpred", rl_loss, &c, c.p, dp, 15);
    c.k = AVM_LOSS_L2;
    CHECK_NEAR(rl_loss(&c), l2 / 15, 1e-6);
    recon_loss_backward(AVM_LOSS_L2, c.p, c.t, n, f, 1.0f, dp);
    fd_check("l2.dpred", rl_loss, &c, c.p, dp, 15);
    CHECK(recon_loss_forward(AVM_LOSS_L1, c.p, c.t, 0, f) == 0.0);
    float src[6] = {1, 2, 3, 4, 5, 6}, dst[4], acc[6] = {0};
    int idx[2] = {2, 0};
    gather_rows(src, 2, idx, 2, dst);
    CHECK(dst[0] == 5 && dst[1] == 6 && dst[2] == 1 && dst[3] == 2);
    scatter_add_rows(dst, 2, idx, 2, acc);
    CHECK(acc[4] == 5 && acc[5] == 6 && acc[0] == 1 && acc[1] == 2 && acc[2] == 0);
    free(c.p); free(c.t); free(dp);
}

/* ---- InfoNCE ---- */
typedef struct { int n, f, ng; const int *off; float tau; float *p, *t, *pn, *tn, *nrm, *probs; } nce_ctx;
static double nce_loss(void *c_) {
    nce_ctx *c = c_;
    return infonce_forward(c->p, c->t, c->n, c->f, c->off, c->ng, c->tau, c->pn, c->tn, c->nrm, c->probs);
}
static void test_infonce(void) {
    static const int off[4] = {0, 3, 4, 8};     /* groups of 3, 1 and 4 rows */
    int n = 8, f = 5;
    nce_ctx c = {n, f, 3, off, 0.5f, randv(40, 1), randv(40, 1), zerov(40), zerov(40), zerov(8), NULL};
    CHECK(infonce_probs_floats(off, 3) == 9 + 1 + 16);
    c.probs = zerov(26);
    double L = nce_loss(&c);
    /* direct computation in double */
    double ref = 0;
    for (int g = 0; g < 3; g++)
        for (int i = off[g]; i < off[g + 1]; i++) {
            double s[8], z = 0;
            for (int j = off[g]; j < off[g + 1]; j++) {
                double dp = 0, a = 0, b = 0;
                for (int k = 0; k < f; k++) { dp += c.p[i * f + k] * c.t[j * f + k]; a += c.p[i * f + k] * c.p[i * f + k]; b += c.t[j * f + k] * c.t[j * f + k]; }
                s[j] = dp / sqrt(a) / sqrt(b) / 0.5;
                z += exp(s[j]);
            }
            ref += log(z) - s[i];
        }
    CHECK_NEAR(L, ref / n, 1e-5);
    float *dp = zerov(40);
    infonce_backward(c.pn, c.tn, c.nrm, c.probs, n, f, off, 3, 0.5f, 1.0f, dp);
    int single_ok = 1;                            /* a group of one has nothing to contrast */
    for (int k = 0; k < f; k++) single_ok &= dp[3 * f + k] == 0.0f;
    CHECK(single_ok);
    fd_check("infonce.dpred", nce_loss, &c, c.p, dp, 40);
    free(c.p); free(c.t); free(c.pn); free(c.tn); free(c.nrm); free(c.probs); free(dp);
}

/* ---- cluster cross-entropy (HuBERT cosine logits) ---- */
typedef struct { int n, nm, e, k; float uw, tau; const int32_t *y; float *x, *emb, *xn, *xnorm, *en, *enorm, *probs; } cce_ctx;
static double cce_loss(void *c_) {
    cce_ctx *c = c_;
    int correct;
    return cluster_ce_forward(c->x, c->n, c->nm, c->uw, c->e, c->emb, c->k, c->tau, c->y, c->xn, c->xnorm, c->en,
                              c->enorm, c->probs, &correct);
}
static void test_cluster_ce(void) {
    static const int32_t y[7] = {0, 3, 2, 2, 1, 3, 0};
    int n = 7, nm = 4, e = 5, k = 4;
    cce_ctx c = {n, nm, e, k, 0.3f, 0.5f, y, randv(35, 1), randv(20, 1), zerov(35), zerov(7), zerov(20), zerov(4), zerov(28)};
    double L = cce_loss(&c);
    double ref = 0;     /* direct computation in double */
    int hits = 0;
    for (int i = 0; i < n; i++) {
        double s[4], z = 0, best = -1e300;
        int arg = 0;
        for (int j = 0; j < k; j++) {
            double dp = 0, a = 0, b = 0;
            for (int t = 0; t < e; t++) { dp += c.x[i * e + t] * c.emb[j * e + t]; a += c.x[i * e + t] * c.x[i * e + t]; b += c.emb[j * e + t] * c.emb[j * e + t]; }
            s[j] = dp / sqrt(a) / sqrt(b) / 0.5;
            z += exp(s[j]);
            if (s[j] > best) { best = s[j]; arg = j; }
        }
        ref += (i < nm ? 1.0 : 0.3) * (log(z) - s[y[i]]);
        hits += i < nm && arg == y[i];
    }
    int correct;
    cluster_ce_forward(c.x, n, nm, c.uw, e, c.emb, k, c.tau, y, c.xn, c.xnorm, c.en, c.enorm, c.probs, &correct);
    CHECK_NEAR(L, ref / nm, 1e-5);
    CHECK(correct == hits);
    float *dx = zerov(35), *demb = zerov(20), *de = zerov(20);
    cluster_ce_backward(c.xn, c.xnorm, c.en, c.enorm, c.probs, y, n, nm, c.uw, e, k, c.tau, 1.0f, dx, demb, de);
    fd_check("cluster_ce.dx", cce_loss, &c, c.x, dx, 35);
    fd_check("cluster_ce.demb", cce_loss, &c, c.emb, demb, 20);
    CHECK(cce_loss(&(cce_ctx){n, 0, e, k, 0.3f, 0.5f, y, c.x, c.emb, c.xn, c.xnorm, c.en, c.enorm, c.probs}) == 0.0);
    free(c.x); free(c.emb); free(c.xn); free(c.xnorm); free(c.en); free(c.enorm); free(c.probs);
    free(dx); free(demb); free(de);
}

int main(void) {
    rng_seed(&g_rng, 12345, 0);
    test_linear();
    test_layernorm();
    test_gelu();
    test_dropout();
    test_attention(0.0f);
    test_attention(0.3f);
    test_embed();
    test_losses();
    test_infonce();
    test_cluster_ce();
    return check_done("test_ops");
}
