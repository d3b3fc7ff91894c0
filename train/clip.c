#include "train/clip.h"
#include <math.h>

double grad_norm(const float *g, size_t n) {
    double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);   /* any NaN/Inf entry makes s NaN or Inf */
}

double clip_grad_norm(float *g, size_t n, double max_norm) {
    double norm = grad_norm(g, n);
    if (!isfinite(norm) || max_norm <= 0) return norm;
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1) {
        float c = (float)coef;
#pragma omp parallel for schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) g[i] *= c;
    }
    return norm;
}
