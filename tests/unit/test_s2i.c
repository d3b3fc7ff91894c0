/* train/s2i: the S2I loss (encoder, masked mean pooling, projection, classifier, softmax
 * cross-entropy, plus each cross-modal loss) against central finite differences for every
 * head parameter and encoder parameters (float32, step 2e-3: |fd - analytic| <= 2e-3 + 2e-2
 * |analytic|); a frozen encoder gets no gradient and the head the same one; a batch cut into
 * two slices over the same global batch (its pool of texts and its size) gives shares that
 * add up to the whole batch's loss and gradient (what MPI ranks rely on); the labelled
 * fraction keeps max(1, round(F n_k)) of each intent, the same rows for the same seed. */
#include "check.h"
#include "common/rng.h"
#include "common/util.h"
#include "train/s2i.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { B = 3, T = 6, IN = 8, D = 16, E = 6, K = 4, P = 5 };

static void build(s2i_model *m) {
    memset(m, 0, sizeof *m);
    avm_config c;
    avmodel_config_named(&c, "tiny");
    c.d = D; c.ffn = 32; c.heads = 2; c.layers_audio = 1; c.layers_fusion = 1;
    c.audio_in = IN; c.max_len = 16; c.dropout = c.attn_dropout = 0; c.modalities = AVM_MOD_AUDIO;
    c.encoder_only = 1;
    CHECK(avmodel_init(&m->enc, &c, 3) == 0);
    s2i_head_init(&m->head, D, E, K, 4);
    avm_rng r;
    rng_seed(&r, 11, 0);
    for (size_t i = 0; i < m->head.p.total; i++) m->head.p.data[i] = (float)(0.3 * rng_normal(&r));
}

typedef struct {
    s2i_model m;
    avm_batch_data d;
    s2i_target t;
    s2i_xopts x;
} ctx;

static double loss_of(ctx *c) { return s2i_train_loss(&c->m, &c->d, &c->t, &c->x, 0, NULL, NULL, NULL, NULL); }

static int fd_ok(ctx *c, float *x, const float *g, size_t i, const char *what) {
    float s = x[i];
    x[i] = s + 2e-3f; double up = loss_of(c);
    x[i] = s - 2e-3f; double dn = loss_of(c);
    x[i] = s;
    double fd = (up - dn) / 4e-3;
    int ok = fabs(fd - g[i]) <= 2e-3 + 2e-2 * fabs(g[i]);
    if (!ok) fprintf(stderr, "%s[%zu]: fd %.6g analytic %.6g\n", what, i, fd, g[i]);
    return ok;
}

static float audio[B * T * IN], pool[P * E];
static int len[B] = {6, 4, 5};
static const int32_t y[B] = {0, 2, 1}, pos[B] = {0, 1, 2};
static const int pcls[P] = {0, 2, 1, 3, 2};

static void setup(ctx *c, int kind) {
    build(&c->m);
    avm_rng r;
    rng_seed(&r, 5, 0);
    for (int i = 0; i < B * T * IN; i++) audio[i] = (float)rng_normal(&r);
    for (int i = 0; i < P * E; i++) pool[i] = (float)rng_normal(&r);
    memset(&c->d, 0, sizeof c->d);
    c->d.B = B; c->d.T = T; c->d.len = len; c->d.audio = audio; c->d.global_B = 5;
    c->t = (s2i_target){y, pos, pool, pcls, NULL, P, 5};
    c->x = (s2i_xopts){kind, 0.7f, 0.5f, 0.2f, 0};
}

static const int given_neg[B] = {3, 0, -1};   /* pool rows of other intents; the last sample has none */

static void test_grads(int kind, int sampled) {
    const char *name = sampled ? "triplet(given negatives)" : s2i_xmodal_names[kind];
    ctx c;
    setup(&c, kind);
    if (sampled) c.t.neg = given_neg;
    double ce, xm;
    double loss = s2i_train_loss(&c.m, &c.d, &c.t, &c.x, 0, NULL, &ce, &xm, NULL);
    CHECK_MSG(isfinite(loss) && loss > 0, "%s: loss %g", name, loss);
    CHECK_NEAR(loss, ce + (double)0.7f * xm, 1e-9);
    CHECK_MSG(kind == XM_NONE ? xm == 0 : xm > 0, "%s: cross-modal part %g", name, xm);
    /* validation and decode's inference forward: the training forward's logits, bit for bit */
    size_t nl = (size_t)c.d.B * c.m.head.K;
    float *lt = malloc(sizeof(float) * nl);
    memcpy(lt, c.m.logits, sizeof(float) * nl);
    CHECK(s2i_forward(&c.m, &c.d) == 0);
    CHECK_MSG(!memcmp(lt, c.m.logits, sizeof(float) * nl), "%s: the inference forward's logits differ", name);
    free(lt);
    size_t nh = c.m.head.p.total, ne = c.m.enc.params.total;
    float *gh = xmalloc(sizeof(float) * nh), *ge = xmalloc(sizeof(float) * ne);
    memcpy(gh, c.m.head.p.grad, sizeof(float) * nh);
    memcpy(ge, c.m.enc.params.grad, sizeof(float) * ne);
    int bad = 0, checked = 0;
    for (size_t i = 0; i < nh; i += 3, checked++) bad += !fd_ok(&c, c.m.head.p.data, gh, i, name);
    for (size_t i = 0; i < ne; i += ne / 40, checked++) bad += !fd_ok(&c, c.m.enc.params.data, ge, i, name);
    CHECK_MSG(bad == 0, "%s: %d of %d gradient elements off", name, bad, checked);
    /* frozen: no encoder gradient, the head's unchanged */
    s2i_train_loss(&c.m, &c.d, &c.t, &c.x, 1, NULL, NULL, NULL, NULL);
    int zero = 1;
    for (size_t i = 0; i < ne; i++) zero &= c.m.enc.params.grad[i] == 0;
    CHECK_MSG(zero, "%s: a frozen encoder got a gradient", name);
    CHECK_MSG(!memcmp(gh, c.m.head.p.grad, sizeof(float) * nh), "%s: freezing changed the head's gradient", name);
    /* two slices of the same global batch: shares add up to the whole */
    avm_batch_data d1 = c.d, d2 = c.d;
    d1.B = 2;
    d2.B = 1; d2.len = len + 2; d2.audio = audio + 2 * T * IN;
    s2i_target t1 = c.t, t2 = c.t;
    t2.y = y + 2; t2.pos = pos + 2;
    if (sampled) t2.neg = given_neg + 2;
    double l1 = s2i_train_loss(&c.m, &d1, &t1, &c.x, 0, NULL, NULL, NULL, NULL);
    float *g1 = xmalloc(sizeof(float) * nh);
    memcpy(g1, c.m.head.p.grad, sizeof(float) * nh);
    double l2 = s2i_train_loss(&c.m, &d2, &t2, &c.x, 0, NULL, NULL, NULL, NULL);
    CHECK_MSG(fabs(l1 + l2 - loss) <= 1e-6 * loss, "%s: slices %g + %g, whole %g", name, l1, l2, loss);
    double worst = 0;
    for (size_t i = 0; i < nh; i++) worst = fmax(worst, fabs(g1[i] + c.m.head.p.grad[i] - gh[i]));
    CHECK_MSG(worst <= 1e-5, "%s: slices' head gradients differ from the whole's by %g", name, worst);
    free(gh); free(ge); free(g1);
    s2i_free(&c.m);
}

