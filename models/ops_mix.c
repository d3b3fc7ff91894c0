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

/* y = p_{K-1} S_{K-1}, then += p_k S_k for k = 0..K-2: the last state first, then the others
 * in order (the order asr.c always summed in). */
static void mix_sum(const avm_layer_mix *m, const float *const *S, float *y) {
    int K = m->K;
    size_t N = (size_t)m->n * m->d;
    const float *s = S[K - 1];
    float pl = m->p[K - 1];
    #pragma omp parallel for schedule(static) if (N > 65536)
    for (size_t i = 0; i < N; i++) y[i] = pl * s[i];
    for (int k = 0; k < K - 1; k++) {
        const float *h = S[k];
        float pk = m->p[k];
        #pragma omp parallel for schedule(static) if (N > 65536)
        for (size_t i = 0; i < N; i++) y[i] += pk * h[i];
    }
}

/* The parameter-free LayerNorm: gain 1, bias 0 in m->ln. */
static void unit_affine(const avm_layer_mix *m) {
    for (int j = 0; j < m->d; j++) { m->ln[j] = 1; m->ln[m->d + j] = 0; }
}

void layer_mix_forward(const avm_layer_mix *m, const float *const *x, const float *w, float *y) {
    int K = m->K, d = m->d;
    size_t N = (size_t)m->n * d;
    mix_probs(w, K, m->p);
    if (m->norm) {   /* the encoder's own LayerNorm with gain 1 and bias 0 */
        unit_affine(m);
        for (int k = 0; k < K; k++)
            layernorm_forward(x[k], m->n, d, m->ln, m->ln + d, m->xn + (size_t)k * N, stats(m, k),
                              stats(m, k) + m->n);
    }
    const float *S[K];
    for (int k = 0; k < K; k++) S[k] = state(m, x, k);
    mix_sum(m, S, y);
}

void layer_mix_infer(const avm_layer_mix *m, float *const *x, const float *w, float *y) {
    int K = m->K, d = m->d;
    mix_probs(w, K, m->p);
    if (m->norm) {   /* each state normed in place (the forward's floats), nothing saved */
        unit_affine(m);
        for (int k = 0; k < K; k++) layernorm_forward(x[k], m->n, d, m->ln, m->ln + d, x[k], m->stats, m->stats + m->n);
    }
    mix_sum(m, (const float *const *)x, y);
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
