/* The learned layer mix of SUPERB's featurizer (see ops.h): a softmax-weighted sum of
 * encoder states, each optionally layer-normed without affine parameters. */
#include "models/ops.h"
#include <math.h>

/* Softmax in double: the weights are few, and a float exp would round differently. */
static void mix_probs(const float *w, int K, float *p) {
    double m = w[0], s = 0;
    for (int k = 1; k < K; k++) if (w[k] > m) m = w[k];
    for (int k = 0; k < K; k++) s += exp(w[k] - m);
    for (int k = 0; k < K; k++) p[k] = (float)(exp(w[k] - m) / s);
}

/* S_k as the mix reads it: the state itself, or its saved LayerNorm. */
static const float *state(const avm_layer_mix *m, const float *const *x, int k) {
    return m->norm ? m->xn + (size_t)k * m->n * m->d : x[k];
}

static float *stats(const avm_layer_mix *m, int k) { return m->stats + 2 * (size_t)k * m->n; }

void layer_mix_forward(const avm_layer_mix *m, const float *const *x, const float *w, float *y) {
    int K = m->K, d = m->d;
    size_t N = (size_t)m->n * d;
    mix_probs(w, K, m->p);
    if (m->norm) {   /* the encoder's own LayerNorm with gain 1 and bias 0 */
        for (int j = 0; j < d; j++) { m->ln[j] = 1; m->ln[d + j] = 0; }
        for (int k = 0; k < K; k++)
            layernorm_forward(x[k], m->n, d, m->ln, m->ln + d, m->xn + (size_t)k * N, stats(m, k),
                              stats(m, k) + m->n);
    }
    /* the last state first, then the others in order: the order asr.c always summed in */
    const float *s = state(m, x, K - 1);
    float pl = m->p[K - 1];
    #pragma omp parallel for schedule(static) if (N > 65536)
    for (size_t i = 0; i < N; i++) y[i] = pl * s[i];
    for (int k = 0; k < K - 1; k++) {
        const float *h = state(m, x, k);
        float pk = m->p[k];
        #pragma omp parallel for schedule(static) if (N > 65536)
        for (size_t i = 0; i < N; i++) y[i] += pk * h[i];
    }
}

void layer_mix_backward(const avm_layer_mix *m, const float *const *x, const float *dy, float *dw,
                        float *const *dx) {
    int K = m->K, d = m->d;
    size_t N = (size_t)m->n * d;
    /* dL/dp_k = <dy, S_k>, dL/dw_j = p_j (dL/dp_j - sum_k p_k dL/dp_k) */
    double dp[K], mean = 0;   /* K is a few dozen at most */
    #pragma omp parallel for schedule(static) if (N > 65536)
    for (int k = 0; k < K; k++) {   /* one state per thread: the sums do not depend on the threads */
        const float *h = state(m, x, k);
        double s = 0;
        for (size_t i = 0; i < N; i++) s += (double)dy[i] * h[i];
        dp[k] = s;
    }
    for (int k = 0; k < K; k++) mean += m->p[k] * dp[k];
    for (int j = 0; j < K; j++) dw[j] += (float)(m->p[j] * (dp[j] - mean));
    if (!dx) return;
    /* d S_k = p_k dy, through the LayerNorm in place; dx[K-1] (may alias dy) comes last */
    for (int k = 0; k < K; k++) {
        float *g = dx[k], pk = m->p[k];
        #pragma omp parallel for schedule(static) if (N > 65536)
        for (size_t i = 0; i < N; i++) g[i] = pk * dy[i];
        if (m->norm)
            layernorm_backward(x[k], m->n, d, m->ln, stats(m, k), stats(m, k) + m->n, g, g, m->ln + 2 * d,
                               m->ln + 3 * d);
    }
}
