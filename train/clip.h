/* Global gradient-norm clipping over the flat grad buffer, as
 * torch.nn.utils.clip_grad_norm_: norm = ||g||_2 over all parameters; if
 * max_norm / (norm + 1e-6) < 1 every gradient is scaled by it. */
#ifndef AVMASK_CLIP_H
#define AVMASK_CLIP_H
#include <stddef.h>

/* L2 norm of g[0..n) accumulated in double; NaN or Inf if any entry is. */
double grad_norm(const float *g, size_t n);
/* Clips in place when max_norm > 0; returns the norm before clipping. The caller checks
 * isfinite() on the result: a NaN/Inf gradient is left untouched. */
double clip_grad_norm(float *g, size_t n, double max_norm);
/* The factor clip_grad_norm scales by for this norm: (float)(max_norm / (norm + 1e-6))
 * when that is below 1, else 1 (also for a NaN/Inf norm or max_norm <= 0). Pass it to
 * adamw_step_scaled to clip and update in one pass. */
float clip_coef(double norm, double max_norm);
#endif
