/* TinyS2I's head, forward, the joint loss and its backward into the audio encoder, the
 * head and the title encoder (see tinys2i.h). */
#include "train/tinys2i.h"
#include "common/rng.h"
#include "common/util.h"
#include "models/ops.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const ts_class_names[TS_CLASSES] = {"command", "title", "other"};

void ts_head_init(ts_head *h, int d, int e, int Kc, uint64_t seed) {
    memset(h, 0, sizeof *h);
    h->d = d; h->e = e; h->Kc = Kc;
    int pw[2] = {e, d}, pb[1] = {e}, cw[2] = {TS_CLASSES, e}, cb[1] = {TS_CLASSES}, kw[2] = {Kc, e}, kb[1] = {Kc};
    h->pw = params_add(&h->p, "tiny.proj.weight", 2, pw, 1);
    h->pb = params_add(&h->p, "tiny.proj.bias", 1, pb, 0);
    h->cw = params_add(&h->p, "tiny.cls.weight", 2, cw, 1);
    h->cb = params_add(&h->p, "tiny.cls.bias", 1, cb, 0);
    h->kw = params_add(&h->p, "tiny.cmd.weight", 2, kw, 1);
    h->kb = params_add(&h->p, "tiny.cmd.bias", 1, kb, 0);
    params_alloc(&h->p);
    avm_rng r;
    rng_seed(&r, seed, 0x7153);
    float *w = h->p.data;
    for (int i = 0; i < e * d; i++) w[h->pw + i] = (float)(0.02 * rng_normal(&r));
    for (int i = 0; i < TS_CLASSES * e; i++) w[h->cw + i] = (float)(0.02 * rng_normal(&r));
    for (int i = 0; i < Kc * e; i++) w[h->kw + i] = (float)(0.02 * rng_normal(&r));
}

void ts_head_free(ts_head *h) {
    params_free(&h->p);
    memset(h, 0, sizeof *h);
}

#define GROW(k, ptr, n) ((ptr) = xgrow((ptr), &m->cap[k], (n) * sizeof *(ptr)))

/* The batch through the encoder (infer: its inference forward, nothing kept for a backward;
 * else the training forward with dropout from rng), pooling, projection and both heads. */
static int forward(ts_model *m, const avm_batch_data *d, avm_rng *rng, int infer) {
    const ts_head *h = &m->head;
    int B = d->B, T = d->T, dm = m->enc.cfg.d, e = h->e;
    const float *w = h->p.data;
    GROW(0, m->enc_out, (size_t)B * T * dm + 1);
    GROW(1, m->pad, (size_t)B * T + 1);
    GROW(2, m->pooled, (size_t)B * dm + 1);
    GROW(3, m->emb, (size_t)B * e + 1);
    GROW(4, m->lcls, (size_t)B * TS_CLASSES + 1);
    GROW(5, m->lcmd, (size_t)B * h->Kc + 1);
    if (ft_encode_pool(&m->enc, d, rng, infer, m->enc_out, m->pad, m->pooled)) return -1;
    linear_forward(m->pooled, B, dm, w + h->pw, w + h->pb, e, m->emb);
    linear_forward(m->emb, B, e, w + h->cw, w + h->cb, TS_CLASSES, m->lcls);
    linear_forward(m->emb, B, e, w + h->kw, w + h->kb, h->Kc, m->lcmd);
    return 0;
}

int ts_forward(ts_model *m, const avm_batch_data *d) { return forward(m, d, NULL, 1); }

/* The triplet of the slice's title utterances (anchors, in slice order) against the title
 * encoder's embeddings of the pool: positives are gathered pool rows (0..nt-1), then the
 * pool itself (nt..nt+P-1) as the candidates of the given negatives. Adds its gradient to
 * m->demb and leaves the pool's in m->dtpool. Returns the loss; *closer: anchors nearer
 * their positive than their negative. */
