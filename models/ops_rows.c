/* Row helpers shared by the losses: L2 normalisation of one row and its backward (InfoNCE,
 * the cluster cross-entropy, the triplet loss), and the softmax cross-entropy of one row of
 * logits (the cluster and vocabulary cross-entropies). */
#include "models/ops.h"
#include <math.h>

float unit_row(const float *v, int f, float *y) {
    float ss = 0;
    #pragma omp simd reduction(+:ss)
    for (int j = 0; j < f; j++) ss += v[j] * v[j];
    float nrm = sqrtf(ss);
    if (nrm < AVM_UNIT_EPS) nrm = AVM_UNIT_EPS;
    for (int j = 0; j < f; j++) y[j] = v[j] / nrm;
    return nrm;
}

void unit_row_backward(const float *u, float nrm, int f, float *g) {
    float dot = 0;
    #pragma omp simd reduction(+:dot)
    for (int j = 0; j < f; j++) dot += u[j] * g[j];
    if (nrm <= AVM_UNIT_EPS) dot = 0;   /* clamped: the norm is a constant */
    float inv = 1.0f / nrm;
    for (int j = 0; j < f; j++) g[j] = (g[j] - u[j] * dot) * inv;
}

double softmax_xent_row(float *r, int k, int y, int *arg) {
    float mx = r[0];
    int a = 0;
    for (int j = 1; j < k; j++) if (r[j] > mx) { mx = r[j]; a = j; }
    double z = 0;
    for (int j = 0; j < k; j++) z += exp((double)r[j] - mx);
    double ce = log(z) - ((double)r[y] - mx);
    for (int j = 0; j < k; j++) r[j] = (float)(exp((double)r[j] - mx) / z);
    if (arg) *arg = a;
    return ce;
}
