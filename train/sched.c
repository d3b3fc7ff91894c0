#include "train/sched.h"
#include "common/log.h"
#include <math.h>
#include <string.h>

int sched_parse_kind(const char *s, avm_sched_kind *kind) {
    if (!strcmp(s, "cosine")) *kind = SCHED_COSINE;
    else if (!strcmp(s, "linear")) *kind = SCHED_LINEAR;
    else if (!strcmp(s, "constant")) *kind = SCHED_CONSTANT;
    else return avm_fail("unknown schedule '%s' (cosine, linear or constant)", s);
    return 0;
}

int sched_check(const avm_sched *s) {
    if (!(s->peak > 0) || !isfinite(s->peak)) return avm_fail("learning rate %g must be positive", s->peak);
    if (s->warmup < 0) return avm_fail("warmup %ld must be >= 0", s->warmup);
    if (s->total < 1) return avm_fail("total steps %ld must be >= 1", s->total);
    if (s->warmup > s->total) return avm_fail("warmup %ld exceeds the total of %ld steps", s->warmup, s->total);
    if (!(s->final_ratio >= 0 && s->final_ratio <= 1))
        return avm_fail("final lr ratio %g must be in [0, 1]", s->final_ratio);
    return 0;
}

double sched_lr(const avm_sched *s, long step) {
    if (step < s->warmup) return s->peak * (double)(step + 1) / (double)s->warmup;
    if (s->kind == SCHED_CONSTANT) return s->peak;
    long span = s->total - s->warmup;
    double t = span > 0 ? (double)(step - s->warmup) / (double)span : 1.0;
    if (t > 1) t = 1;
    double lo = s->peak * s->final_ratio;
    if (s->kind == SCHED_LINEAR) return s->peak + (lo - s->peak) * t;
    return lo + (s->peak - lo) * 0.5 * (1.0 + cos(M_PI * t));
}
