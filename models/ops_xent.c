/* Softmax cross-entropy over a vocabulary with an ignore index (torch's F.cross_entropy):
 * the masked-language-model head's loss. */
#include "models/ops.h"
#include <string.h>

static double denominator(const int32_t *y, int n, int ignore, double denom) {
    if (denom > 0) return denom;
    int c = 0;
    for (int i = 0; i < n; i++) c += y[i] != ignore;
    return c;
}

double xent_forward(const float *logits, int n, int V, const int32_t *y, int ignore, double denom, float *probs,
                    int *count, int *correct) {
    if (probs != logits) memcpy(probs, logits, (size_t)n * V * sizeof(float));
    double sum = 0;
    int c = 0, hits = 0;
    #pragma omp parallel for schedule(static) reduction(+:sum, c, hits) if ((size_t)n * V > 65536)
    for (int i = 0; i < n; i++) {
        if (y[i] == ignore) continue;
        int arg;
        sum += softmax_xent_row(probs + (size_t)i * V, V, y[i], &arg);
        c++;
        hits += arg == y[i];
    }
    if (count) *count = c;
    if (correct) *correct = hits;
    double den = denom > 0 ? denom : c;
    return den > 0 ? sum / den : 0.0;
}

void xent_backward(const float *probs, int n, int V, const int32_t *y, int ignore, double denom, float scale,
                   float *dlogits) {
    double den = denominator(y, n, ignore, denom);
    float c = den > 0 ? (float)(scale / den) : 0.0f;
    #pragma omp parallel for schedule(static) if ((size_t)n * V > 65536)
    for (int i = 0; i < n; i++) {
        float *g = dlogits + (size_t)i * V;
        if (y[i] == ignore) { memset(g, 0, (size_t)V * sizeof(float)); continue; }
        const float *p = probs + (size_t)i * V;
        for (int j = 0; j < V; j++) g[j] = p[j] * c;
        g[y[i]] -= c;
    }
}
