/* target=clusters: HuBERT's head over the fused audio tokens (final_proj, label_embs, cosine
 * logits / AVM_CLUSTER_TAU, cross-entropy to the token's cluster id). Rows: the masked audio
 * tokens, then (unmasked_weight > 0) the unmasked ones; unpadded, of samples whose audio was
 * not dropped. */
#include "models/avmodel.h"
#include "models/avmodel_internal.h"
#include "common/log.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

void avmodel_clusters_register(avm_model *m) {
    avm_cluster_head *h = &m->ch;
    const avm_config *c = &m->cfg;
    h->e = c->label_dim > 0 ? c->label_dim : c->d;
    h->k = c->num_classes;
    int sw[2] = {h->e, c->d}, sb[1] = {h->e}, se[2] = {h->k, h->e};
    h->proj_w = params_add(&m->params, "final_proj.weight", 2, sw, 1);
    h->proj_b = params_add(&m->params, "final_proj.bias", 1, sb, 0);
    h->emb = params_add(&m->params, "label_embs", 2, se, 0);    /* an embedding table: no decay */
}

static void free_bufs(avm_cluster_head *h) {
    free(h->idx); free(h->y); free(h->h); free(h->p); free(h->pn); free(h->pnorm); free(h->probs);
    free(h->en); free(h->enorm); free(h->de); free(h->dp);
    h->idx = NULL; h->y = NULL;
    h->h = h->p = h->pn = h->pnorm = h->probs = h->en = h->enorm = h->de = h->dp = NULL;
    h->cap = 0;
}

void avmodel_clusters_free(avm_model *m) { free_bufs(&m->ch); }

static void reserve(avm_model *m, int rows) {
    avm_cluster_head *h = &m->ch;
    if (rows <= h->cap && h->en) return;
    free_bufs(h);
    size_t n = rows > 0 ? (size_t)rows : 1, d = m->cfg.d, e = h->e, k = h->k;
    h->idx = xmalloc(n * sizeof(int)); h->y = xmalloc(n * sizeof(int32_t));
    h->h = xmalloc(n * d * 4); h->p = xmalloc(n * e * 4); h->pn = xmalloc(n * e * 4); h->dp = xmalloc(n * e * 4);
    h->pnorm = xmalloc(n * 4); h->probs = xmalloc(n * k * 4);
    h->en = xmalloc(k * e * 4); h->enorm = xmalloc(k * 4); h->de = xmalloc(k * e * 4);
    h->cap = (int)n;
}

/* Appends the rows of tokens with mask == want (unpadded, audio present); -1 on a bad label. */
static int select_rows(avm_model *m, const avm_batch *bt, int want, int Tf) {
    avm_cluster_head *h = &m->ch;
    const avm_stream *s = &m->audio;
    for (int b = 0; b < bt->B; b++) {
        if (bt->drop_audio && bt->drop_audio[b]) continue;
        for (int t = 0; t < bt->len[b]; t++) {
            int i = b * bt->T + t;
            if (s->mask[i] != want) continue;
            int32_t y = bt->labels[i];
            if (y < 0 || y >= h->k)
                return avm_fail("model: sample %d token %d has label %d outside [0, %d)", b, t, (int)y, h->k);
            h->y[h->n] = y;
            h->idx[h->n++] = b * Tf + t;
        }
    }
    return 0;
}

int avmodel_clusters_forward(avm_model *m, const avm_batch *bt, int Tf, avm_loss *loss) {
    avm_cluster_head *h = &m->ch;
    const float *P = m->params.data;
    reserve(m, bt->B * bt->T);
    h->n = 0;
    h->uw = bt->unmasked_weight;
    if (select_rows(m, bt, 1, Tf)) return -1;
    h->n_masked = h->n;
    if (h->uw > 0 && select_rows(m, bt, 0, Tf)) return -1;
    gather_rows(m->fout, m->cfg.d, h->idx, h->n, h->h);
    linear_forward(h->h, h->n, m->cfg.d, P + h->proj_w, P + h->proj_b, h->e, h->p);
    loss->audio = cluster_ce_forward(h->p, h->n, h->n_masked, h->uw, h->e, P + h->emb, h->k, AVM_CLUSTER_TAU, h->y,
                                     h->pn, h->pnorm, h->en, h->enorm, h->probs, &loss->correct_audio);
    loss->n_audio = h->n_masked;
    return 0;
}

/* dZ += the head's gradient of weight x the cluster loss; m->g3 is scratch. */
void avmodel_clusters_backward(avm_model *m, float weight, float *dZ) {
    avm_cluster_head *h = &m->ch;
    const float *P = m->params.data;
    float *G = m->params.grad;
    if (!h->n_masked) return;
    int d = m->cfg.d;
    cluster_ce_backward(h->pn, h->pnorm, h->en, h->enorm, h->probs, h->y, h->n, h->n_masked, h->uw, h->e, h->k,
                        AVM_CLUSTER_TAU, weight, h->dp, G + h->emb, h->de);
    linear_backward(h->h, h->n, d, P + h->proj_w, h->e, h->dp, m->g3, G + h->proj_w, G + h->proj_b);
    scatter_add_rows(m->g3, d, h->idx, h->n, dZ);
}
