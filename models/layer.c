/* Pre-LN transformer encoder layer: forward saves activations, backward replays them. */
#include "models/layer.h"
#include "common/util.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t reg(avm_params *ps, const char *prefix, const char *name, int ndim, int a, int b, int decay) {
    char full[256];
    int shape[2] = {a, b};
    snprintf(full, sizeof full, "%s.%s", prefix, name);
    return params_add(ps, full, ndim, shape, decay);
}

void layer_register(avm_layer *L, avm_params *ps, const char *prefix, int d, int ffn, int heads) {
    L->d = d; L->ffn = ffn; L->heads = heads;
    L->ln1_g = reg(ps, prefix, "norm1.weight", 1, d, 0, 0);
    L->ln1_b = reg(ps, prefix, "norm1.bias", 1, d, 0, 0);
    L->in_w  = reg(ps, prefix, "attn.in_proj.weight", 2, 3 * d, d, 1);
    L->in_b  = reg(ps, prefix, "attn.in_proj.bias", 1, 3 * d, 0, 0);
    L->out_w = reg(ps, prefix, "attn.out_proj.weight", 2, d, d, 1);
    L->out_b = reg(ps, prefix, "attn.out_proj.bias", 1, d, 0, 0);
    L->ln2_g = reg(ps, prefix, "norm2.weight", 1, d, 0, 0);
    L->ln2_b = reg(ps, prefix, "norm2.bias", 1, d, 0, 0);
    L->fc1_w = reg(ps, prefix, "ffn.fc1.weight", 2, ffn, d, 1);
    L->fc1_b = reg(ps, prefix, "ffn.fc1.bias", 1, ffn, 0, 0);
    L->fc2_w = reg(ps, prefix, "ffn.fc2.weight", 2, d, ffn, 1);
    L->fc2_b = reg(ps, prefix, "ffn.fc2.bias", 1, d, 0, 0);
}

static void fill_normal(float *v, size_t n, avm_rng *rng, float std) {
    for (size_t i = 0; i < n; i++) v[i] = (float)(rng_normal(rng) * std);
}
static void fill(float *v, size_t n, float x) { for (size_t i = 0; i < n; i++) v[i] = x; }

void layer_init(const avm_layer *L, avm_params *ps, avm_rng *rng, float std) {
    size_t d = L->d, f = L->ffn;
    float *P = ps->data;
    fill(P + L->ln1_g, d, 1); fill(P + L->ln1_b, d, 0);
    fill_normal(P + L->in_w, 3 * d * d, rng, std); fill(P + L->in_b, 3 * d, 0);
    fill_normal(P + L->out_w, d * d, rng, std); fill(P + L->out_b, d, 0);
    fill(P + L->ln2_g, d, 1); fill(P + L->ln2_b, d, 0);
    fill_normal(P + L->fc1_w, f * d, rng, std); fill(P + L->fc1_b, f, 0);
    fill_normal(P + L->fc2_w, d * f, rng, std); fill(P + L->fc2_b, d, 0);
}

void layer_cache_reserve(avm_layer_cache *c, const avm_layer *L, int B, int T, int with_dropout) {
    size_t n = (size_t)B * T, bt2 = (size_t)B * T * T, d = L->d, f = L->ffn, H = L->heads;
    if (n <= (size_t)c->cap_rows && bt2 <= (size_t)c->cap_BT2 && (!with_dropout || c->m1)) return;
    layer_cache_free(c);
    c->cap_rows = (int)n;
    c->cap_BT2 = (int)bt2;
    c->mean1 = xmalloc(n * 4); c->rstd1 = xmalloc(n * 4);
    c->qkv = xmalloc(n * 3 * d * 4); c->probs = xmalloc(bt2 * H * 4); c->ctx = xmalloc(n * d * 4);
    c->h = xmalloc(n * d * 4); c->mean2 = xmalloc(n * 4);
    c->rstd2 = xmalloc(n * 4); c->f = xmalloc(n * f * 4); c->g = xmalloc(n * f * 4);
    c->y = xmalloc(n * d * 4);
    if (with_dropout) {
        c->m_attn = xmalloc(bt2 * H); c->m1 = xmalloc(n * d); c->m2 = xmalloc(n * f); c->m3 = xmalloc(n * d);
    }
}

