/* The S2I model: encoder, pooling, projection and classifier; forward and backward of a
 * batch; the model directory (see s2i.h). */
#include "train/s2i.h"
#include "common/json.h"
#include "common/rng.h"
#include "common/util.h"
#include "models/ops.h"
#include "train/export.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void s2i_head_init(s2i_head *h, int d, int e, int K, uint64_t seed) {
    memset(h, 0, sizeof *h);
    h->d = d; h->e = e; h->K = K;
    int pw[2] = {e, d}, pb[1] = {e}, cw[2] = {K, e}, cb[1] = {K};
    h->pw = params_add(&h->p, "s2i.proj.weight", 2, pw, 1);
    h->pb = params_add(&h->p, "s2i.proj.bias", 1, pb, 0);
    h->cw = params_add(&h->p, "s2i.cls.weight", 2, cw, 1);
    h->cb = params_add(&h->p, "s2i.cls.bias", 1, cb, 0);
    params_alloc(&h->p);
    avm_rng r;
    rng_seed(&r, seed, 0x5321);
    for (int i = 0; i < e * d; i++) h->p.data[h->pw + i] = (float)(0.02 * rng_normal(&r));
    for (int i = 0; i < K * e; i++) h->p.data[h->cw + i] = (float)(0.02 * rng_normal(&r));
}

void s2i_head_free(s2i_head *h) {
    params_free(&h->p);
    memset(h, 0, sizeof *h);
}

#define GROW(k, ptr, n) ((ptr) = xgrow((ptr), &m->cap[k], (n) * sizeof *(ptr)))

/* The batch through the encoder (infer: its inference forward, nothing kept for a backward;
 * else the training forward with dropout from rng), pooling, projection and classifier. */
static int forward(s2i_model *m, const avm_batch_data *d, avm_rng *rng, int infer) {
    int B = d->B, T = d->T, dm = m->enc.cfg.d, e = m->head.e, K = m->head.K;
    const float *w = m->head.p.data;
    GROW(0, m->enc_out, (size_t)B * T * dm + 1);
    GROW(1, m->pad, (size_t)B * T + 1);
    GROW(2, m->pooled, (size_t)B * dm + 1);
    GROW(3, m->emb, (size_t)B * e + 1);
    GROW(4, m->logits, (size_t)B * K + 1);
    if (ft_encode_pool(&m->enc, d, rng, infer, m->enc_out, m->pad, m->pooled)) return -1;
    linear_forward(m->pooled, B, dm, w + m->head.pw, w + m->head.pb, e, m->emb);
    linear_forward(m->emb, B, e, w + m->head.cw, w + m->head.cb, K, m->logits);
    return 0;
}

int s2i_forward(s2i_model *m, const avm_batch_data *d) { return forward(m, d, NULL, 1); }

double s2i_train_loss(s2i_model *m, const avm_batch_data *d, const s2i_target *t, const s2i_xopts *x, int frozen,
                      avm_rng *rng, double *ce, double *xm, int *correct) {
    if (forward(m, d, rng, 0)) return NAN;
    int B = d->B, T = d->T, dm = m->enc.cfg.d, e = m->head.e, K = m->head.K, hits = 0;
    s2i_head *h = &m->head;
    GROW(5, m->probs, (size_t)B * K + 1);
    GROW(6, m->demb, (size_t)B * e + 1);
    GROW(7, m->dx, (size_t)B * e + 1);
    GROW(8, m->dpooled, (size_t)B * dm + 1);
    double l_ce = xent_forward(m->logits, B, K, t->y, -1, t->denom, m->probs, NULL, &hits);
    double l_x = s2i_xmodal(&m->xw, x, m->emb, B, e, t, m->dx);
    if (!isfinite(l_ce) || !isfinite(l_x)) {
        avm_fail("the S2I loss is not finite (training diverged: lower --lr?)");
        return NAN;
    }
    params_zero_grad(&h->p);
    params_zero_grad(&m->enc.params);
    xent_backward(m->probs, B, K, t->y, -1, t->denom, 1.0f, m->probs);   /* in place: dlogits */
    float *g = h->p.grad;
    const float *w = h->p.data;
    linear_backward(m->emb, B, e, w + h->cw, K, m->probs, m->demb, g + h->cw, g + h->cb);
    for (size_t i = 0; i < (size_t)B * e; i++) m->demb[i] += m->dx[i];
    linear_backward(m->pooled, B, dm, w + h->pw, e, m->demb, frozen ? NULL : m->dpooled, g + h->pw, g + h->pb);
    if (!frozen) {
        GROW(9, m->denc, (size_t)B * T * dm + 1);
        mean_pool_backward(m->dpooled, B, T, dm, m->pad, m->denc);
        avmodel_audio_backward(&m->enc, m->denc, NULL);
    }
    if (ce) *ce = l_ce;
    if (xm) *xm = l_x;
    if (correct) *correct = hits;
    return l_ce + x->weight * l_x;
}

