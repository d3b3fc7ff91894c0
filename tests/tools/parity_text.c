/* PyTorch parity of the text ops and the text encoder (tests/ref/torch_text.py): token
 * embedding lookup, masked mean pooling, cross-entropy with an ignore index (torch's mean
 * and a global denominator), the triplet loss (hardest negatives among other classes and
 * given negatives, raw and L2-normalised), and the whole text encoder: MLM loss + a pooled
 * term, the pooled embeddings and every parameter gradient.
 *   parity_text write DIR   inputs, weights and upstream gradients
 *   parity_text check DIR   outputs and gradients against DIR/ref
 * Relative error max|c - ref| / max(max|ref|, 1e-6) per tensor must be <= 1e-4; the chosen
 * negatives must be the reference's exactly. */
#include "models/ops.h"
#include "models/textenc.h"
#include "common/rng.h"
#include "common/util.h"
#include "tensor_io.h"
#include <string.h>

enum { V = 11, D = 6, N = 8, B = 3, T = 5, NT = 8, E = 5 };
/* the encoder */
enum { MV = 20, MD = 16, MB = 3, MT = 7 };
static const int mlen[MB] = {7, 5, 2};

typedef struct {
    float ids[N], table[V * D], edy[N * D];                 /* token embedding (ids as floats) */
    float px[B * T * D], pad[B * T], pdy[B * D];            /* mean pooling */
    float logits[N * V], y[N];                              /* cross-entropy (ignore -100) */
    float a[NT * E], p[NT * E], cls[NT], neg[NT];           /* triplet */
    float mids[MB * MT], mtgt[MB * MT], mR[MB * MD];        /* the encoder */
} data;

static void fill(float *v, int n, avm_rng *r, float sc) { for (int i = 0; i < n; i++) v[i] = (float)(sc * rng_normal(r)); }

static void make(data *s, avm_textenc *m) {
    avm_rng r;
    rng_seed(&r, 2718, 0);
    const float ids[N] = {3, 0, 5, 3, 10, 0, 1, 7}, pad[B * T] = {0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0};
    const float y[N] = {4, -100, 0, 10, -100, 2, 4, 9}, cls[NT] = {0, 1, 1, 2, 0, 3, 2, 1};
    const float neg[NT] = {3, -1, 0, -1, 1, 2, -1, 5};
    memcpy(s->ids, ids, sizeof ids); memcpy(s->pad, pad, sizeof pad); memcpy(s->y, y, sizeof y);
    memcpy(s->cls, cls, sizeof cls); memcpy(s->neg, neg, sizeof neg);
    fill(s->table, V * D, &r, 1); fill(s->edy, N * D, &r, 1);
    fill(s->px, B * T * D, &r, 1); fill(s->pdy, B * D, &r, 1);
    fill(s->logits, N * V, &r, 2);
    fill(s->a, NT * E, &r, 1); fill(s->p, NT * E, &r, 1);
    for (int b = 0; b < MB; b++)
        for (int t = 0; t < MT; t++) {
            int i = b * MT + t, in = t < mlen[b];
            s->mids[i] = !in ? 0 : t == 0 ? AVM_TEXT_CLS : 1 + (int)rng_below(&r, MV - 1);
            s->mtgt[i] = in && t > 0 && rng_uniform(&r) < 0.4 ? 4 + (int)rng_below(&r, MV - 4) : -1;
        }
    fill(s->mR, MB * MD, &r, 1);
    avm_text_config c;
    textenc_config_default(&c);
    c.vocab = MV; c.d = MD; c.ffn = 24; c.heads = 2; c.layers = 2; c.max_len = 10; c.dropout = c.attn_dropout = 0;
    if (textenc_init(m, &c, 3)) avm_die("%s", avm_error());
    for (size_t i = 0; i < m->params.total; i++) m->params.data[i] += (float)(0.2 * rng_normal(&r));
    memset(m->params.data + m->tok, 0, MD * sizeof(float));   /* <pad> */
}

static int check_triplet(const char *dir, const data *s, int norm, int given) {
    static float an[NT * E], pn[NT * E], anorm[NT], pnorm[NT], dpos[NT], dneg[NT], da[NT * E], dp[NT * E];
    static int negs[NT];
    int cls[NT], neg[NT];
    for (int i = 0; i < NT; i++) { cls[i] = (int)s->cls[i]; neg[i] = (int)s->neg[i]; }
    avm_triplet t = {NT, E, norm, norm ? 0.8f : 2.0f, an, pn, anorm, pnorm, negs, dpos, dneg, NT};
    float l = (float)triplet_forward(&t, s->a, s->p, given ? neg : NULL, given ? NULL : cls, 0, NULL, NULL);
    triplet_backward(&t, 0, 1.0f, da, dp);
    char pre[32], nm[48];
    snprintf(pre, sizeof pre, "triplet%s%s", norm ? "_norm" : "", given ? "_given" : "");
    float chosen[NT];
    for (int i = 0; i < NT; i++) chosen[i] = (float)t.neg[i];
    int ok = 1;
    snprintf(nm, sizeof nm, "%s.loss", pre); ok &= tio_compare(dir, nm, &l, 1, 1e-4);
    snprintf(nm, sizeof nm, "%s.da", pre); ok &= tio_compare(dir, nm, da, NT * E, 1e-4);
    snprintf(nm, sizeof nm, "%s.dp", pre); ok &= tio_compare(dir, nm, dp, NT * E, 1e-4);
    snprintf(nm, sizeof nm, "%s.neg", pre); ok &= tio_compare(dir, nm, chosen, NT, 0);
    return ok;
}