void layer_cache_free(avm_layer_cache *c) {
    float *fs[] = {c->mean1, c->rstd1, c->qkv, c->probs, c->ctx, c->h, c->mean2, c->rstd2, c->f, c->g, c->y};
    for (size_t i = 0; i < sizeof fs / sizeof *fs; i++) free(fs[i]);
    free(c->m_attn); free(c->m1); free(c->m2); free(c->m3);
    memset(c, 0, sizeof *c);
}

void layer_ws_reserve(avm_layer_ws *w, const avm_layer *L, int B, int T) {
    size_t n = (size_t)B * T;
    size_t need_attn;
    if (n <= (size_t)w->cap_rows && T <= w->cap_T && w->ffn_cap >= L->ffn && w->d_cap >= L->d) return;
    int keep_rows = w->cap_rows > (int)n ? w->cap_rows : (int)n, keep_T = w->cap_T > T ? w->cap_T : T;
    int keep_f = w->ffn_cap > L->ffn ? w->ffn_cap : L->ffn, keep_d = w->d_cap > L->d ? w->d_cap : L->d;
    layer_ws_free(w);
    w->cap_rows = keep_rows; w->cap_T = keep_T; w->ffn_cap = keep_f; w->d_cap = keep_d;
    n = (size_t)keep_rows;
    w->slots = omp_get_max_threads();
    need_attn = attn_scratch_floats(keep_T, w->slots);
    w->a = xmalloc(n * keep_d * 4); w->b = xmalloc(n * keep_d * 4); w->c = xmalloc(n * keep_d * 4);
    w->qkv = xmalloc(n * 3 * keep_d * 4); w->f = xmalloc(n * keep_f * 4);
    w->attn = xmalloc(need_attn * 4);
}

void layer_ws_free(avm_layer_ws *w) {
    free(w->a); free(w->b); free(w->c); free(w->qkv); free(w->f); free(w->attn);
    memset(w, 0, sizeof *w);
}

/* The layer norms' outputs are not kept: the forward writes them to w->c, the backward
 * recomputes them there (layernorm_apply, the same floats) when the products need them. */
void layer_forward(const avm_layer *L, const avm_params *ps, avm_layer_cache *c, const float *x,
                   const uint8_t *pad, int B, int T, float p, float attn_p, avm_rng *rng, avm_layer_ws *w) {
    const float *P = ps->data;
    int n = B * T, d = L->d, f = L->ffn;
    size_t nd = (size_t)n * d, nf = (size_t)n * f;
    avm_attn_dims a = {B, T, d, L->heads, attn_p, w->slots};
    c->x = x;
    layernorm_forward(x, n, d, P + L->ln1_g, P + L->ln1_b, w->c, c->mean1, c->rstd1);
    linear_forward(w->c, n, d, P + L->in_w, P + L->in_b, 3 * d, c->qkv);
    attn_forward(&a, c->qkv, pad, rng, c->probs, c->m_attn, c->ctx, w->attn);
    linear_forward(c->ctx, n, d, P + L->out_w, P + L->out_b, d, c->h);
    dropout_add_forward(c->h, x, nd, p, rng, c->m1, c->h);
    layernorm_forward(c->h, n, d, P + L->ln2_g, P + L->ln2_b, w->c, c->mean2, c->rstd2);
    linear_forward(w->c, n, d, P + L->fc1_w, P + L->fc1_b, f, c->f);
    gelu_dropout_forward(c->f, nf, p, rng, c->m2, c->g);
    linear_forward(c->g, n, f, P + L->fc2_w, P + L->fc2_b, d, c->y);
    dropout_add_forward(c->y, c->h, nd, p, rng, c->m3, c->y);
}

