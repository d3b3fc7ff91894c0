/* The text ops of models/ (ops_token.c, ops_xent.c, ops_triplet.c): token embedding lookup,
 * masked mean pooling, cross-entropy over a vocabulary with an ignore index and the triplet
 * loss (given and hardest negatives, raw and L2-normalised), each backward against central
 * finite differences (fdcheck.h), each forward against a direct computation in double; the
 * padding token's row gets no gradient, padded rows and ignored labels none either, the
 * hardest negative is the brute-force one. PyTorch parity: tests/models/test_torch_parity.sh. */
#include "check.h"
#include "fdcheck.h"
#include "models/ops.h"
#include <stdlib.h>
#include <string.h>

enum { V = 9, D = 6, N = 7, B = 3, T = 4, E = 5, NT = 8 };

/* ---- token embedding ---- */
typedef struct { int32_t ids[N]; float *table, *y, *R; } emb_ctx;
static double emb_loss(void *c_) {
    emb_ctx *c = c_;
    token_embed_forward(c->ids, N, c->table, D, c->y);
    return dotR(c->y, c->R, N * D);
}
static void test_token_embed(void) {
    emb_ctx c = {{3, 0, 5, 3, 8, 0, 1}, randv(V * D, 1), zerov(N * D), randv(N * D, 1)};
    emb_loss(&c);
    int same = 1;
    for (int i = 0; i < N; i++) same &= !memcmp(c.y + i * D, c.table + c.ids[i] * D, D * sizeof(float));
    CHECK_MSG(same, "lookup rows differ from the table");
    float *g = randv(V * D, 1), *g0 = xmalloc(V * D * sizeof(float));
    memcpy(g0, g, V * D * sizeof(float));
    token_embed_backward(c.ids, N, c.R, D, 0, g);
    /* the padding row (id 0, used twice) is untouched; a row used twice gets both rows of dy */
    CHECK_MSG(!memcmp(g, g0, D * sizeof(float)), "the padding id's row received a gradient");
    for (int j = 0; j < D; j++) {
        CHECK_NEAR(g[3 * D + j] - g0[3 * D + j], c.R[0 * D + j] + c.R[3 * D + j], 1e-6);
        CHECK_NEAR(g[2 * D + j], g0[2 * D + j], 0);   /* unused id */
    }
    float *ga = zerov(V * D);
    token_embed_backward(c.ids, N, c.R, D, -1, ga);   /* no padding id: FD over every row */
    fd_check("token_embed.dtable", emb_loss, &c, c.table, ga, V * D);
    free(c.table); free(c.y); free(c.R); free(g); free(g0); free(ga);
}

/* ---- masked mean pooling ---- */
typedef struct { float *x, *y, *R; uint8_t pad[B * T]; } pool_ctx;
static double pool_loss(void *c_) {
    pool_ctx *c = c_;
    mean_pool_forward(c->x, B, T, D, c->pad, c->y);
    return dotR(c->y, c->R, B * D);
}
static void test_mean_pool(void) {
    pool_ctx c = {randv(B * T * D, 1), zerov(B * D), randv(B * D, 1), {0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1}};
    pool_loss(&c);
    double err = 0;
    for (int j = 0; j < D; j++) {
        err = fmax(err, fabs(c.y[j] - ((double)c.x[j] + c.x[D + j] + c.x[2 * D + j]) / 3));
        err = fmax(err, fabs(c.y[D + j] - c.x[4 * D + j]));
        err = fmax(err, fabs(c.y[2 * D + j]));   /* every token padded: 0 */
    }
    CHECK_MSG(err < 1e-6, "mean pooling off by %g", err);
    float *dx = randv(B * T * D, 1);
    mean_pool_backward(c.R, B, T, D, c.pad, dx);
    fd_check("mean_pool.dx", pool_loss, &c, c.x, dx, B * T * D);
    int zero = 1;
    for (int i = 0; i < B * T; i++)
        for (int j = 0; j < D && c.pad[i]; j++) zero &= dx[i * D + j] == 0;
    CHECK_MSG(zero, "padded rows got a gradient");
    mean_pool_forward(c.x, B, T, D, NULL, c.y);   /* no mask: the mean of all T rows */
    CHECK_NEAR(c.y[D], ((double)c.x[4 * D] + c.x[5 * D] + c.x[6 * D] + c.x[7 * D]) / 4, 1e-6);
    free(c.x); free(c.y); free(c.R); free(dx);
}

