/* models/textenc: configuration checks and JSON round trip, parameter names, the <pad> row,
 * the gradient of MLM loss + pooled embedding against central finite differences through
 * dropout (the same masks at every evaluation) for every parameter view (step 2.5e-3: at
 * 1e-2 the layer norms' curvature leaves the difference up to 2.6e-3 off; it converges
 * quadratically to the analytic value), padding
 * invariance, the <pad> row receiving no gradient (the tied decoder's share dropped), and
 * refused batches. PyTorch parity of the whole encoder: tests/models/test_torch_parity.sh. */
#include "check.h"
#include "fdcheck.h"
#include "models/textenc.h"
#include <stdlib.h>
#include <string.h>

enum { V = 13, B = 3, T = 6 };

static void small_cfg(avm_text_config *c) {
    textenc_config_default(c);
    c->vocab = V; c->d = 8; c->ffn = 12; c->heads = 2; c->layers = 2; c->max_len = 8;
    c->dropout = 0.2f; c->attn_dropout = 0.2f;
}

static void test_config(void) {
    avm_text_config c, back;
    small_cfg(&c);
    CHECK(textenc_config_check(&c) == 0);
    avm_strbuf sb = {0};
    avm_jw w;
    jw_init(&w, &sb);
    textenc_config_json(&c, &w);
    json_value *v = json_parse(sb.s);
    textenc_config_default(&back);
    CHECK(v && textenc_config_from_json(&back, v) == 0 && !memcmp(&back, &c, sizeof c));
    json_free(v);
    sb_free(&sb);
    v = json_parse("{\"vocab\":13,\"d\":8,\"ffn\":12,\"heads\":2,\"layers\":2,\"max_len\":8,\"dropout\":0,\"attn_dropout\":0,\"x\":1}");
    CHECK(textenc_config_from_json(&back, v) == -1 && strstr(avm_error(), "unknown key 'x'"));
    json_free(v);
    v = json_parse("{\"vocab\":13,\"d\":8}");
    CHECK(textenc_config_from_json(&back, v) == -1 && strstr(avm_error(), "ffn"));
    json_free(v);
    c.d = 9;
    CHECK(textenc_config_check(&c) == -1 && strstr(avm_error(), "multiple of heads"));
    small_cfg(&c);
    c.vocab = 4;
    CHECK(textenc_config_check(&c) == -1 && strstr(avm_error(), "no word"));
    small_cfg(&c);
    c.d = 1 << 20; c.heads = 1; c.vocab = 1 << 20;
    CHECK(textenc_config_check(&c) == -1 && strstr(avm_error(), "2^30"));
}

typedef struct {
    avm_textenc *m;
    int32_t ids[B * T], target[B * T];
    int len[B];
    float R[B * 8];
} fdctx;

/* MLM loss + sum(pooled * R), dropout masks from the same seed every time. */
static double fd_loss(void *c_) {
    fdctx *c = c_;
    avm_rng r;
    rng_seed(&r, 77, 1);
    if (textenc_forward(c->m, c->ids, c->len, B, T, &r)) avm_die("%s", avm_error());
    float pool[B * 8];
    textenc_pool(c->m, pool);
    return textenc_mlm_forward(c->m, c->target, 0, NULL, NULL) + dotR(pool, c->R, B * 8);
}

static void test_fd(void) {
    avm_text_config cfg;
    small_cfg(&cfg);
    avm_textenc m;
    CHECK(textenc_init(&m, &cfg, 5) == 0);
    const avm_param *tok = params_find(&m.params, "text_encoder.tok_emb");
    CHECK(tok && tok->shape[0] == V && tok->shape[1] == 8 && params_find(&m.params, "mlm_head.bias"));
    CHECK(params_find(&m.params, "text_encoder.layers.1.ffn.fc2.weight") && m.params.n == 2 + 2 * 12 + 2 + 5);
    float zero[8] = {0};
    CHECK(!memcmp(m.params.data + tok->offset, zero, sizeof zero));   /* the <pad> row */
    for (size_t i = 0; i < m.params.total; i++) m.params.data[i] += (float)(0.3 * rng_normal(&g_rng));
    memset(m.params.data + tok->offset, 0, sizeof zero);
    fdctx c = {&m, {3, 5, 2, 9, 12, 7, 3, 4, 2, 6, 0, 0, 3, 0, 0, 0, 0, 0},
               {-1, 8, 11, -1, 12, -1, -1, -1, 10, -1, 5, -1, -1, -1, -1, -1, -1, -1}, {6, 4, 1}, {0}};
    for (int i = 0; i < B * 8; i++) c.R[i] = (float)rng_normal(&g_rng);
    double L0 = fd_loss(&c);
    int count, correct;
    rng_seed(&g_rng, 77, 1);
    avm_rng r;
    rng_seed(&r, 77, 1);
    CHECK(textenc_forward(&m, c.ids, c.len, B, T, &r) == 0);
    float pool[B * 8];
    textenc_pool(&m, pool);
    double L1 = textenc_mlm_forward(&m, c.target, 0, &count, &correct) + dotR(pool, c.R, B * 8);
    CHECK(L1 == L0 && count == 4);   /* target 5 at a padded token is not predicted */
    params_zero_grad(&m.params);
    textenc_backward(&m, 1, 0, 1.0f, c.R);
    float *g = xmalloc(m.params.total * sizeof(float));
    memcpy(g, m.params.grad, m.params.total * sizeof(float));
    CHECK_MSG(!memcmp(g + tok->offset, zero, sizeof zero), "the <pad> row received a gradient");
    for (int k = 0; k < m.params.n; k++) {
        const avm_param *p = &m.params.p[k];
        size_t skip = p == tok ? 8 : 0;   /* <pad>: held at zero, not a free parameter */
        fd_check_h(p->name, fd_loss, &c, m.params.data + p->offset + skip, g + p->offset + skip, p->numel - skip, 2.5e-3f);
    }
    /* gradients accumulate (a backward consumes its forward's state: one each) */
    params_zero_grad(&m.params);
    for (int k = 0; k < 2; k++) {
        fd_loss(&c);
        textenc_backward(&m, 1, 0, 1.0f, c.R);
    }
    double e = 0;
    for (size_t i = 0; i < m.params.total; i++) e = fmax(e, fabs(m.params.grad[i] - 2 * g[i]));
    CHECK_NEAR(e, 0, 1e-6);
    free(g);
    textenc_free(&m);
}

