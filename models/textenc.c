/* The text encoder: parameters, the encoder's forward and backward, sentence embeddings
 * (the MLM head is textenc_mlm.c). */
#include "models/textenc.h"
#include "common/util.h"
#include "models/ops.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INIT_STD 0.02f

static size_t reg(avm_params *ps, const char *name, int a, int b, int decay) {
    int shape[2] = {a, b};
    return params_add(ps, name, b ? 2 : 1, shape, decay);
}

static void fill(float *v, size_t n, float x) { for (size_t i = 0; i < n; i++) v[i] = x; }
static void fill_normal(float *v, size_t n, avm_rng *r) { for (size_t i = 0; i < n; i++) v[i] = (float)(rng_normal(r) * INIT_STD); }

int textenc_init(avm_textenc *m, const avm_text_config *cfg, uint64_t seed) {
    memset(m, 0, sizeof *m);
    if (textenc_config_check(cfg)) return -1;
    m->cfg = *cfg;
    const avm_text_config *c = &m->cfg;
    avm_params *ps = &m->params;
    int d = c->d, V = c->vocab;
    m->tok = reg(ps, "text_encoder.tok_emb", V, d, 0);
    m->pos = reg(ps, "text_encoder.pos", c->max_len, d, 0);
    m->layers = xcalloc(c->layers, sizeof *m->layers);
    m->cache = xcalloc(c->layers, sizeof *m->cache);
    for (int l = 0; l < c->layers; l++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "text_encoder.layers.%d", l);
        layer_register(&m->layers[l], ps, prefix, d, c->ffn, c->heads);
    }
    m->norm_g = reg(ps, "text_encoder.norm.weight", d, 0, 0);
    m->norm_b = reg(ps, "text_encoder.norm.bias", d, 0, 0);
    if (c->mlm_head) {
        m->dense_w = reg(ps, "mlm_head.dense.weight", d, d, 1);
        m->dense_b = reg(ps, "mlm_head.dense.bias", d, 0, 0);
        m->hnorm_g = reg(ps, "mlm_head.norm.weight", d, 0, 0);
        m->hnorm_b = reg(ps, "mlm_head.norm.bias", d, 0, 0);
        m->out_b = reg(ps, "mlm_head.bias", V, 0, 0);
    }
    params_alloc(ps);
    m->padrow = xmalloc((size_t)d * sizeof(float));
    /* in registration order from one generator; biases are already zero */
    float *P = ps->data;
    avm_rng r;
    rng_seed(&r, seed, 0x54455854);   /* "TEXT" */
    fill_normal(P + m->tok + d, (size_t)(V - 1) * d, &r);   /* <pad> (row 0) stays zero */
    fill_normal(P + m->pos, (size_t)c->max_len * d, &r);
    for (int l = 0; l < c->layers; l++) layer_init(&m->layers[l], ps, &r, INIT_STD);
    fill(P + m->norm_g, d, 1);
    if (c->mlm_head) {
        fill_normal(P + m->dense_w, (size_t)d * d, &r);
        fill(P + m->hnorm_g, d, 1);
    }
    return 0;
}

static void free_bufs(avm_textenc *m) {
    free(m->x); free(m->h); free(m->mean); free(m->rstd); free(m->dh); free(m->pad); free(m->tid);
    m->x = m->h = m->mean = m->rstd = m->dh = NULL;
    m->pad = NULL;
    m->tid = NULL;
}

void textenc_free(avm_textenc *m) {
    for (int l = 0; l < m->cfg.layers && m->cache; l++) layer_cache_free(&m->cache[l]);
    free(m->layers); free(m->cache);
    layer_ws_free(&m->ws);
    free_bufs(m);
    free(m->inf.block);
    free(m->idx); free(m->y); free(m->hin); free(m->a); free(m->ge); free(m->u); free(m->umean); free(m->urstd);
    free(m->logits); free(m->g1); free(m->g2); free(m->padrow);
    params_free(&m->params);
    memset(m, 0, sizeof *m);
}

