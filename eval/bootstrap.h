/* Paired bootstrap confidence interval of the difference of two error rates, A - B, when
 * both systems decoded the same utterances under k matched training seeds (eval/README.md,
 * "Paired comparison"). The statistic is the mean over seeds of %ERR_A,s - %ERR_B,s,
 * each %ERR being 100 sum_u E_u / sum_u N_u over the utterances:
 *     100 * sum_u mean_s d[s][u] / sum_u n[u],   d[s][u] = E_A,s,u - E_B,s,u
 * (N_u is the reference length, the same for both systems). One replicate draws nu
 * utterances with replacement (counts w_u) and, when two_level, k seeds with replacement
 * (counts c_s), in that order from the generator: first the k seed draws, then the nu
 * utterance draws, each rng_below(); its value is
 *     100 * sum_s c_s sum_u w_u d[s][u] / (k * sum_u w_u n[u]).
 * The interval is the 2.5 and 97.5 percentiles of the replicates, interpolating linearly
 * between order statistics (numpy.percentile's default); replicates whose utterances have
 * no reference token at all are dropped. */
#ifndef AVMASK_EVAL_BOOTSTRAP_H
#define AVMASK_EVAL_BOOTSTRAP_H
#include <stdint.h>

typedef struct {
    double diff;        /* the statistic on the data */
    double lo, hi;      /* 95 % percentile interval; NAN when no replicate was usable */
    int reps;           /* replicates used */
} avm_boot;

/* d [k * nu] (seed-major), n [nu]; reps >= 1; the generator is rng_seed(seed, stream).
 * 0, or -1 + avm_fail when sum_u n[u] = 0 (the rate is undefined). */
int boot_paired(const double *d, const double *n, int k, int nu, int reps, int two_level,
                uint64_t seed, uint64_t stream, avm_boot *out);

/* Percentile q in [0, 100] of x [m] sorted ascending, numpy's linear interpolation. */
double boot_percentile(const double *x, int m, double q);
#endif