/* A sentence's embedding and MLM loss do not depend on how far the batch pads it. */
static void test_padding(void) {
    avm_text_config cfg;
    small_cfg(&cfg);
    cfg.dropout = cfg.attn_dropout = 0;
    avm_textenc m;
    CHECK(textenc_init(&m, &cfg, 9) == 0);
    int32_t a[4] = {3, 7, 8, 4}, b[2 * 8] = {3, 7, 8, 4, 0, 0, 0, 0, 3, 5, 0, 0, 0, 0, 0, 0};
    int32_t ta[4] = {-1, 7, -1, 4}, tb[16] = {-1, 7, -1, 4, -1, -1, -1, -1, -1, 5, -1, -1, -1, -1, -1, -1};
    int la[1] = {4}, lb[2] = {4, 2};
    float pa[8], pb[16];
    CHECK(textenc_forward(&m, a, la, 1, 4, NULL) == 0);
    textenc_pool(&m, pa);
    double l1 = textenc_mlm_forward(&m, ta, 2, NULL, NULL);
    CHECK(textenc_forward(&m, b, lb, 2, 8, NULL) == 0);
    textenc_pool(&m, pb);
    double l2 = textenc_mlm_forward(&m, tb, 2, NULL, NULL);
    double e = 0;
    for (int j = 0; j < 8; j++) e = fmax(e, fabs(pa[j] - pb[j]));
    CHECK_MSG(e < 1e-6, "padding moved the sentence embedding by %g", e);
    CHECK_MSG(l2 > l1 && fabs(l1 - l2) > 1e-3, "the second sample's target added nothing");
    /* refused batches */
    int32_t badid[4] = {3, 13, 1, 1};
    CHECK(textenc_forward(&m, badid, la, 1, 4, NULL) == -1 && strstr(avm_error(), "outside the vocabulary"));
    int32_t longb[9] = {3, 4, 5, 6, 7, 8, 9, 10, 11};
    int l9[1] = {9};
    CHECK(textenc_forward(&m, longb, l9, 1, 9, NULL) == -1 && strstr(avm_error(), "max_len"));
    CHECK(textenc_infer(&m, longb, l9, 1, 9) == -1 && strstr(avm_error(), "max_len"));
    textenc_free(&m);
}

/* The inference forward (textlm --embed, TinyS2I's titles) pools to the training forward's
 * embeddings bit for bit, whatever came before it, and a training step after it still reads
 * its own output. */
static void test_infer(void) {
    avm_text_config cfg;
    small_cfg(&cfg);          /* with dropout: the training forward without rng must skip it */
    avm_textenc m;
    CHECK(textenc_init(&m, &cfg, 11) == 0);
    int32_t b[2 * 8] = {3, 7, 8, 4, 9, 0, 0, 0, 3, 5, 6, 10, 11, 12, 4, 7}, a[4] = {3, 12, 5, 6};
    int lb[2] = {5, 8}, la[1] = {4};
    float pt[16], pi[16], pa[8], pa2[8];
    CHECK(textenc_forward(&m, b, lb, 2, 8, NULL) == 0);
    textenc_pool(&m, pt);
    CHECK(textenc_forward(&m, a, la, 1, 4, NULL) == 0);
    textenc_pool(&m, pa);
    CHECK(textenc_infer(&m, a, la, 1, 4) == 0);     /* the smaller batch first: the arena grows */
    textenc_pool(&m, pa2);
    CHECK(textenc_infer(&m, b, lb, 2, 8) == 0);
    textenc_pool(&m, pi);
    CHECK_MSG(!memcmp(pt, pi, sizeof pt) && !memcmp(pa, pa2, sizeof pa), "the inference embeddings differ");
    CHECK(textenc_forward(&m, a, la, 1, 4, NULL) == 0);
    float pa3[8];
    textenc_pool(&m, pa3);
    CHECK_MSG(!memcmp(pa, pa3, sizeof pa), "the training forward after an inference pooled another output");
    textenc_free(&m);
}

int main(void) {
    rng_seed(&g_rng, 4242, 0);
    test_config();
    test_fd();
    test_infer();
    test_padding();
    return check_done("test_textenc");
}