/* Grows the workspace (never shrinks) to a batch of B samples of T tokens. */
static void reserve(avm_textenc *m, int B, int T) {
    if (B <= m->cap_B && T <= m->cap_T) return;
    if (B < m->cap_B) B = m->cap_B;
    if (T < m->cap_T) T = m->cap_T;
    size_t n = (size_t)B * T, d = m->cfg.d;
    int drop = m->cfg.dropout > 0 || m->cfg.attn_dropout > 0;
    free_bufs(m);
    m->x = xmalloc(n * d * 4); m->h = xmalloc(n * d * 4); m->dh = xmalloc(n * d * 4);
    m->mean = xmalloc(n * 4); m->rstd = xmalloc(n * 4);
    m->pad = xmalloc(n); m->tid = xmalloc(n * sizeof(int32_t));
    for (int l = 0; l < m->cfg.layers; l++) {
        layer_cache_reserve(&m->cache[l], &m->layers[l], B, T, drop);
        layer_ws_reserve(&m->ws, &m->layers[l], B, T);
    }
    m->cap_B = B;
    m->cap_T = T;
}

int textenc_check_batch(const avm_textenc *m, const int32_t *ids, const int *len, int B, int T) {
    if (B < 1 || T < 1) return avm_fail("text model: empty batch (B %d, T %d)", B, T);
    if (T > m->cfg.max_len) return avm_fail("text model: %d tokens exceed max_len %d", T, m->cfg.max_len);
    for (int b = 0; b < B; b++) {
        if (len[b] < 0 || len[b] > T) return avm_fail("text model: sample %d has length %d of %d", b, len[b], T);
        for (int t = 0; t < len[b]; t++) {
            int32_t id = ids[(size_t)b * T + t];
            if (id < 0 || id >= m->cfg.vocab)
                return avm_fail("text model: token %d of sample %d is id %d, outside the vocabulary of %d", t, b, id,
                                m->cfg.vocab);
        }
    }
    return 0;
}

int textenc_forward(avm_textenc *m, const int32_t *ids, const int *len, int B, int T, avm_rng *rng) {
    if (textenc_check_batch(m, ids, len, B, T)) return -1;
    reserve(m, B, T);
    const float *P = m->params.data;
    int d = m->cfg.d, n = B * T;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            m->pad[i] = t >= len[b];
            m->tid[i] = m->pad[i] ? AVM_TEXT_PAD : ids[i];
        }
    m->B = B;
    m->T = T;
    m->drop_p = rng ? m->cfg.dropout : 0;
    m->attn_p = rng ? m->cfg.attn_dropout : 0;
    m->n_pred = 0;
    token_embed_forward(m->tid, n, P + m->tok, d, m->x);
    embed_forward(m->x, B, T, d, NULL, NULL, P + m->pos, NULL);
    const float *x = m->x;
    for (int l = 0; l < m->cfg.layers; l++) {
        layer_forward(&m->layers[l], &m->params, &m->cache[l], x, m->pad, B, T, m->drop_p, m->attn_p, rng, &m->ws);
        x = m->cache[l].y;
    }
    layernorm_forward(x, n, d, P + m->norm_g, P + m->norm_b, m->h, m->mean, m->rstd);
    m->out = m->h;
    m->out_pad = m->pad;
    return 0;
}

void textenc_pool(const avm_textenc *m, float *out) { mean_pool_forward(m->out, m->B, m->T, m->cfg.d, m->out_pad, out); }

void textenc_backward(avm_textenc *m, int mlm, double denom, float scale, const float *dpool) {
    const float *P = m->params.data;
    float *G = m->params.grad;
    int B = m->B, T = m->T, d = m->cfg.d, n = B * T;
    if (dpool) mean_pool_backward(dpool, B, T, d, m->pad, m->dh);
    else memset(m->dh, 0, (size_t)n * d * sizeof(float));
    if (mlm) textenc_mlm_backward(m, denom, scale);
    const float *last = m->cache[m->cfg.layers - 1].y;
    layernorm_backward(last, n, d, P + m->norm_g, m->mean, m->rstd, m->dh, m->dh, G + m->norm_g, G + m->norm_b);
    for (int l = m->cfg.layers - 1; l >= 0; l--)
        layer_backward(&m->layers[l], &m->params, &m->cache[l], m->pad, B, T, m->drop_p, m->attn_p, m->dh, m->dh,
                       &m->ws);
    embed_backward(m->dh, B, T, d, NULL, NULL, G + m->pos, NULL);
    token_embed_backward(m->tid, n, m->dh, d, AVM_TEXT_PAD, G + m->tok);
}
