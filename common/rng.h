/* Seeded random numbers (xoshiro256**, seeded by splitmix64). The state is four
 * 64-bit words so a checkpoint can save and restore it exactly. Not thread-safe:
 * give each thread or each purpose its own generator (rng_seed(seed, stream)). */
#ifndef AVMASK_RNG_H
#define AVMASK_RNG_H
#include <stdint.h>

typedef struct { uint64_t s[4]; } avm_rng;

void     rng_seed(avm_rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(avm_rng *r);
double   rng_uniform(avm_rng *r);              /* [0, 1) */
uint32_t rng_below(avm_rng *r, uint32_t n);    /* [0, n), unbiased; n > 0 */
double   rng_normal(avm_rng *r);               /* standard normal (Box-Muller) */
void     rng_shuffle(avm_rng *r, int *a, int n);
#endif
