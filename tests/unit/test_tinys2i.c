/* train/tinys2i: the joint TinyS2I loss (decision cross-entropy + command cross-entropy on
 * command utterances + weight x triplet of title utterances against the title encoder's
 * embeddings) against central finite differences for head, audio encoder and title
 * encoder parameters (float32, step 2e-3: |fd - analytic| <= 2e-3 + 2e-2 |analytic|); the
 * title encoder's gradient is the same with the audio encoder frozen (which then gets none);
 * two slices of one global batch give shares adding up to the whole (what MPI ranks rely
 * on); batch targets: the pool of distinct titles, sampled negatives another title, the same
 * for the same key, none with one title; the best menu title by cosine. */
#include "check.h"
#include "common/rng.h"
#include "common/util.h"
#include "train/tinys2i.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { B = 4, T = 6, IN = 8, D = 16, E = 8, KC = 3, P = 3, TT = 4, V = 12 };

static void build(ts_model *m) {
    memset(m, 0, sizeof *m);
    avm_config c;
    avmodel_config_named(&c, "tiny");
    c.d = D; c.ffn = 32; c.heads = 2; c.layers_audio = 1; c.layers_fusion = 1;
    c.audio_in = IN; c.max_len = 16; c.dropout = c.attn_dropout = 0; c.modalities = AVM_MOD_AUDIO;
    c.encoder_only = 1;
    CHECK(avmodel_init(&m->enc, &c, 3) == 0);
    ts_head_init(&m->head, D, E, KC, 4);
    avm_text_config tc;
    textenc_config_default(&tc);
    tc.vocab = V; tc.d = E; tc.ffn = 16; tc.heads = 2; tc.layers = 1; tc.max_len = 6;
    tc.dropout = tc.attn_dropout = 0; tc.mlm_head = 0;
    CHECK(textenc_init(&m->tenc, &tc, 9) == 0);
    avm_rng r;
    rng_seed(&r, 11, 0);
    for (size_t i = 0; i < m->head.p.total; i++) m->head.p.data[i] = (float)(0.3 * rng_normal(&r));
    for (size_t i = E; i < m->tenc.params.total; i++) m->tenc.params.data[i] += (float)(0.2 * rng_normal(&r));
}

typedef struct { ts_model m; avm_batch_data d; ts_target t; } ctx;

static double loss_of(ctx *c) { return ts_train_loss(&c->m, &c->d, &c->t, 0.7f, 0.5f, 0, NULL, NULL, NULL); }

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

static float audio[B * T * IN];
static int len[B] = {6, 4, 5, 3};
static const int32_t cls[B] = {0, 1, 2, 1}, cmd[B] = {2, -1, -1, -1};
static const int pos[B] = {-1, 0, -1, 1}, neg[B] = {-1, 2, -1, 0};
static const int32_t ids[P * TT] = {3, 5, 6, 0, 3, 7, 8, 0, 3, 5, 9, 10};   /* <cls> + words, <pad> */
static const int tlen[P] = {3, 3, 4};

static void setup(ctx *c) {
    build(&c->m);
    avm_rng r;
    rng_seed(&r, 5, 0);
    for (int i = 0; i < B * T * IN; i++) audio[i] = (float)rng_normal(&r);
    memset(&c->d, 0, sizeof c->d);
    c->d.B = B; c->d.T = T; c->d.len = len; c->d.audio = audio; c->d.global_B = 6;
    /* a global batch of 6: 2 commands and 3 title utterances (one on another rank) */
    c->t = (ts_target){cls, cmd, pos, neg, ids, tlen, P, TT, 6, 2, 3};
}

static void copy_grads(const ts_model *m, float *g[3]) {
    const avm_params *ps[3] = {&m->head.p, &m->enc.params, &m->tenc.params};
    for (int k = 0; k < 3; k++) {
        g[k] = xmalloc(sizeof(float) * ps[k]->total);
        memcpy(g[k], ps[k]->grad, sizeof(float) * ps[k]->total);
    }
}