static double title_triplet(ts_model *m, const ts_target *t, int B, float weight, float margin, int *closer) {
    int e = m->head.e, P = t->P, nt = 0;
    GROW(6, m->arow, (size_t)B + 1);
    for (int i = 0; i < B; i++) if (t->pos[i] >= 0) m->arow[nt++] = i;
    GROW(7, m->tpool, (size_t)P * e + 1);
    GROW(8, m->dtpool, (size_t)P * e + 1);
    memset(m->dtpool, 0, (size_t)P * e * sizeof(float));
    *closer = 0;
    if (!nt) return 0;
    int np = nt + P;
    GROW(9, m->anc, (size_t)nt * e);
    GROW(10, m->pos, (size_t)np * e);
    GROW(11, m->dpos, (size_t)np * e);
    GROW(12, m->an, (size_t)nt * e);
    GROW(13, m->pn, (size_t)np * e);
    GROW(14, m->anorm, (size_t)nt);
    GROW(15, m->pnorm, (size_t)np);
    GROW(16, m->dp, (size_t)nt);
    GROW(17, m->dn, (size_t)nt);
    GROW(18, m->neg, (size_t)nt * 2);
    int *given = m->neg + nt, *rows = m->neg;
    for (int k = 0; k < nt; k++) {
        int i = m->arow[k];
        memcpy(m->anc + (size_t)k * e, m->emb + (size_t)i * e, (size_t)e * sizeof(float));
        memcpy(m->pos + (size_t)k * e, m->tpool + (size_t)t->pos[i] * e, (size_t)e * sizeof(float));
        given[k] = t->neg[i] < 0 ? -1 : nt + t->neg[i];
    }
    memcpy(m->pos + (size_t)nt * e, m->tpool, (size_t)P * e * sizeof(float));
    avm_triplet s = {nt, e, 1, margin, m->an, m->pn, m->anorm, m->pnorm, rows, m->dp, m->dn, np};
    double loss = triplet_forward(&s, m->anc, m->pos, given, NULL, t->ntitle, NULL, NULL);
    for (int k = 0; k < nt; k++) *closer += given[k] >= 0 && m->dp[k] < m->dn[k];
    triplet_backward(&s, t->ntitle, weight, m->anc, m->dpos);   /* anc: now the anchors' gradient */
    for (int k = 0; k < nt; k++) {
        float *g = m->demb + (size_t)m->arow[k] * e, *gp = m->dtpool + (size_t)t->pos[m->arow[k]] * e;
        for (int j = 0; j < e; j++) { g[j] += m->anc[(size_t)k * e + j]; gp[j] += m->dpos[(size_t)k * e + j]; }
    }
    for (size_t j = 0; j < (size_t)P * e; j++) m->dtpool[j] += m->dpos[(size_t)nt * e + j];
    return loss;
}