/* ---- cross-entropy with an ignore index ---- */
typedef struct { float *logits, *probs; int32_t y[N]; double denom; } xent_ctx;
static double xent_loss(void *c_) {
    xent_ctx *c = c_;
    return xent_forward(c->logits, N, V, c->y, -100, c->denom, c->probs, NULL, NULL);
}
static void test_xent(void) {
    xent_ctx c = {randv(N * V, 2), zerov(N * V), {4, -100, 0, 8, -100, 2, 4}, 0};
    int count, correct;
    double l = xent_forward(c.logits, N, V, c.y, -100, 0, c.probs, &count, &correct);
    double ref = 0;
    int hits = 0;
    for (int i = 0; i < N; i++) {
        if (c.y[i] < 0) continue;
        const float *r = c.logits + i * V;
        double z = 0;
        int arg = 0;
        for (int j = 0; j < V; j++) { z += exp(r[j]); if (r[j] > r[arg]) arg = j; }
        ref += -log(exp(r[c.y[i]]) / z) / 5;
        hits += arg == c.y[i];
    }
    CHECK_NEAR(l, ref, 1e-6);
    CHECK(count == 5);
    CHECK(correct == hits);
    float *g = randv(N * V, 1);
    xent_backward(c.probs, N, V, c.y, -100, 0, 1.0f, g);
    fd_check("xent.dlogits", xent_loss, &c, c.logits, g, N * V);
    int zero = 1;
    for (int j = 0; j < V; j++) zero &= g[V + j] == 0 && g[4 * V + j] == 0;
    CHECK_MSG(zero, "ignored rows got a gradient");
    /* a global denominator (data parallelism): the sum over 20 rows, halves add up */
    c.denom = 20;
    double l20 = xent_loss(&c);
    CHECK_NEAR(l20, ref * 5 / 20, 1e-6);
    xent_backward(c.probs, N, V, c.y, -100, 20, 1.0f, g);
    fd_check("xent(denom 20).dlogits", xent_loss, &c, c.logits, g, N * V);
    int32_t all[N];
    for (int i = 0; i < N; i++) all[i] = -100;
    CHECK(xent_forward(c.logits, N, V, all, -100, 0, c.probs, &count, NULL) == 0 && count == 0);
    free(c.logits); free(c.probs); free(g);
}

/* ---- triplet loss ---- */
typedef struct { avm_triplet s; float *a, *p; const int *neg; } tri_ctx;
static double tri_loss(void *c_) {
    tri_ctx *c = c_;
    return triplet_forward(&c->s, c->a, c->p, c->neg, NULL, 0, NULL, NULL);
}
static void tri_alloc(avm_triplet *s, int norm, float margin) {
    avm_triplet x = {NT, E, norm, margin, zerov(NT * E), zerov(NT * E), zerov(NT), zerov(NT),
                     xcalloc(NT, sizeof(int)), zerov(NT), zerov(NT), NT};
    *s = x;
}
static void tri_free(avm_triplet *s) {
    free(s->an); free(s->pn); free(s->anorm); free(s->pnorm); free(s->neg); free(s->dpos); free(s->dneg);
}
/* The hardest negative by brute force in double, rows normalised as the op does. */
static int brute_hardest(const float *a, const float *p, int i, const int *cls, int norm) {
    int best = -1;
    double bd = INFINITY;
    for (int j = 0; j < NT; j++) {
        if (j == i || (cls && cls[j] == cls[i])) continue;
        double na = 0, np = 0, d = 0;
        for (int k = 0; k < E; k++) { na += (double)a[i * E + k] * a[i * E + k]; np += (double)p[j * E + k] * p[j * E + k]; }
        na = norm ? sqrt(na) : 1;
        np = norm ? sqrt(np) : 1;
        for (int k = 0; k < E; k++) d += pow(a[i * E + k] / na - p[j * E + k] / np, 2);
        if (d < bd) { bd = d; best = j; }
    }
    return best;
}
static void test_triplet(int norm) {
    const char *tag = norm ? "triplet(norm)" : "triplet";
    tri_ctx c;
    tri_alloc(&c.s, norm, norm ? 0.8f : 2.0f);
    c.a = randv(NT * E, 1); c.p = randv(NT * E, 1);
    const int cls[NT] = {0, 1, 1, 2, 0, 3, 2, 1};
    int count, active, chosen[NT];
    /* hardest in batch among other classes */
    c.neg = NULL;
    double lh = triplet_forward(&c.s, c.a, c.p, NULL, cls, 0, &count, &active);
    int brute = 1;
    for (int i = 0; i < NT; i++) brute &= c.s.neg[i] == brute_hardest(c.a, c.p, i, cls, norm);
    CHECK_MSG(brute, "%s: hardest negatives differ from the brute-force ones", tag);
    CHECK(count == NT);
    CHECK_MSG(active > 0 && active < NT + 1, "%s: %d active anchors", tag, active);
    memcpy(chosen, c.s.neg, sizeof chosen);
    float *da = zerov(NT * E), *dp = zerov(NT * E), *da2 = zerov(NT * E), *dp2 = zerov(NT * E);
    triplet_backward(&c.s, 0, 1.0f, da, dp);
    /* the same negatives given: the same loss and gradients; FD with the choice held fixed */
    c.neg = chosen;
    CHECK_NEAR(tri_loss(&c), lh, 0);
    triplet_backward(&c.s, 0, 1.0f, da2, dp2);
    CHECK_MSG(!memcmp(da, da2, sizeof(float) * NT * E) && !memcmp(dp, dp2, sizeof(float) * NT * E),
              "%s: given negatives change the gradient", tag);
    fd_check(norm ? "triplet(norm).da" : "triplet.da", tri_loss, &c, c.a, da, NT * E);
    fd_check(norm ? "triplet(norm).dp" : "triplet.dp", tri_loss, &c, c.p, dp, NT * E);
    /* the loss in double from the definition (the saved rows of an unperturbed forward) */
    tri_loss(&c);
    double ref = 0;
    for (int i = 0; i < NT; i++) {
        double dpos = 0, dneg = 0;
        for (int k = 0; k < E; k++) {
            dpos += pow((double)c.s.an[i * E + k] - c.s.pn[i * E + k], 2);
            dneg += pow((double)c.s.an[i * E + k] - c.s.pn[chosen[i] * E + k], 2);
        }
        ref += fmax(0, sqrt(dpos) - sqrt(dneg) + c.s.margin) / NT;
    }
    CHECK_NEAR(lh, ref, 1e-5);
    /* without classes: any j != i; an anchor without a negative counts nothing */
    triplet_forward(&c.s, c.a, c.p, NULL, NULL, 0, &count, NULL);
    int ok = 1;
    for (int i = 0; i < NT; i++) ok &= c.s.neg[i] == brute_hardest(c.a, c.p, i, NULL, norm);
    CHECK_MSG(ok, "%s: hardest negatives without classes", tag);
    int some[NT] = {3, -1, 0, -1, 1, 2, -1, 5};
    c.neg = some;
    tri_loss(&c);
    triplet_forward(&c.s, c.a, c.p, some, NULL, 0, &count, NULL);
    CHECK(count == 5);
    triplet_backward(&c.s, 0, 1.0f, da, dp);
    fd_check(norm ? "triplet(norm, some).da" : "triplet(some).da", tri_loss, &c, c.a, da, NT * E);
    fd_check(norm ? "triplet(norm, some).dp" : "triplet(some).dp", tri_loss, &c, c.p, dp, NT * E);
    const int same[NT] = {0, 0, 0, 0, 0, 0, 0, 0};   /* one class: nobody has a negative */
    CHECK(triplet_forward(&c.s, c.a, c.p, NULL, same, 0, &count, NULL) == 0 && count == 0);
    tri_free(&c.s);
    free(c.a); free(c.p); free(da); free(dp); free(da2); free(dp2);
}

