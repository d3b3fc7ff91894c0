/* The text encoder's masked-language-model head (BERT's): at the predicted tokens
 * u = LN(GELU(dense(h))), logits = u E^T + bias with E the token embedding table. */
#include "models/textenc.h"
#include "common/util.h"
#include "models/ops.h"
#include <stdlib.h>
#include <string.h>

static void reserve_pred(avm_textenc *m, int n) {
    if (n <= m->cap_pred) return;
    size_t d = m->cfg.d, V = m->cfg.vocab;
    float **bufs[] = {&m->hin, &m->a, &m->ge, &m->u, &m->g1, &m->g2};
    for (size_t k = 0; k < sizeof bufs / sizeof *bufs; k++) { free(*bufs[k]); *bufs[k] = xmalloc(n * d * 4); }
    free(m->umean); free(m->urstd); free(m->logits); free(m->idx); free(m->y);
    m->umean = xmalloc(n * 4); m->urstd = xmalloc(n * 4); m->logits = xmalloc(n * V * 4);
    m->idx = xmalloc(n * sizeof(int)); m->y = xmalloc(n * sizeof(int32_t));
    m->cap_pred = n;
}

double textenc_mlm_forward(avm_textenc *m, const int32_t *target, double denom, int *count, int *correct) {
    const float *P = m->params.data;
    int n = 0, d = m->cfg.d, V = m->cfg.vocab, BT = m->B * m->T;
    for (int i = 0; i < BT; i++) n += !m->pad[i] && target[i] >= 0;
    reserve_pred(m, n > 0 ? n : 1);
    n = 0;
    for (int i = 0; i < BT; i++)
        if (!m->pad[i] && target[i] >= 0) { m->idx[n] = i; m->y[n++] = target[i]; }
    m->n_pred = n;
    if (count) *count = 0;
    if (correct) *correct = 0;
    if (!n) return 0;
    gather_rows(m->h, d, m->idx, n, m->hin);
    linear_forward(m->hin, n, d, P + m->dense_w, P + m->dense_b, d, m->a);
    gelu_forward(m->a, (size_t)n * d, m->ge);
    layernorm_forward(m->ge, n, d, P + m->hnorm_g, P + m->hnorm_b, m->u, m->umean, m->urstd);
    linear_forward(m->u, n, d, P + m->tok, P + m->out_b, V, m->logits);
    /* every gathered row is predicted: no row is ignored (-1 never occurs among targets) */
    return xent_forward(m->logits, n, V, m->y, -1, denom, m->logits, count, correct);
}

void textenc_mlm_backward(avm_textenc *m, double denom, float scale) {
    int n = m->n_pred, d = m->cfg.d, V = m->cfg.vocab;
    if (!n) return;
    const float *P = m->params.data;
    float *G = m->params.grad;
    size_t row = (size_t)d * sizeof(float);
    memcpy(m->padrow, G + m->tok, row);   /* the <pad> row: the decoder's share is dropped */
    xent_backward(m->logits, n, V, m->y, -1, denom, scale, m->logits);
    linear_backward(m->u, n, d, P + m->tok, V, m->logits, m->g1, G + m->tok, G + m->out_b);
    memcpy(G + m->tok, m->padrow, row);
    layernorm_backward(m->ge, n, d, P + m->hnorm_g, m->umean, m->urstd, m->g1, m->g1, G + m->hnorm_g, G + m->hnorm_b);
    gelu_backward(m->a, m->g1, (size_t)n * d, m->g1);
    linear_backward(m->hin, n, d, P + m->dense_w, d, m->g1, m->g2, G + m->dense_w, G + m->dense_b);
    scatter_add_rows(m->g2, d, m->idx, n, m->dh);
}
