/* InfoNCE between predictions and targets of the same group (sample): each prediction must
 * pick its own target among the group's targets by cosine similarity / tau. */
#include "models/ops.h"
#include <cblas.h>
#include <string.h>

static size_t probs_offset(const int *off, int g) {
    size_t s = 0;
    for (int h = 0; h < g; h++) s += (size_t)(off[h + 1] - off[h]) * (off[h + 1] - off[h]);
    return s;
}

size_t infonce_probs_floats(const int *off, int ngroups) { return probs_offset(off, ngroups); }

double infonce_forward(const float *pred, const float *target, int n, int f, const int *off, int ngroups,
                       float tau, float *pn, float *tn, float *pnorm, float *probs) {
    if (n <= 0) return 0.0;
    #pragma omp parallel for schedule(static) if ((size_t)n * f > 65536)
    for (int i = 0; i < n; i++) {
        pnorm[i] = unit_row(pred + (size_t)i * f, f, pn + (size_t)i * f);
        unit_row(target + (size_t)i * f, f, tn + (size_t)i * f);
    }
    double loss = 0;
    #pragma omp parallel for schedule(dynamic, 1) reduction(+:loss)
    for (int g = 0; g < ngroups; g++) {
        int m = off[g + 1] - off[g];
        if (m == 0) continue;
        float *S = probs + probs_offset(off, g);
        const float *P = pn + (size_t)off[g] * f, *Tt = tn + (size_t)off[g] * f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, f, 1.0f / tau, P, f, Tt, f, 0.0f, S, m);
        for (int i = 0; i < m; i++) loss += softmax_xent_row(S + (size_t)i * m, m, i, NULL);   /* -log p_ii */
    }
    return loss / n;
}

void infonce_backward(const float *pn, const float *tn, const float *pnorm, const float *probs, int n, int f,
                      const int *off, int ngroups, float tau, float scale, float *dpred) {
    if (n <= 0) return;
    float c = scale / (float)n;
    #pragma omp parallel for schedule(dynamic, 1)
    for (int g = 0; g < ngroups; g++) {
        int m = off[g + 1] - off[g];
        if (m == 0) continue;
        const float *S = probs + probs_offset(off, g), *Tt = tn + (size_t)off[g] * f;
        float *D = dpred + (size_t)off[g] * f;
        /* d loss / d pn_i = c / tau * sum_j (P_ij - [i == j]) tn_j */
        for (int i = 0; i < m; i++) {
            float *d = D + (size_t)i * f;
            memset(d, 0, (size_t)f * sizeof(float));
            for (int j = 0; j < m; j++) {
                float w = (S[(size_t)i * m + j] - (i == j)) * c / tau;
                const float *t = Tt + (size_t)j * f;
                #pragma omp simd
                for (int k = 0; k < f; k++) d[k] += w * t[k];
            }
            /* through the normalisation: (d - pn (pn . d)) / |p| (|p| clamped at eps) */
            unit_row_backward(pn + ((size_t)off[g] + i) * f, pnorm[off[g] + i], f, d);
        }
    }
}
