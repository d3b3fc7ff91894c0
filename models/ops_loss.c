/* Reconstruction losses (mean L1 / L2 over the selected rows) and row gather/scatter. */
#include "models/ops.h"
#include <math.h>
#include <string.h>

double recon_loss_forward(avm_loss_kind k, const float *pred, const float *target, int n, int f) {
    if (n <= 0) return 0.0;
    size_t m = (size_t)n * f;
    double s = 0;
    #pragma omp parallel for reduction(+:s) schedule(static) if (m > 65536)
    for (size_t i = 0; i < m; i++) {
        double e = (double)pred[i] - target[i];
        s += k == AVM_LOSS_L1 ? fabs(e) : e * e;
    }
    return s / (double)m;
}

void recon_loss_backward(avm_loss_kind k, const float *pred, const float *target, int n, int f,
                         float scale, float *dpred) {
    if (n <= 0) return;
    size_t m = (size_t)n * f;
    float c = (float)(scale / (double)m);
    if (k == AVM_LOSS_L1) {     /* one loop per kind: each vectorises */
        #pragma omp parallel for simd schedule(static) if (m > 65536)
        for (size_t i = 0; i < m; i++) {
            float e = pred[i] - target[i];
            dpred[i] = e > 0 ? c : e < 0 ? -c : 0.0f;
        }
        return;
    }
    #pragma omp parallel for simd schedule(static) if (m > 65536)
    for (size_t i = 0; i < m; i++) dpred[i] = 2.0f * c * (pred[i] - target[i]);
}

void gather_rows(const float *src, int d, const int *idx, int n, float *dst) {
    for (int i = 0; i < n; i++)
        memcpy(dst + (size_t)i * d, src + (size_t)idx[i] * d, (size_t)d * sizeof(float));
}

void scatter_add_rows(const float *src, int d, const int *idx, int n, float *dst) {
    for (int i = 0; i < n; i++) {
        float *r = dst + (size_t)idx[i] * d;
        const float *s = src + (size_t)i * d;
        for (int j = 0; j < d; j++) r[j] += s[j];
    }
}
