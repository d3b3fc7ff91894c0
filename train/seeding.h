/* Every random decision of a training run draws from a generator keyed by
 * (seed, purpose, step or epoch, global sample index), never from a running stream,
 * so a resumed run and an MPI run (each rank holding part of a global batch) make
 * exactly the decisions of one uninterrupted single-process run. */
#ifndef AVMASK_SEEDING_H
#define AVMASK_SEEDING_H
#include <stdint.h>
#include "common/rng.h"

enum {
    SEED_SHUFFLE = 1,       /* batch order and crops of an epoch (key: epoch) */
    SEED_CROP,              /* crop offset of one utterance (key: epoch, position) */
    SEED_MASK_AUDIO,        /* span masks (key: step, sample) */
    SEED_MASK_VIDEO,
    SEED_MODDROP,           /* modality dropout (key: step, sample) */
    SEED_DROPOUT,           /* the model's dropout (key: step, rank) */
    SEED_INIT,              /* parameter initialisation */
    SEED_SPECAUG,           /* fine-tuning time and frequency masks (key: step, sample) */
    SEED_VIDEO_SUBST,       /* sources of substituted video spans (key: step, sample) */
    SEED_NOISE,             /* noise mixing: whether, SNR, noise segment (key: step, sample) */
    SEED_MASK_TEXT,         /* the text encoder's MLM masking (key: step, sample) */
    SEED_TEXT_VIEWS,        /* the dropout of its contrastive term's two views (key: step, rank) */
    SEED_LABELS,            /* S2I's labelled fraction (key: intent) */
    SEED_NEGATIVE,          /* S2I's sampled triplet negatives (key: step, sample) */
};

void train_rng(avm_rng *r, uint64_t seed, int purpose, int64_t a, int64_t b);
#endif
