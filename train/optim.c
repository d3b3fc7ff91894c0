#include "train/optim.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void adamw_init(avm_adamw *o, const avm_params *ps, double beta1, double beta2, double eps,
                double weight_decay) {
    memset(o, 0, sizeof *o);
    o->beta1 = beta1; o->beta2 = beta2; o->eps = eps; o->weight_decay = weight_decay;
    o->n = ps->total;
    o->m = xcalloc(o->n ? o->n : 1, sizeof *o->m);
    o->v = xcalloc(o->n ? o->n : 1, sizeof *o->v);
}

/* Scalars are cast to float before use, as torch does for a float32 tensor op
 * with a Python scalar, so that results agree to rounding. */
static void update_view(avm_adamw *o, float *p, const float *g, float *m, float *v, size_t n,
                        int decay, double lr, double bc1, double bc2_sqrt) {
    const float shrink = (float)(1.0 - lr * o->weight_decay);
    const float b1 = (float)o->beta1, a1 = (float)(1.0 - o->beta1);
    const float b2 = (float)o->beta2, a2 = (float)(1.0 - o->beta2);
    const float bc2s = (float)bc2_sqrt, eps = (float)o->eps, step = (float)(lr / bc1);
    const int wd = decay && o->weight_decay != 0;
#pragma omp parallel for schedule(static) if (n > 32768)
    for (size_t i = 0; i < n; i++) {
        float pi = wd ? p[i] * shrink : p[i];
        float mi = m[i] * b1 + a1 * g[i];
        float vi = v[i] * b2 + a2 * (g[i] * g[i]);
        float denom = sqrtf(vi) / bc2s + eps;
        m[i] = mi; v[i] = vi;
        p[i] = pi + (-step) * (mi / denom);
    }
}

void adamw_step(avm_adamw *o, avm_params *ps, double lr) {
    o->step++;
    double bc1 = 1.0 - pow(o->beta1, (double)o->step);
    double bc2_sqrt = sqrt(1.0 - pow(o->beta2, (double)o->step));
    for (int k = 0; k < ps->n; k++) {
        const avm_param *q = &ps->p[k];
        size_t off = q->offset;
        update_view(o, ps->data + off, ps->grad + off, o->m + off, o->v + off, q->numel,
                    q->decay, lr, bc1, bc2_sqrt);
    }
}

void adamw_free(avm_adamw *o) {
    free(o->m);
    free(o->v);
    memset(o, 0, sizeof *o);
}