/* layer_forward's steps without the cache: ln holds LN1's output, then the attention
 * context, then LN2's; f holds q|k|v, then the FFN's activations (GELU in place); x is dead
 * once h = x + attention, so y may overwrite it. */
void layer_infer(const avm_layer *L, const avm_params *ps, const float *x, const uint8_t *pad, int B, int T,
                 float *y, const avm_layer_scratch *s) {
    const float *P = ps->data;
    int n = B * T, d = L->d, f = L->ffn;
    size_t nd = (size_t)n * d, nf = (size_t)n * f;
    avm_attn_dims a = {B, T, d, L->heads, 0.0f, s->slots};
    float *mean = s->stats, *rstd = s->stats + n;
    layernorm_forward(x, n, d, P + L->ln1_g, P + L->ln1_b, s->ln, mean, rstd);
    linear_forward(s->ln, n, d, P + L->in_w, P + L->in_b, 3 * d, s->f);
    attn_infer(&a, s->f, pad, s->ln, s->attn);
    linear_forward(s->ln, n, d, P + L->out_w, P + L->out_b, d, s->h);
    add_forward(s->h, x, nd, s->h);
    layernorm_forward(s->h, n, d, P + L->ln2_g, P + L->ln2_b, s->ln, mean, rstd);
    linear_forward(s->ln, n, d, P + L->fc1_w, P + L->fc1_b, f, s->f);
    gelu_forward(s->f, nf, s->f);
    linear_forward(s->f, n, f, P + L->fc2_w, P + L->fc2_b, d, y);
    add_forward(y, s->h, nd, y);
}

void layer_backward(const avm_layer *L, avm_params *ps, const avm_layer_cache *c, const uint8_t *pad,
                    int B, int T, float p, float attn_p, const float *dy, float *dx, avm_layer_ws *w) {
    const float *P = ps->data;
    float *G = ps->grad;
    int n = B * T, d = L->d, f = L->ffn;
    size_t nd = (size_t)n * d, nf = (size_t)n * f;
    avm_attn_dims a = {B, T, d, L->heads, attn_p, w->slots};
    /* FFN branch: dh = dy + LN2'(fc1'(GELU'(drop'(fc2'(drop'(dy)))))) */
    dropout_backward(dy, nd, p, c->m3, w->a);
    linear_backward(c->g, n, f, P + L->fc2_w, d, w->a, w->f, G + L->fc2_w, G + L->fc2_b);
    gelu_dropout_backward(c->f, w->f, nf, p, c->m2, w->f);
    layernorm_apply(c->h, n, d, P + L->ln2_g, P + L->ln2_b, c->mean2, c->rstd2, w->c);
    linear_backward(w->c, n, d, P + L->fc1_w, f, w->f, w->a, G + L->fc1_w, G + L->fc1_b);
    layernorm_backward_add(c->h, n, d, P + L->ln2_g, c->mean2, c->rstd2, w->a, dy, w->b, G + L->ln2_g,
                           G + L->ln2_b);                   /* w->b = dh */
    /* attention branch: dx = dh + LN1'(in'(attn'(out'(drop'(dh))))) */
    dropout_backward(w->b, nd, p, c->m1, w->a);
    linear_backward(c->ctx, n, d, P + L->out_w, d, w->a, w->c, G + L->out_w, G + L->out_b);
    attn_backward(&a, c->qkv, pad, c->probs, c->m_attn, w->c, w->qkv, w->attn);
    layernorm_apply(c->x, n, d, P + L->ln1_g, P + L->ln1_b, c->mean1, c->rstd1, w->c);
    linear_backward(w->c, n, d, P + L->in_w, 3 * d, w->qkv, w->a, G + L->in_w, G + L->in_b);
    layernorm_backward_add(c->x, n, d, P + L->ln1_g, c->mean1, c->rstd1, w->a, w->b, dx, G + L->ln1_g,
                           G + L->ln1_b);
}
