#include "train/optim.h"
#include "common/util.h"
#include <math.h>
#include <omp.h>
#include <stdint.h>
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

/* The step's scalars, cast to float before use as torch does for a float32 tensor op
 * with a Python scalar, so that results agree to rounding. */
typedef struct { float shrink, b1, a1, b2, a2, bc2s, eps, step, gscale; int wd; } adamw_consts;

/* Elements [a, b) of one view. Built with -fno-math-errno (Makefile) so that sqrtf
 * vectorises; vsqrtps/vdivps round exactly as their scalar forms. */
static void update_range(const adamw_consts *c, float *restrict p, const float *restrict g,
                         float *restrict m, float *restrict v, size_t a, size_t b, int decay) {
    const float shrink = decay && c->wd ? c->shrink : 1.0f;   /* x * 1.0f is exact */
    #pragma omp simd
    for (size_t i = a; i < b; i++) {
        float gi = g[i] * c->gscale;
        float pi = p[i] * shrink;
        float mi = m[i] * c->b1 + c->a1 * gi;
        float vi = v[i] * c->b2 + c->a2 * (gi * gi);
        float denom = sqrtf(vi) / c->bc2s + c->eps;
        m[i] = mi; v[i] = vi;
        p[i] = pi + (-c->step) * (mi / denom);
    }
}

/* The scalars of update t (t: the view's own count). */
static adamw_consts consts(const avm_adamw *o, double lr, float gscale, long t) {
    double bc1 = 1.0 - pow(o->beta1, (double)t);
    adamw_consts c = {(float)(1.0 - lr * o->weight_decay), (float)o->beta1, (float)(1.0 - o->beta1),
                      (float)o->beta2, (float)(1.0 - o->beta2),
                      (float)sqrt(1.0 - pow(o->beta2, (double)t)), (float)o->eps, (float)(lr / bc1),
                      gscale, o->weight_decay != 0};
    return c;
}

void adamw_step_scaled(avm_adamw *o, avm_params *ps, double lr, float gscale) {
    o->step++;
    /* one set of scalars per view (a view frozen until some update counts its own steps);
     * live[k] = 0 for a view still frozen */
    adamw_consts *c = xmalloc(sizeof *c * (ps->n ? ps->n : 1)), all = consts(o, lr, gscale, o->step);
    uint8_t *live = xmalloc(ps->n ? ps->n : 1);
    for (int k = 0; k < ps->n; k++) {
        long f = ps->p[k].frozen;
        live[k] = f < o->step;
        c[k] = f > 0 && live[k] ? consts(o, lr, gscale, o->step - f) : all;
    }
    size_t total = ps->total;
    /* one pass over the flat buffer: each thread takes a contiguous, 16-float aligned slice
     * and updates the parts of the views that fall in it */
    #pragma omp parallel if (total > 32768)
    {
        size_t nt = (size_t)omp_get_num_threads(), t = (size_t)omp_get_thread_num();
        size_t lo = (total * t / nt) & ~(size_t)15, hi = t + 1 == nt ? total : (total * (t + 1) / nt) & ~(size_t)15;
        for (int k = 0; k < ps->n; k++) {
            const avm_param *q = &ps->p[k];
            size_t a = q->offset > lo ? q->offset : lo, e = q->offset + q->numel < hi ? q->offset + q->numel : hi;
            if (a < e && live[k]) update_range(&c[k], ps->data, ps->grad, o->m, o->v, a, e, q->decay);
        }
    }
    free(c);
    free(live);
}

void adamw_step(avm_adamw *o, avm_params *ps, double lr) { adamw_step_scaled(o, ps, lr, 1.0f); }

void adamw_free(avm_adamw *o) {
    free(o->m);
    free(o->v);
    memset(o, 0, sizeof *o);
}
