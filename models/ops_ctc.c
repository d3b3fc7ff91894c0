/* CTC forward-backward in log space (double precision inside), batched over
 * utterances with OpenMP, in a workspace the caller keeps across steps (one scratch slot per
 * thread, grown to the longest utterance). See ops.h (CTC loss) for the conventions. */
#include "models/ops.h"
#include "common/log.h"
#include "common/util.h"
#include <math.h>
#include <omp.h>
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

/* Backward pass, one row at a time, accumulating posteriors into gamma [T, V]; beta [2S]
 * and acc [V] are scratch. */
static void ctc_beta_gamma(const float *lp, int T, int V, const int *labels, int S,
                           const double *alpha, double logp, float *gamma, double *beta, double *acc) {
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
}

/* Grows (never shrinks) one thread's scratch to an utterance of T frames, S = 2L+1 states,
 * V units; the capacities are the workspace's, the same for every slot. */
static void slot_grow(avm_ctc_slot *sl, const avm_ctc_ws *ws) {
    sl->lp = xrealloc(sl->lp, (ws->cap_tv + 1) * sizeof *sl->lp);
    sl->alpha = xrealloc(sl->alpha, (ws->cap_ts + 1) * sizeof *sl->alpha);
    sl->beta = xrealloc(sl->beta, (2 * ws->cap_s + 1) * sizeof *sl->beta);
    sl->acc = xrealloc(sl->acc, (ws->cap_v + 1) * sizeof *sl->acc);
}

static int grow_cap(size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    *cap = need;
    return 1;
}

void ctc_ws_reserve(avm_ctc_ws *ws, int T, int L, int V) {
    size_t S = 2 * (size_t)L + 1;
    int grew = grow_cap(&ws->cap_tv, (size_t)T * V);
    grew |= grow_cap(&ws->cap_ts, (size_t)T * S);
    grew |= grow_cap(&ws->cap_s, S);
    grew |= grow_cap(&ws->cap_v, (size_t)V);
    int threads = omp_get_max_threads(), n0 = ws->nslot;
    if (threads > ws->nslot) {
        ws->slot = xrealloc(ws->slot, (size_t)threads * sizeof *ws->slot);
        memset(ws->slot + n0, 0, (size_t)(threads - n0) * sizeof *ws->slot);
        ws->nslot = threads;
    }
    for (int i = 0; i < ws->nslot; i++)
        if (grew || i >= n0) slot_grow(&ws->slot[i], ws);
}

void ctc_ws_free(avm_ctc_ws *ws) {
    for (int i = 0; i < ws->nslot; i++) {
        avm_ctc_slot *sl = &ws->slot[i];
        free(sl->lp); free(sl->alpha); free(sl->beta); free(sl->acc);
    }
    free(ws->slot); free(ws->toff); free(ws->loff); free(ws->loss);
    memset(ws, 0, sizeof *ws);
}

/* ctc_nll in a slot large enough for the utterance. */
static double slot_nll(avm_ctc_slot *sl, const float *lp, int T, int V, const int *labels, int L, float *gamma) {
    int S = 2 * L + 1;
    if (gamma) memset(gamma, 0, (size_t)T * V * sizeof *gamma);
    if (T == 0) return L == 0 ? 0.0 : INFINITY;
    double logp = ctc_alpha(lp, T, V, labels, S, sl->alpha);
    if (gamma && logp != -INFINITY) ctc_beta_gamma(lp, T, V, labels, S, sl->alpha, logp, gamma, sl->beta, sl->acc);
    return -logp;
}

double ctc_nll(const float *lp, int T, int V, const int *labels, int L, float *gamma) {
    avm_ctc_ws ws = {0};
    ctc_ws_reserve(&ws, T, L, V);
    double nll = slot_nll(&ws.slot[0], lp, T, V, labels, L, gamma);
    ctc_ws_free(&ws);
    return nll;
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

/* The batch's offsets and loss arrays, and every thread's slot, large enough for this batch. */
static void ws_fit(avm_ctc_ws *ws, const int *T, int B, int V, const int *L) {
    if (B + 1 > ws->cap_b) {
        ws->cap_b = B + 1;
        ws->toff = xrealloc(ws->toff, (size_t)ws->cap_b * sizeof *ws->toff);
        ws->loff = xrealloc(ws->loff, (size_t)ws->cap_b * sizeof *ws->loff);
        ws->loss = xrealloc(ws->loss, (size_t)ws->cap_b * sizeof *ws->loss);
    }
    int tmax = 0, lmax = 0;   /* the batch's longest utterance and label sequence bound its needs */
    for (int b = 0; b < B; b++) {
        if (T[b] > tmax) tmax = T[b];
        if (L[b] > lmax) lmax = L[b];
    }
    ctc_ws_reserve(ws, tmax, lmax, V);
}

double ctc_loss(const float *logits, const int *T, int B, int V, const int *labels,
                const int *L, const avm_ctc_opts *o, double *nll, float *grad, avm_ctc_ws *wsp) {
    if (check_inputs(T, B, V, labels, L)) return NAN;
    avm_ctc_ws own = {0}, *ws = wsp ? wsp : &own;
    ws_fit(ws, T, B, V, L);
    size_t *toff = ws->toff, *loff = ws->loff;
    double *loss = ws->loss;
    toff[0] = loff[0] = 0;
    for (int b = 0; b < B; b++) { toff[b + 1] = toff[b] + T[b]; loff[b + 1] = loff[b] + L[b]; }
    int nb = o->batch > 0 ? o->batch : B;   /* the mean's denominator */

    #pragma omp parallel for schedule(dynamic)
    for (int b = 0; b < B; b++) {
        avm_ctc_slot *sl = &ws->slot[omp_get_thread_num()];
        const float *x = logits + toff[b] * V;
        float *lp = sl->lp;
        ctc_log_softmax(x, T[b], V, lp);
        float *g = grad ? grad + toff[b] * V : NULL;
        loss[b] = slot_nll(sl, lp, T[b], V, labels + loff[b], L[b], g);
        if (g) {
            double scale = o->reduction == CTC_MEAN ? 1.0 / ((L[b] > 1 ? L[b] : 1) * (double)nb) : 1.0;
            size_t n = (size_t)T[b] * V;
            if (isinf(loss[b])) memset(g, 0, n * sizeof *g);
            else for (size_t i = 0; i < n; i++) g[i] = (float)(scale * (exp(lp[i]) - g[i]));
        }
    }

    double total = 0;   /* summed in order: the same result for any thread count */
    for (int b = 0; b < B; b++) {
        if (nll) nll[b] = loss[b];
        double l = (o->zero_infinity && isinf(loss[b])) ? 0.0 : loss[b];
        total += o->reduction == CTC_MEAN ? l / (L[b] > 1 ? L[b] : 1) : l;
    }
    if (o->reduction == CTC_MEAN && B > 0) total /= nb;
    if (!wsp) ctc_ws_free(&own);
    return total;
}
