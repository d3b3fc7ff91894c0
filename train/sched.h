/* Learning-rate schedules: linear warmup from peak/warmup to peak over `warmup` updates,
 * then cosine or linear decay to peak*final_ratio at update `total`, or constant.
 * Update s (0-based) uses lr(s): the same values as torch's LinearLR(1/warmup, 1,
 * warmup-1) followed by CosineAnnealingLR(total-warmup, eta_min) or LinearLR. */
#ifndef AVMASK_SCHED_H
#define AVMASK_SCHED_H

typedef enum { SCHED_COSINE, SCHED_LINEAR, SCHED_CONSTANT } avm_sched_kind;

typedef struct {
    avm_sched_kind kind;
    double peak, final_ratio;
    long warmup, total;
} avm_sched;

/* "cosine" | "linear" | "constant"; -1 + avm_fail otherwise. */
int    sched_parse_kind(const char *s, avm_sched_kind *kind);
/* -1 + avm_fail on impossible values (negative lr, warmup > total, ratio outside [0,1]). */
int    sched_check(const avm_sched *s);
double sched_lr(const avm_sched *s, long step);
#endif
