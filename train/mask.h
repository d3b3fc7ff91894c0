/* Span masking (wav2vec 2.0 / HuBERT / AV-HuBERT style): every token of a sample starts
 * a span with probability p, a span covers L tokens (clipped at the end of the sample)
 * and overlapping spans merge. A token is then masked with probability
 * 1 - (1-p)^min(t+1, L): 1 - 0.92^10 = 57 % in the interior for the defaults.
 * A sample of length >= L that drew no span gets one span at a uniform start in
 * [0, len-L], so every such sample has a prediction target. Samples shorter than L
 * are masked by the same rule without that guarantee.
 * Defaults follow AV-HuBERT's pretraining configs, whose fairseq mask_prob counts span
 * starts as mask_prob/L per token: audio mask_prob 0.8, L 10 -> p=0.08 L=10 (wav2vec 2.0:
 * p=0.065 L=10); video mask_prob 0.3, L 5 -> p=0.06 L=5. Both streams at 25 tokens/s. */
#ifndef AVMASK_MASK_H
#define AVMASK_MASK_H
#include <stdint.h>
#include "common/rng.h"

#define MASK_DEFAULT_P_AUDIO 0.08
#define MASK_DEFAULT_L_AUDIO 10
#define MASK_DEFAULT_P_VIDEO 0.06
#define MASK_DEFAULT_L_VIDEO 5

/* Fills mask[0..T) for a sample of len <= T tokens (positions >= len stay 0).
 * Returns the number of masked tokens. */
int mask_spans(avm_rng *r, uint8_t *mask, int len, int T, double p, int L);
/* AV-HuBERT's video corruption: out[0..T) = in, except that each maximal masked run
 * [a, a+n) of mask (within len) takes the frames of another run [u, u+n) of the same sample,
 * u uniform over [0, len-n] without a (zeros, the mean frame after normalisation, when the
 * run spans the whole sample). A model cannot tell a substituted span by a mask vector; it
 * must notice that the frames do not fit. Rows are dim floats; rows >= len are copied. */
void mask_substitute(avm_rng *r, const uint8_t *mask, int len, int T, const float *in, float *out, int dim);
/* Expected masked fraction of a sample of length len, the at-least-one rule included. */
double mask_expected_fraction(int len, double p, int L);
#endif