/* Sampled negatives: a pool row of another intent, the same for the same key, none when the
 * pool holds only the sample's intent. */
static void test_negatives(void) {
    const int32_t yy[4] = {0, 2, 1, 3};
    const int cls[P] = {0, 2, 1, 3, 2}, one[P] = {1, 1, 1, 1, 1};
    int gidx[4] = {0, 1, 2, 3};
    avm_batch_data d = {0};
    d.B = 4; d.gidx = gidx;
    s2i_target t = {yy, NULL, NULL, cls, NULL, P, 4};
    s2i_tbuf b = {0};
    int ok = 1, seen[P] = {0}, first[4];
    for (long step = 0; step < 50; step++) {
        s2i_target_negatives(&t, &b, &d, 3, step);
        for (int i = 0; i < 4; i++) {
            ok &= t.neg[i] >= 0 && t.neg[i] < P && cls[t.neg[i]] != yy[i];
            seen[t.neg[i]]++;
            if (!step) first[i] = t.neg[i];
        }
    }
    CHECK_MSG(ok, "a sampled negative of the sample's own intent");
    CHECK_MSG(seen[0] && seen[1] && seen[2] && seen[3] && seen[4], "some pool row never drawn");
    s2i_target_negatives(&t, &b, &d, 3, 0);
    CHECK_MSG(!memcmp(first, t.neg, sizeof first), "the same key drew other negatives");
    t.pool_cls = one;
    s2i_target_negatives(&t, &b, &d, 3, 0);
    CHECK(t.neg[2] == -1 && t.neg[0] >= 0);
    s2i_tbuf_free(&b);
}

static void test_subset(void) {
    enum { N = 53 };
    const int nk[K] = {20, 15, 13, 5};
    s2i_labels lb = {0};
    lb.n = N;
    lb.y = xmalloc(N * sizeof *lb.y);
    int left[K];
    memcpy(left, nk, sizeof left);
    for (int i = 0, k = 0; i < N; i++) {   /* intents interleaved, not in blocks */
        while (!left[k % K]) k++;
        lb.y[i] = k % K;
        left[k % K]--;
        k++;
    }
    s2i_labels_subset(&lb, K, 0.1, 7);
    int got[K] = {0}, total = 0;
    for (int i = 0; i < N; i++) if (lb.use[i]) { got[lb.y[i]]++; total++; }
    int ok = total == lb.nused;
    for (int k = 0; k < K; k++) {
        long want = lround(0.1 * nk[k]);
        ok &= got[k] == (want < 1 ? 1 : want);
    }
    CHECK_MSG(ok, "stratified subset: %d %d %d %d of %d %d %d %d", got[0], got[1], got[2], got[3], nk[0], nk[1], nk[2],
              nk[3]);
    uint8_t *first = xmalloc(N);
    memcpy(first, lb.use, N);
    free(lb.use);
    s2i_labels_subset(&lb, K, 0.1, 7);
    CHECK_MSG(!memcmp(first, lb.use, N), "the same seed drew another subset");
    free(lb.use);
    s2i_labels_subset(&lb, K, 0.1, 8);
    CHECK_MSG(memcmp(first, lb.use, N) != 0, "another seed drew the same subset");
    free(lb.use);
    s2i_labels_subset(&lb, K, 1.0, 8);
    CHECK(lb.nused == N);
    free(first);
    free(lb.use);
    free(lb.y);
}

int main(void) {
    for (int k = XM_NONE; k <= XM_INFONCE; k++) test_grads(k, 0);
    test_grads(XM_TRIPLET, 1);
    test_negatives();
    test_subset();
    return check_done("test_s2i");
}
