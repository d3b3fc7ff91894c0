/* HuBERT's cluster-target loss on projected tokens: logits = cos(x_i, emb_j) / tau against
 * each of k label embeddings, softmax cross-entropy to the token's cluster id. */
#include "models/ops.h"
#include <cblas.h>
#include <string.h>

static double row_weight(int i, int nm, float uw) { return i < nm ? 1.0 : uw; }

double cluster_ce_forward(const float *x, int n, int nm, float uw, int e, const float *emb, int k, float tau,
                          const int32_t *y, float *xn, float *xnorm, float *en, float *enorm, float *probs,
                          int *correct) {
    *correct = 0;
    if (n <= 0 || nm <= 0) return 0.0;
    #pragma omp parallel for schedule(static) if ((size_t)n * e > 65536)
    for (int i = 0; i < n; i++) xnorm[i] = unit_row(x + (size_t)i * e, e, xn + (size_t)i * e);
    for (int j = 0; j < k; j++) enorm[j] = unit_row(emb + (size_t)j * e, e, en + (size_t)j * e);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, e, 1.0f / tau, xn, e, en, e, 0.0f, probs, k);
    double loss = 0;
    int hits = 0;
    #pragma omp parallel for schedule(static) reduction(+:loss, hits) if ((size_t)n * k > 65536)
    for (int i = 0; i < n; i++) {
        int arg;
        loss += row_weight(i, nm, uw) * softmax_xent_row(probs + (size_t)i * k, k, y[i], &arg);
        if (i < nm) hits += arg == y[i];
    }
    *correct = hits;
    return loss / nm;
}

void cluster_ce_backward(const float *xn, const float *xnorm, const float *en, const float *enorm, float *probs,
                         const int32_t *y, int n, int nm, float uw, int e, int k, float tau, float scale, float *dx,
                         float *demb, float *de) {
    if (n <= 0 || nm <= 0) return;
    /* probs := d loss / d (xn . en) = c_i (P_ij - [j == y_i]) / tau, c_i = scale * weight / nm */
    #pragma omp parallel for schedule(static) if ((size_t)n * k > 65536)
    for (int i = 0; i < n; i++) {
        float c = (float)(scale * row_weight(i, nm, uw) / nm) / tau, *r = probs + (size_t)i * k;
        r[y[i]] -= 1.0f;
        for (int j = 0; j < k; j++) r[j] *= c;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, e, k, 1.0f, probs, k, en, e, 0.0f, dx, e);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, e, n, 1.0f, probs, k, xn, e, 0.0f, de, e);
    #pragma omp parallel for schedule(static) if ((size_t)n * e > 65536)
    for (int i = 0; i < n; i++) unit_row_backward(xn + (size_t)i * e, xnorm[i], e, dx + (size_t)i * e);
    for (int j = 0; j < k; j++) {
        float *g = de + (size_t)j * e;
        unit_row_backward(en + (size_t)j * e, enorm[j], e, g);
        for (int t = 0; t < e; t++) demb[(size_t)j * e + t] += g[t];
    }
}
