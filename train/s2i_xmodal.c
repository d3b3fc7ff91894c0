/* S2I's cross-modal losses between the acoustic embeddings of a slice and the frozen text
 * embeddings of their transcripts (see s2i.h). Each is a composition of models/ ops; no
 * gradient flows to the text. Every term of a sample depends on its own embedding and on
 * the global batch's texts only (the pool, the same on every rank), so the ranks' shares add
 * up to one process's loss over the union. */
#include "train/s2i.h"
#include "common/util.h"
#include "models/ops.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const s2i_xmodal_names[4] = {"none", "l2", "triplet", "infonce"};

int s2i_xmodal_parse(const char *name, int *kind) {
    for (int k = 0; k < 4; k++)
        if (!strcmp(name, s2i_xmodal_names[k])) { *kind = k; return 0; }
    return avm_fail("'%s' is not none, l2, triplet or infonce", name);
}

void s2i_cosines(const float *a, const float *b, int n, int e, double *sum) {
    for (int i = 0; i < n; i++) {
        double ab = 0, aa = 0, bb = 0;
        for (int j = 0; j < e; j++) {
            double x = a[(size_t)i * e + j], y = b[(size_t)i * e + j];
            ab += x * y; aa += x * x; bb += y * y;
        }
        *sum += ab / (fmax(sqrt(aa), AVM_UNIT_EPS) * fmax(sqrt(bb), AVM_UNIT_EPS));
    }
}

#define GROW(k, ptr, n) ((ptr) = xgrow((ptr), &w->cap[k], (n) * sizeof *(ptr)))

/* The mean squared difference to the own transcript's embedding per sample. */
static double l2(s2i_xws *w, const s2i_xopts *x, const float *emb, int B, int e, const s2i_target *t, float *demb) {
    GROW(0, w->rows, (size_t)B * e);
    gather_rows(t->pool, e, t->pos, B, w->rows);
    double mean = recon_loss_forward(AVM_LOSS_L2, emb, w->rows, B, e);   /* over B e values */
    recon_loss_backward(AVM_LOSS_L2, emb, w->rows, B, e, (float)(x->weight * B / t->denom), demb);
    return mean * B / t->denom;
}

/* FaceNet's triplet on unit vectors: positives are the slice's own texts (rows 0..B-1),
 * then the pool's rows as candidates; the negative of sample i is t->neg's pool row, or
 * the row of another intent closest to its embedding. */
static double triplet(s2i_xws *w, const s2i_xopts *x, const float *emb, int B, int e, const s2i_target *t,
                      float *demb) {
    int np = B + t->P;
    GROW(0, w->rows, (size_t)np * e);
    GROW(1, w->an, (size_t)B * e);
    GROW(2, w->pn, (size_t)np * e);
    GROW(3, w->anorm, (size_t)B);
    GROW(4, w->pnorm, (size_t)np);
    GROW(5, w->dpos, (size_t)B);
    GROW(6, w->dneg, (size_t)B);
    GROW(9, w->neg, (size_t)B);
    GROW(10, w->cls, (size_t)np + B);   /* classes, then given negatives */
    gather_rows(t->pool, e, t->pos, B, w->rows);
    memcpy(w->rows + (size_t)B * e, t->pool, (size_t)t->P * e * sizeof(float));
    for (int i = 0; i < B; i++) w->cls[i] = t->y[i];
    memcpy(w->cls + B, t->pool_cls, (size_t)t->P * sizeof(int));
    avm_triplet s = {B, e, 1, x->margin, w->an, w->pn, w->anorm, w->pnorm, w->neg, w->dpos, w->dneg, np};
    int *given = NULL;
    if (t->neg) {   /* sampled: pool row j is row B + j of the positives */
        given = w->cls + np;
        for (int i = 0; i < B; i++) given[i] = t->neg[i] < 0 ? -1 : B + t->neg[i];
    }
    double loss = triplet_forward(&s, emb, w->rows, given, given ? NULL : w->cls, t->denom, NULL, NULL);
    triplet_backward(&s, t->denom, x->weight, demb, NULL);
    return loss;
}

/* InfoNCE over the pool (CLIP's text side): logits cos(emb_i, pool_j) / tau, the sample's
 * own transcript the class. */
static double infonce(s2i_xws *w, const s2i_xopts *x, const float *emb, int B, int e, const s2i_target *t,
                      float *demb) {
    int P = t->P;
    GROW(1, w->an, (size_t)B * e);
    GROW(2, w->pn, (size_t)P * e);
    GROW(3, w->anorm, (size_t)B);
    GROW(7, w->sim, (size_t)B * P);
    for (int i = 0; i < B; i++) w->anorm[i] = unit_row(emb + (size_t)i * e, e, w->an + (size_t)i * e);
    for (int j = 0; j < P; j++) {   /* unit rows over tau: the logits are one product */
        float *r = w->pn + (size_t)j * e;
        unit_row(t->pool + (size_t)j * e, e, r);
        for (int k = 0; k < e; k++) r[k] /= x->tau;
    }
    linear_forward(w->an, B, e, w->pn, NULL, P, w->sim);
    double loss = xent_forward(w->sim, B, P, t->pos, -1, t->denom, w->sim, NULL, NULL);
    xent_backward(w->sim, B, P, t->pos, -1, t->denom, x->weight, w->sim);
    linear_backward(w->an, B, e, w->pn, P, w->sim, demb, NULL, NULL);
    for (int i = 0; i < B; i++) unit_row_backward(w->an + (size_t)i * e, w->anorm[i], e, demb + (size_t)i * e);
    return loss;
}

double s2i_xmodal(s2i_xws *w, const s2i_xopts *x, const float *emb, int B, int e, const s2i_target *t, float *demb) {
    memset(demb, 0, (size_t)B * e * sizeof(float));
    if (x->kind == XM_NONE || B == 0) return 0;
    if (x->kind == XM_L2) return l2(w, x, emb, B, e, t, demb);
    if (x->kind == XM_TRIPLET) return triplet(w, x, emb, B, e, t, demb);
    return infonce(w, x, emb, B, e, t, demb);
}

void s2i_xws_free(s2i_xws *w) {
    free(w->rows); free(w->an); free(w->pn); free(w->anorm); free(w->pnorm); free(w->dpos); free(w->dneg);
    free(w->sim); free(w->neg); free(w->cls);
    memset(w, 0, sizeof *w);
}