static void test_grads(void) {
    ctx c;
    setup(&c);
    double part[3];
    int hits[3];
    double loss = ts_train_loss(&c.m, &c.d, &c.t, 0.7f, 0.5f, 0, NULL, part, hits);
    CHECK_MSG(isfinite(loss) && part[0] > 0 && part[1] > 0 && part[2] > 0, "loss %g parts %g %g %g", loss, part[0],
              part[1], part[2]);
    CHECK_NEAR(loss, part[0] + part[1] + (double)0.7f * part[2], 1e-9);
    CHECK(hits[0] >= 0 && hits[0] <= B && hits[1] <= 1 && hits[2] <= 2);
    /* validation and decode's inference forward: the training forward's logits, bit for bit */
    size_t nc = (size_t)B * TS_CLASSES, nk = (size_t)B * c.m.head.Kc;
    float *lt = malloc(sizeof(float) * (nc + nk));
    memcpy(lt, c.m.lcls, sizeof(float) * nc);
    memcpy(lt + nc, c.m.lcmd, sizeof(float) * nk);
    CHECK(ts_forward(&c.m, &c.d) == 0);
    CHECK_MSG(!memcmp(lt, c.m.lcls, sizeof(float) * nc) && !memcmp(lt + nc, c.m.lcmd, sizeof(float) * nk),
              "the inference forward's logits differ");
    free(lt);
    float *g[3];
    copy_grads(&c.m, g);
    float *x[3] = {c.m.head.p.data, c.m.enc.params.data, c.m.tenc.params.data};
    size_t n[3] = {c.m.head.p.total, c.m.enc.params.total, c.m.tenc.params.total};
    const char *names[3] = {"head", "audio encoder", "title encoder"};
    int bad = 0, checked = 0, nonzero = 0;
    for (int k = 0; k < 3; k++) {
        size_t stride = k == 0 ? 5 : n[k] / 30;
        for (size_t i = 0; i < n[k]; i += stride, checked++) bad += !fd_ok(&c, x[k], g[k], i, names[k]);
    }
    /* every used token row of the title encoder's embedding table, one element each */
    for (int t = 3; t < V; t++, checked++) {
        size_t i = c.m.tenc.tok + (size_t)t * E + (size_t)t % E;
        bad += !fd_ok(&c, x[2], g[2], i, "title token rows");
        nonzero += g[2][i] != 0;
    }
    CHECK_MSG(bad == 0, "%d of %d gradient elements off", bad, checked);
    CHECK_MSG(nonzero >= 6, "only %d title token rows got a gradient", nonzero);
    CHECK_MSG(g[2][c.m.tenc.tok + 4 * E] == 0 && g[2][c.m.tenc.tok + 11 * E] == 0, "unused tokens got a gradient");
    /* frozen audio encoder: no gradient there, the head's and the title encoder's unchanged */
    ts_train_loss(&c.m, &c.d, &c.t, 0.7f, 0.5f, 1, NULL, NULL, NULL);
    int zero = 1;
    for (size_t i = 0; i < n[1]; i++) zero &= c.m.enc.params.grad[i] == 0;
    CHECK_MSG(zero, "a frozen audio encoder got a gradient");
    CHECK(!memcmp(g[0], c.m.head.p.grad, sizeof(float) * n[0]) && !memcmp(g[2], c.m.tenc.params.grad, sizeof(float) * n[2]));
    /* two slices of the global batch (the same pool): shares add up to the whole */
    avm_batch_data d1 = c.d, d2 = c.d;
    d1.B = 2;
    d2.B = 2; d2.len = len + 2; d2.audio = audio + 2 * T * IN;
    ts_target t1 = c.t, t2 = c.t;
    t2.cls = cls + 2; t2.cmd = cmd + 2; t2.pos = pos + 2; t2.neg = neg + 2;
    double l1 = ts_train_loss(&c.m, &d1, &t1, 0.7f, 0.5f, 0, NULL, NULL, NULL);
    float *g1[3];
    copy_grads(&c.m, g1);
    double l2 = ts_train_loss(&c.m, &d2, &t2, 0.7f, 0.5f, 0, NULL, NULL, NULL);
    CHECK_MSG(fabs(l1 + l2 - loss) <= 1e-6 * loss, "slices %g + %g, whole %g", l1, l2, loss);
    const float *g2[3] = {c.m.head.p.grad, c.m.enc.params.grad, c.m.tenc.params.grad};
    for (int k = 0; k < 3; k++) {
        double worst = 0;
        for (size_t i = 0; i < n[k]; i++) worst = fmax(worst, fabs(g1[k][i] + g2[k][i] - g[k][i]));
        CHECK_MSG(worst <= 1e-5, "%s: the slices' gradients differ from the whole's by %g", names[k], worst);
        free(g[k]);
        free(g1[k]);
    }
    ts_free(&c.m);
}

/* Targets of a global batch: the pool holds each title once in order of first appearance,
 * negatives are other pool rows, keyed by (seed, step, sample). */
