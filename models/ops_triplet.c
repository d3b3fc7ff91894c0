/* Triplet margin loss between anchors and positives, the negative of each anchor being one
 * of the other positives: a given index, or the hardest one in the batch (see ops.h). */
#include "models/ops.h"
#include <math.h>
#include <string.h>

#define DIST_EPS 1e-8

static double dist(const float *x, const float *y, int e) {
    double s = 0;
    for (int j = 0; j < e; j++) {
        double t = (double)x[j] - y[j];
        s += t * t;
    }
    return sqrt(s);
}

static int rows_p(const avm_triplet *s) { return s->np > s->n ? s->np : s->n; }

/* The positive row closest to anchor i among the allowed ones (j != i, other class); -1 if none. */
static int hardest(const avm_triplet *s, int i, const int *cls) {
    int best = -1;
    double bd = INFINITY;
    for (int j = 0; j < rows_p(s); j++) {
        if (j == i || (cls && cls[j] == cls[i])) continue;
        double d = dist(s->an + (size_t)i * s->e, s->pn + (size_t)j * s->e, s->e);
        if (d < bd) { bd = d; best = j; }
    }
    return best;
}

double triplet_forward(avm_triplet *s, const float *a, const float *p, const int *neg, const int *cls, double denom,
                       int *count, int *active) {
    int n = s->n, e = s->e, m = rows_p(s);
    size_t ne = (size_t)n * e;
    if (s->norm) {
        for (int i = 0; i < n; i++) s->anorm[i] = unit_row(a + (size_t)i * e, e, s->an + (size_t)i * e);
        for (int j = 0; j < m; j++) s->pnorm[j] = unit_row(p + (size_t)j * e, e, s->pn + (size_t)j * e);
    } else {
        memcpy(s->an, a, ne * sizeof(float));
        memcpy(s->pn, p, (size_t)m * e * sizeof(float));
    }
    double sum = 0;
    int c = 0, act = 0;
    #pragma omp parallel for schedule(static) reduction(+:sum, c, act) if (ne * m > 65536)
    for (int i = 0; i < n; i++) {
        int k = neg ? neg[i] : hardest(s, i, cls);
        s->neg[i] = k;
        if (k < 0) continue;
        s->dpos[i] = (float)dist(s->an + (size_t)i * e, s->pn + (size_t)i * e, e);
        s->dneg[i] = (float)dist(s->an + (size_t)i * e, s->pn + (size_t)k * e, e);
        double h = (double)s->dpos[i] - s->dneg[i] + s->margin;
        c++;
        if (h > 0) { sum += h; act++; }
    }
    if (count) *count = c;
    if (active) *active = act;
    double den = denom > 0 ? denom : c;
    return den > 0 ? sum / den : 0.0;
}

/* g += w (x - y) / max(|x - y|, eps): the gradient of w |x - y| with respect to x. */
static void add_dist_grad(const float *x, const float *y, double d, float w, int e, float *g) {
    float c = (float)(w / (d > DIST_EPS ? d : DIST_EPS));
    for (int j = 0; j < e; j++) g[j] += c * (x[j] - y[j]);
}

void triplet_backward(const avm_triplet *s, double denom, float scale, float *da, float *dp) {
    int n = s->n, e = s->e, c = 0, m = rows_p(s);
    for (int i = 0; i < n; i++) c += s->neg[i] >= 0;
    double den = denom > 0 ? denom : c;
    float w = den > 0 ? (float)(scale / den) : 0.0f;
    memset(da, 0, (size_t)n * e * sizeof(float));
    if (dp) memset(dp, 0, (size_t)m * e * sizeof(float));
    /* serial over anchors: a positive row may be several anchors' negative */
    for (int i = 0; i < n; i++) {
        int k = s->neg[i];
        if (k < 0 || (double)s->dpos[i] - s->dneg[i] + s->margin <= 0) continue;
        const float *ai = s->an + (size_t)i * e, *pi = s->pn + (size_t)i * e, *pk = s->pn + (size_t)k * e;
        add_dist_grad(ai, pi, s->dpos[i], w, e, da + (size_t)i * e);
        add_dist_grad(ai, pk, s->dneg[i], -w, e, da + (size_t)i * e);
        if (!dp) continue;
        add_dist_grad(pi, ai, s->dpos[i], w, e, dp + (size_t)i * e);
        add_dist_grad(pk, ai, s->dneg[i], -w, e, dp + (size_t)k * e);
    }
    if (!s->norm) return;
    for (int i = 0; i < n; i++) unit_row_backward(s->an + (size_t)i * e, s->anorm[i], e, da + (size_t)i * e);
    for (int j = 0; dp && j < m; j++) unit_row_backward(s->pn + (size_t)j * e, s->pnorm[j], e, dp + (size_t)j * e);
}
