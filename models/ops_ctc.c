/* CTC forward-backward in log space (double precision inside), batched over
 * utterances with OpenMP. See ops.h (CTC loss) for the conventions. */
#include "models/ops.h"
#include "common/log.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline double lse2(double a, double b) {
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

void ctc_log_softmax(const float *x, int T, int V, float *out) {
    for (int t = 0; t < T; t++) {
        const float *r = x + (size_t)t * V;
        float *o = out + (size_t)t * V;
        double m = r[0], s = 0;
        for (int k = 1; k < V; k++) if (r[k] > m) m = r[k];
        for (int k = 0; k < V; k++) s += exp(r[k] - m);
        double z = m + log(s);
        for (int k = 0; k < V; k++) o[k] = (float)(r[k] - z);
    }
}

/* Extended label sequence: blanks around and between labels (length 2L+1). */
static inline int ext_label(const int *labels, int s) { return (s & 1) ? labels[s >> 1] : 0; }

/* Can the path jump from s-2 to s (skip a blank)? Only onto a label that differs
 * from the previous label. */
static inline int can_skip(const int *labels, int s) {
    return (s & 1) && s >= 3 && labels[s >> 1] != labels[(s >> 1) - 1];
}

/* alpha [T, S] in log space; returns log p(labels | lp). */
static double ctc_alpha(const float *lp, int T, int V, const int *labels, int S, double *alpha) {
    for (int s = 0; s < S; s++) alpha[s] = -INFINITY;
    alpha[0] = lp[0];
    if (S > 1) alpha[1] = lp[ext_label(labels, 1)];
    for (int t = 1; t < T; t++) {
        const double *prev = alpha + (size_t)(t - 1) * S;
        double *cur = alpha + (size_t)t * S;
        const float *row = lp + (size_t)t * V;
        for (int s = 0; s < S; s++) {
            double a = prev[s];
            if (s >= 1) a = lse2(a, prev[s - 1]);
            if (can_skip(labels, s)) a = lse2(a, prev[s - 2]);
            cur[s] = a == -INFINITY ? -INFINITY : a + row[ext_label(labels, s)];
        }
    }
    const double *last = alpha + (size_t)(T - 1) * S;
    return S > 1 ? lse2(last[S - 1], last[S - 2]) : last[0];
}

/* Backward pass, one row at a time, accumulating posteriors into gamma [T, V]. */
static void ctc_beta_gamma(const float *lp, int T, int V, const int *labels, int S,
                           const double *alpha, double logp, float *gamma) {
    double *beta = xmalloc(2 * (size_t)S * sizeof *beta), *acc = xmalloc((size_t)V * sizeof *acc);
    double *cur = beta, *next = beta + S;
    for (int t = T - 1; t >= 0; t--) {
        const float *row = lp + (size_t)t * V;
        for (int s = 0; s < S; s++) {
            double b;
            if (t == T - 1) {
                b = (s >= S - 2) ? 0 : -INFINITY;
            } else {
                b = next[s];
                if (s + 1 < S) b = lse2(b, next[s + 1]);
                if (s + 2 < S && can_skip(labels, s + 2)) b = lse2(b, next[s + 2]);
            }
            cur[s] = b == -INFINITY ? -INFINITY : b + row[ext_label(labels, s)];
        }
        /* gamma_t(k) = sum over s with label k of alpha_t(s) beta_t(s) / (y_t(k) p) */
        for (int k = 0; k < V; k++) acc[k] = -INFINITY;
        const double *a = alpha + (size_t)t * S;
        for (int s = 0; s < S; s++) {
            int k = ext_label(labels, s);
            acc[k] = lse2(acc[k], a[s] + cur[s]);
        }
        float *g = gamma + (size_t)t * V;
        for (int k = 0; k < V; k++)
            g[k] = acc[k] == -INFINITY ? 0.f : (float)exp(acc[k] - row[k] - logp);
        double *tmp = cur; cur = next; next = tmp;
    }
    free(beta);
    free(acc);
}

double ctc_nll(const float *lp, int T, int V, const int *labels, int L, float *gamma) {
    int S = 2 * L + 1;
    if (gamma) memset(gamma, 0, (size_t)T * V * sizeof *gamma);
    if (T == 0) return L == 0 ? 0.0 : INFINITY;
    double *alpha = xmalloc((size_t)T * S * sizeof *alpha);
    double logp = ctc_alpha(lp, T, V, labels, S, alpha);
    if (gamma && logp != -INFINITY) ctc_beta_gamma(lp, T, V, labels, S, alpha, logp, gamma);
    free(alpha);
    return -logp;
}

static int check_inputs(const int *T, int B, int V, const int *labels, const int *L) {
    if (V < 2) return avm_fail("ctc: vocabulary of %d units (need blank + at least one)", V);
    size_t off = 0;
    for (int b = 0; b < B; b++) {
        if (T[b] < 0 || L[b] < 0) return avm_fail("ctc: utterance %d: negative length", b);
        for (int i = 0; i < L[b]; i++)
            if (labels[off + i] < 1 || labels[off + i] >= V)
                return avm_fail("ctc: utterance %d: label %d out of range 1..%d", b, labels[off + i], V - 1);
        off += L[b];
    }
    return 0;
}

double ctc_loss(const float *logits, const int *T, int B, int V, const int *labels,
                const int *L, const avm_ctc_opts *o, double *nll, float *grad) {
    if (check_inputs(T, B, V, labels, L)) return NAN;
    size_t *toff = xmalloc((B + 1) * sizeof *toff), *loff = xmalloc((B + 1) * sizeof *loff);
    toff[0] = loff[0] = 0;
    for (int b = 0; b < B; b++) { toff[b + 1] = toff[b] + T[b]; loff[b + 1] = loff[b] + L[b]; }
    double *loss = xmalloc((B ? B : 1) * sizeof *loss);
    int nb = o->batch > 0 ? o->batch : B;   /* the mean's denominator */

    #pragma omp parallel for schedule(dynamic)
    for (int b = 0; b < B; b++) {
        const float *x = logits + toff[b] * V;
        float *lp = xmalloc(((size_t)T[b] * V + 1) * sizeof *lp);
        ctc_log_softmax(x, T[b], V, lp);
        float *g = grad ? grad + toff[b] * V : NULL;
        loss[b] = ctc_nll(lp, T[b], V, labels + loff[b], L[b], g);
        if (g) {
            double scale = o->reduction == CTC_MEAN ? 1.0 / ((L[b] > 1 ? L[b] : 1) * (double)nb) : 1.0;
            size_t n = (size_t)T[b] * V;
            if (isinf(loss[b])) memset(g, 0, n * sizeof *g);
            else for (size_t i = 0; i < n; i++) g[i] = (float)(scale * (exp(lp[i]) - g[i]));
        }
        free(lp);
    }

    double total = 0;   /* summed in order: the same result for any thread count */
    for (int b = 0; b < B; b++) {
        if (nll) nll[b] = loss[b];
        double l = (o->zero_infinity && isinf(loss[b])) ? 0.0 : loss[b];
        total += o->reduction == CTC_MEAN ? l / (L[b] > 1 ? L[b] : 1) : l;
    }
    if (o->reduction == CTC_MEAN && B > 0) total /= nb;
    free(loss); free(toff); free(loff);
    return total;
}