static void test_targets(void) {
    ts_labels lb = {0};
    lb.n = 6;
    int32_t lc[6] = {1, 0, 1, 1, 2, 1}, lk[6] = {-1, 1, -1, -1, -1, -1};
    int lt[6] = {2, -1, 0, 2, -1, 1};
    lb.cls = lc; lb.cmd = lk; lb.title = lt;
    textset_add(&lb.titles, "", "a b");
    textset_add(&lb.titles, "", "c d e");
    textset_add(&lb.titles, "", "f g");
    avm_vocab v;
    char *lines[3] = {"a b", "c d e", "f g"};
    CHECK(vocab_build(&v, lines, 3, 1, 100) == 0);
    textset_encode(&lb.titles, &v, 8);
    int g[6] = {0, 1, 2, 3, 4, 5}, gidx[6] = {0, 1, 2, 3, 4, 5};
    avm_batch_data d = {0};
    d.B = 6; d.utt = g; d.gidx = gidx;
    ts_tbuf b = {0}, b2 = {0};
    ts_target t, u;
    ts_target_make(&t, &b, &lb, &d, g, 6, 1, 7);
    CHECK(t.P == 3 && t.T == 4 && t.n == 6 && t.ncmd == 1 && t.ntitle == 4);
    CHECK(t.pos[0] == 0 && t.pos[2] == 1 && t.pos[3] == 0 && t.pos[5] == 2 && t.pos[1] == -1 && t.pos[4] == -1);
    CHECK(t.len[0] == 3 && t.len[1] == 3 && t.len[2] == 4 && t.ids[0] == 3 && t.ids[2 * 4 + 3] != 0);
    int differ = 0;
    for (int i = 0; i < 6; i++) {
        CHECK(t.pos[i] < 0 ? t.neg[i] == -1 : t.neg[i] >= 0 && t.neg[i] < 3 && t.neg[i] != t.pos[i]);
    }
    int keep[6];
    memcpy(keep, t.neg, sizeof keep);
    ts_target_make(&u, &b2, &lb, &d, g, 6, 1, 7);
    CHECK(!memcmp(keep, u.neg, sizeof keep));
    for (long step = 8; step < 40; step++) {
        ts_target_make(&u, &b2, &lb, &d, g, 6, 1, step);
        for (int i = 0; i < 6; i++) differ += u.neg[i] != keep[i];
    }
    CHECK_MSG(differ > 10, "negatives changed %d times over 32 steps", differ);
    /* one title in the global batch: no negative */
    int g1[2] = {0, 3};
    d.B = 2; d.utt = g1;
    ts_target_make(&u, &b2, &lb, &d, g1, 2, 1, 7);
    CHECK(u.P == 1 && u.neg[0] == -1 && u.neg[1] == -1 && u.pos[0] == 0);
    ts_tbuf_free(&b); ts_tbuf_free(&b2);
    textset_free(&lb.titles);
    vocab_free(&v);
}

static void test_best_title(void) {
    const float titles[3 * 2] = {1, 0, 0.6f, 0.8f, 0, 1}, emb[2] = {0.5f, 2.0f}, tie[2] = {1, 1};
    CHECK(ts_best_title(emb, 2, titles, 3) == 2);
    CHECK(ts_best_title(tie, 2, titles, 3) == 1);
    const float eq[2 * 2] = {0, 1, 0, 1};
    CHECK(ts_best_title(tie, 2, eq, 2) == 0);   /* the first of equals */
}

/* Titles as a character-level title encoder reads them: one token per character (UTF-8
 * sequences whole), '|' between words, blanks collapsed; words unchanged otherwise. */
static void test_title_text(void) {
    static const char *cases[][2] = {
        {"red fox", "r e d | f o x"}, {"  Blue   sky ", "B l u e | s k y"}, {"a", "a"}, {"", ""},
        {"caf\xc3\xa9 noir", "c a f \xc3\xa9 | n o i r"}, {"rock'n'roll", "r o c k ' n ' r o l l"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *t = ts_title_text(cases[i][0], 1);
        CHECK_MSG(!strcmp(t, cases[i][1]), "'%s' -> '%s', expected '%s'", cases[i][0], t, cases[i][1]);
        free(t);
    }
    char *w = ts_title_text("  Blue   sky ", 0);
    CHECK(!strcmp(w, "  Blue   sky "));
    free(w);
    /* through the tokenizer: a title of unseen words encodes without <unk> */
    char *lines[1] = {ts_title_text("red fox", 1)};
    avm_vocab v;
    CHECK(vocab_build(&v, lines, 1, 1, 100) == 0);
    char *unseen = ts_title_text("for", 1);
    int32_t ids[16];
    avm_text_counts cnt = {0};
    CHECK(vocab_encode(&v, unseen, 16, ids, &cnt) == 4 && cnt.unk == 0 && cnt.words == 3);
    vocab_free(&v);
    free(unseen); free(lines[0]);
}

int main(void) {
    test_title_text();
    test_grads();
    test_targets();
    test_best_title();
    return check_done("test_tinys2i");
}