static int check_ops(const char *dir, const data *s) {
    int ok = 1, ids[N];
    int32_t ids32[N], y[N];
    for (int i = 0; i < N; i++) { ids[i] = (int)s->ids[i]; ids32[i] = ids[i]; y[i] = (int32_t)s->y[i]; }
    static float ey[N * D], dtable[V * D], py[B * D], pdx[B * T * D], probs[N * V], dl[N * V];
    token_embed_forward(ids32, N, s->table, D, ey);
    token_embed_backward(ids32, N, s->edy, D, AVM_TEXT_PAD, dtable);
    ok &= tio_compare(dir, "embed.y", ey, N * D, 1e-4);
    ok &= tio_compare(dir, "embed.dtable", dtable, V * D, 1e-4);
    uint8_t pad[B * T];
    for (int i = 0; i < B * T; i++) pad[i] = s->pad[i] > 0.5f;
    mean_pool_forward(s->px, B, T, D, pad, py);
    mean_pool_backward(s->pdy, B, T, D, pad, pdx);
    ok &= tio_compare(dir, "pool.y", py, B * D, 1e-4);
    ok &= tio_compare(dir, "pool.dx", pdx, B * T * D, 1e-4);
    for (int k = 0; k < 2; k++) {   /* torch's mean, then a global denominator of 20 rows */
        double den = k ? 20 : 0;
        float l = (float)xent_forward(s->logits, N, V, y, -100, den, probs, NULL, NULL);
        xent_backward(probs, N, V, y, -100, den, 1.0f, dl);
        ok &= tio_compare(dir, k ? "xent_sum20.loss" : "xent.loss", &l, 1, 1e-4);
        ok &= tio_compare(dir, k ? "xent_sum20.dlogits" : "xent.dlogits", dl, N * V, 1e-4);
    }
    for (int norm = 0; norm < 2; norm++)
        for (int given = 0; given < 2; given++) ok &= check_triplet(dir, s, norm, given);
    return ok;
}

/* The encoder: loss = MLM + sum(pooled * R), pooled, every parameter gradient. */
static int check_model(const char *dir, const data *s, avm_textenc *m) {
    int32_t ids[MB * MT], tgt[MB * MT];
    for (int i = 0; i < MB * MT; i++) { ids[i] = (int32_t)s->mids[i]; tgt[i] = (int32_t)s->mtgt[i]; }
    static float pooled[MB * MD];
    if (textenc_forward(m, ids, mlen, MB, MT, NULL)) avm_die("%s", avm_error());
    textenc_pool(m, pooled);
    double l = textenc_mlm_forward(m, tgt, 0, NULL, NULL);
    for (int i = 0; i < MB * MD; i++) l += (double)pooled[i] * s->mR[i];
    params_zero_grad(&m->params);
    textenc_backward(m, 1, 0, 1.0f, s->mR);
    float lf = (float)l;
    int ok = tio_compare(dir, "model.loss", &lf, 1, 1e-4) & tio_compare(dir, "model.pooled", pooled, MB * MD, 1e-4);
    for (int k = 0; k < m->params.n; k++) {
        const avm_param *p = &m->params.p[k];
        char nm[160];
        snprintf(nm, sizeof nm, "grad.%s", p->name);
        ok &= tio_compare(dir, nm, m->params.grad + p->offset, p->numel, 1e-4);
    }
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 3) avm_die("usage: parity_text write|check DIR");
    const char *dir = argv[2];
    static data s;
    avm_textenc m;
    make(&s, &m);
    if (!strcmp(argv[1], "write")) {
        int s_n[1] = {N}, s_t[2] = {V, D}, s_nd[2] = {N, D}, s_x[3] = {B, T, D}, s_p[2] = {B, T}, s_bd[2] = {B, D};
        int s_l[2] = {N, V}, s_ne[2] = {NT, E}, s_nt[1] = {NT}, s_m[2] = {MB, MT}, s_mr[2] = {MB, MD}, s_c[1] = {9};
        tio_write(dir, "ids", s.ids, N, 1, s_n); tio_write(dir, "table", s.table, V * D, 2, s_t);
        tio_write(dir, "edy", s.edy, N * D, 2, s_nd);
        tio_write(dir, "px", s.px, B * T * D, 3, s_x); tio_write(dir, "pad", s.pad, B * T, 2, s_p);
        tio_write(dir, "pdy", s.pdy, B * D, 2, s_bd);
        tio_write(dir, "logits", s.logits, N * V, 2, s_l); tio_write(dir, "y", s.y, N, 1, s_n);
        tio_write(dir, "a", s.a, NT * E, 2, s_ne); tio_write(dir, "p", s.p, NT * E, 2, s_ne);
        tio_write(dir, "cls", s.cls, NT, 1, s_nt); tio_write(dir, "neg", s.neg, NT, 1, s_nt);
        tio_write(dir, "mids", s.mids, MB * MT, 2, s_m); tio_write(dir, "mtgt", s.mtgt, MB * MT, 2, s_m);
        tio_write(dir, "mR", s.mR, MB * MD, 2, s_mr);
        const avm_text_config *c = &m.cfg;
        float cfg[9] = {c->vocab, c->d, c->ffn, c->heads, c->layers, c->max_len, mlen[0], mlen[1], mlen[2]};
        tio_write(dir, "config", cfg, 9, 1, s_c);
        tio_write_params(dir, &m.params);
        textenc_free(&m);
        return 0;
    }
    if (strcmp(argv[1], "check")) avm_die("parity_text: unknown mode %s", argv[1]);
    int ok = check_ops(dir, &s) & check_model(dir, &s, &m);
    textenc_free(&m);
    printf("%s\n", ok ? "text parity: all within 1e-4" : "text parity: FAILED");
    return ok ? 0 : 1;
}
