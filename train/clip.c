#include "train/clip.h"
#include <math.h>

double grad_norm(const float *g, size_t n) {
    double s = 0;
    /* simd: double lanes, a fixed summation order for a given thread count */
#pragma omp parallel for simd reduction(+ : s) schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);   /* any NaN/Inf entry makes s NaN or Inf */
}

float clip_coef(double norm, double max_norm) {
    if (!isfinite(norm) || max_norm <= 0) return 1.0f;
    double coef = max_norm / (norm + 1e-6);
    return coef < 1 ? (float)coef : 1.0f;
}

double clip_grad_norm(float *g, size_t n, double max_norm) {
    double norm = grad_norm(g, n);
    float c = clip_coef(norm, max_norm);
    if (c != 1.0f) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) g[i] *= c;
    }
    return norm;
}