/* ---- the model directory ---- */

int s2i_save(const s2i_model *m, const char *dir, const char *config_json) {
    if (export_write(dir, &m->enc, config_json)) return -1;
    char *hp = path_join(dir, "s2i_head.h5"), *ip = path_join(dir, "intents.txt"), *jp = path_join(dir, "s2i.json");
    char *desc = xasprintf("{\"format\":\"%s\",\"intents\":%d,\"embed_dim\":%d,\"pooling\":\"mean\"}\n", S2I_FORMAT,
                           m->head.K, m->head.e);
    int rc = export_head_io(&m->head.p, hp, S2I_HEAD_FORMAT, 1);
    if (!rc) rc = intents_write(&m->intents, ip);
    if (!rc) rc = write_file_atomic(jp, desc, strlen(desc));
    free(desc); free(hp); free(ip); free(jp);
    return rc;
}

int s2i_is_model(const char *dir) {
    char *jp = path_join(dir, "s2i.json");
    int yes = file_exists(jp);
    free(jp);
    return yes;
}

/* s2i.json's sizes: the intents must be intents.txt's, the embedding at least 1. */
static int read_desc(const char *path, int K, long long *e) {
    char *text = read_file(path, NULL);
    json_value *v = text ? json_parse(text) : NULL;
    long long k = 0;
    int rc = text ? 0 : -1;
    if (!rc && (!v || strcmp(json_str_or(v, "format", ""), S2I_FORMAT)))
        rc = avm_fail("%s: not an %s description", path, S2I_FORMAT);
    if (!rc && (json_int_range(v, "intents", 1, 1 << 20, JSON_REQUIRED, &k) ||
                json_int_range(v, "embed_dim", 1, 1 << 20, JSON_REQUIRED, e)))
        rc = avm_fail("%s: %s", path, avm_error());
    if (!rc && k != K) rc = avm_fail("%s: %lld intents, but intents.txt has %d", path, k, K);
    json_free(v);
    free(text);
    return rc;
}

int s2i_load(s2i_model *m, const char *dir) {
    memset(m, 0, sizeof *m);
    char *hp = path_join(dir, "s2i_head.h5"), *ip = path_join(dir, "intents.txt"), *jp = path_join(dir, "s2i.json");
    long long e = 0;
    int rc = intents_read(&m->intents, ip), have_int = !rc, have_enc = 0;
    if (!rc) rc = read_desc(jp, m->intents.n, &e);
    if (!rc && !(rc = export_load(dir, &m->enc, &m->config))) have_enc = 1;
    if (!rc) {
        s2i_head_init(&m->head, m->enc.cfg.d, (int)e, m->intents.n, 1);
        rc = export_head_io(&m->head.p, hp, S2I_HEAD_FORMAT, 0);
    }
    if (rc) {
        if (have_enc) { avmodel_free(&m->enc); json_free(m->config); }
        if (have_int) intents_free(&m->intents);
        if (m->head.K) s2i_head_free(&m->head);
        memset(m, 0, sizeof *m);
    }
    free(hp); free(ip); free(jp);
    return rc;
}

void s2i_free(s2i_model *m) {
    avmodel_free(&m->enc);
    json_free(m->config);
    s2i_head_free(&m->head);
    intents_free(&m->intents);
    free(m->enc_out); free(m->pooled); free(m->emb); free(m->logits); free(m->probs); free(m->demb); free(m->dx);
    free(m->dpooled); free(m->denc); free(m->pad);
    s2i_xws_free(&m->xw);
    memset(m, 0, sizeof *m);
}