double ts_train_loss(ts_model *m, const avm_batch_data *d, const ts_target *t, float weight, float margin,
                     int frozen, avm_rng *rng, double part[3], int hits[3]) {
    if (forward(m, d, rng, 0)) return NAN;
    ts_head *h = &m->head;
    int B = d->B, T = d->T, dm = m->enc.cfg.d, e = h->e, Kc = h->Kc, h0 = 0, h1 = 0, h2 = 0;
    GROW(19, m->pcls, (size_t)B * TS_CLASSES + 1);
    GROW(20, m->pcmd, (size_t)B * Kc + 1);
    GROW(21, m->demb, (size_t)B * e + 1);
    GROW(22, m->dpooled, (size_t)B * (dm > e ? dm : e) + 1);
    params_zero_grad(&h->p);
    params_zero_grad(&m->enc.params);
    params_zero_grad(&m->tenc.params);
    /* the title encoder over the global batch's titles (every rank: the same pool) */
    if (t->P && textenc_forward(&m->tenc, t->ids, t->len, t->P, t->T, NULL)) return NAN;
    if (t->P) {
        GROW(7, m->tpool, (size_t)t->P * e + 1);
        textenc_pool(&m->tenc, m->tpool);
    }
    double l3 = xent_forward(m->lcls, B, TS_CLASSES, t->cls, -1, t->n, m->pcls, NULL, &h0);
    double lk = xent_forward(m->lcmd, B, Kc, t->cmd, -1, t->ncmd, m->pcmd, NULL, &h1);
    float *g = h->p.grad;
    const float *w = h->p.data;
    xent_backward(m->pcls, B, TS_CLASSES, t->cls, -1, t->n, 1.0f, m->pcls);
    xent_backward(m->pcmd, B, Kc, t->cmd, -1, t->ncmd, 1.0f, m->pcmd);
    linear_backward(m->emb, B, e, w + h->cw, TS_CLASSES, m->pcls, m->demb, g + h->cw, g + h->cb);
    linear_backward(m->emb, B, e, w + h->kw, Kc, m->pcmd, m->dpooled, g + h->kw, g + h->kb);
    for (size_t i = 0; i < (size_t)B * e; i++) m->demb[i] += m->dpooled[i];
    double lt = title_triplet(m, t, B, weight, margin, &h2);
    if (!isfinite(l3) || !isfinite(lk) || !isfinite(lt)) {
        avm_fail("the TinyS2I loss is not finite (training diverged: lower --lr?)");
        return NAN;
    }
    if (t->P) textenc_backward(&m->tenc, 0, 0, 1.0f, m->dtpool);
    linear_backward(m->pooled, B, dm, w + h->pw, e, m->demb, frozen ? NULL : m->dpooled, g + h->pw, g + h->pb);
    if (!frozen) {
        GROW(23, m->denc, (size_t)B * T * dm + 1);
        mean_pool_backward(m->dpooled, B, T, dm, m->pad, m->denc);
        avmodel_audio_backward(&m->enc, m->denc, NULL);
    }
    if (part) { part[0] = l3; part[1] = lk; part[2] = lt; }
    if (hits) { hits[0] = h0; hits[1] = h1; hits[2] = h2; }
    return l3 + lk + weight * lt;
}

int ts_embed_titles(ts_model *m, int32_t *const *ids, const int *len, int n, float *out) {
    int e = m->head.e, T = 1;
    for (int i = 0; i < n; i++) if (len[i] > T) T = len[i];
    int32_t *flat = xcalloc((size_t)n * T + 1, sizeof *flat);
    for (int i = 0; i < n; i++) memcpy(flat + (size_t)i * T, ids[i], (size_t)len[i] * sizeof *flat);
    int rc = textenc_infer(&m->tenc, flat, len, n, T);
    if (!rc) {
        textenc_pool(&m->tenc, out);
        for (int i = 0; i < n; i++) unit_row(out + (size_t)i * e, e, out + (size_t)i * e);
    }
    free(flat);
    return rc;
}

int ts_best_title(const float *emb, int e, const float *titles, int n) {
    int best = 0;
    double bs = -INFINITY;
    for (int j = 0; j < n; j++) {
        double s = 0;
        for (int k = 0; k < e; k++) s += (double)emb[k] * titles[(size_t)j * e + k];
        if (s > bs) { bs = s; best = j; }
    }
    return best;
}

void ts_free(ts_model *m) {
    avmodel_free(&m->enc);
    json_free(m->config);
    ts_head_free(&m->head);
    textenc_free(&m->tenc);
    vocab_free(&m->vocab);
    intents_free(&m->intents);
    free(m->cmd_intent);
    free(m->enc_out); free(m->pooled); free(m->emb); free(m->lcls); free(m->lcmd); free(m->pcls); free(m->pcmd);
    free(m->demb); free(m->dpooled); free(m->denc); free(m->anc); free(m->pos); free(m->dpos); free(m->an);
    free(m->pn); free(m->anorm); free(m->pnorm); free(m->dp); free(m->dn); free(m->tpool); free(m->dtpool);
    free(m->neg); free(m->arow); free(m->pad);
    memset(m, 0, sizeof *m);
}