/* Fewer anchors than positives (np > n): the extra rows of p are candidates for negatives
 * only; a NULL dp leaves the anchors' gradient as it is. */
static void test_triplet_extra(int norm) {
    enum { NA = 5 };
    const char *tag = norm ? "triplet(norm, extra rows)" : "triplet(extra rows)";
    tri_ctx c;
    tri_alloc(&c.s, norm, norm ? 0.8f : 2.0f);
    c.s.n = NA;
    c.s.np = NT;
    c.a = randv(NA * E, 1); c.p = randv(NT * E, 1);
    const int cls[NT] = {0, 1, 1, 2, 0, 3, 2, 1};
    int count;
    c.neg = NULL;
    triplet_forward(&c.s, c.a, c.p, NULL, cls, 0, &count, NULL);
    int ok = count == NA, extra = 0, chosen[NA];
    for (int i = 0; i < NA; i++) {
        ok &= c.s.neg[i] == brute_hardest(c.a, c.p, i, cls, norm);
        extra |= c.s.neg[i] >= NA;
        chosen[i] = c.s.neg[i];
    }
    CHECK_MSG(ok, "%s: hardest negatives differ from the brute-force ones", tag);
    CHECK_MSG(extra, "%s: no anchor took an extra row as its negative (the test data does not exercise them)", tag);
    c.neg = chosen;
    float *da = zerov(NA * E), *dp = zerov(NT * E), *da2 = zerov(NA * E);
    tri_loss(&c);
    triplet_backward(&c.s, 0, 1.0f, da, dp);
    triplet_backward(&c.s, 0, 1.0f, da2, NULL);
    CHECK_MSG(!memcmp(da, da2, sizeof(float) * NA * E), "%s: dp NULL changes da", tag);
    fd_check(norm ? "triplet(norm, extra).da" : "triplet(extra).da", tri_loss, &c, c.a, da, NA * E);
    fd_check(norm ? "triplet(norm, extra).dp" : "triplet(extra).dp", tri_loss, &c, c.p, dp, NT * E);
    tri_free(&c.s);
    free(c.a); free(c.p); free(da); free(dp); free(da2);
}

int main(void) {
    rng_seed(&g_rng, 777, 0);
    test_token_embed();
    test_mean_pool();
    test_xent();
    test_triplet(0);
    test_triplet(1);
    test_triplet_extra(0);
    test_triplet_extra(1);
    return check_done("test_ops_text");
}
