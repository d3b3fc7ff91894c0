/* AdamW (Loshchilov & Hutter) over the flat parameter buffer, with the same update
 * order as torch.optim.AdamW (1.13, foreach=False): decoupled weight decay
 * p *= 1 - lr*wd (only on views with decay=1), m = b1*m + (1-b1)*g,
 * v = b2*v + (1-b2)*g^2, p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
 * A view with frozen = F (params.h) is left as it is, moments included, during the first F
 * updates; t is then the number of updates the view took part in, step - F, as torch counts
 * steps per parameter (a parameter without a gradient is skipped and not counted). So a
 * frozen-then-trained view needs no state beyond step: a checkpoint's optim_step and the
 * views' frozen settings restore it. */
#ifndef AVMASK_OPTIM_H
#define AVMASK_OPTIM_H
#include <stddef.h>
#include "models/params.h"

typedef struct {
    double beta1, beta2, eps, weight_decay;
    long step;              /* updates applied so far (per view: step - frozen, when positive) */
    size_t n;               /* floats in m and v (= params total) */
    float *m, *v;           /* first and second moments, same layout as params */
} avm_adamw;

/* Zeroed moments for ps (after params_alloc). */
void adamw_init(avm_adamw *o, const avm_params *ps, double beta1, double beta2, double eps,
                double weight_decay);
/* One update with learning rate lr from ps->grad; increments o->step. */
void adamw_step(avm_adamw *o, avm_params *ps, double lr);
/* The same from gscale * ps->grad (the product rounded to float, as clip_grad_norm scales in
 * place), in one pass over the flat buffer: clip_coef() + this = clip_grad_norm() +
 * adamw_step(), bit for bit, without the pass that rescales the gradients. ps->grad is
 * left as it is. */
void adamw_step_scaled(avm_adamw *o, avm_params *ps, double lr, float gscale);
void adamw_free(avm_adamw *o);
#endif
