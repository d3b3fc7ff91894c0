/* SpecAugment-style masking of a fine-tuning batch (Park et al., 2019), on the normalised
 * stacked fbank tokens [B, T, stack * n_mels]: masked values become 0, the CMVN mean.
 *   time:      token spans drawn like pretraining's (train/mask.h): every token starts a
 *              span of time_len tokens with probability time_p (wav2vec 2.0 fine-tuning
 *              masks its inputs the same way, with p 0.05-0.075 and L 10 at 50 Hz);
 *   frequency: n_freq bands per sample, each of w ~ U{0..freq_width} consecutive mel bins
 *              starting at U{0..n_mels-w}, zeroed in every frame of the sample.
 * Draws are keyed by (seed, step, sample), so a run is reproducible. Padding stays 0. */
#ifndef AVMASK_SPECAUG_H
#define AVMASK_SPECAUG_H
#include <stdint.h>
#include "train/batch.h"

typedef struct {
    double time_p;
    int time_len;
    int n_freq, freq_width;
} avm_specaug;

int  specaug_active(const avm_specaug *s);
/* Masks d->audio in place (n_mels bins per frame, d->audio rows of stack * n_mels).
 * Returns the number of time-masked tokens. */
long specaug_apply(const avm_specaug *s, avm_batch_data *d, int n_mels, int stack, uint64_t seed, long step);
#endif
