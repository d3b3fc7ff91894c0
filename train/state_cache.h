/* The encoder states of every training utterance, kept in memory while a frozen probe
 * trains (finetune --freeze-steps=all with no dropout and no SpecAugment): the encoder is
 * then a fixed function of the utterance, so its states are computed once instead of at
 * every step, and a step costs the head and the layer mix only.
 * The states are computed by the inference forward over runs of consecutive index rows
 * (a fixed plan: a resumed run and every MPI rank fill the same values), each utterance's
 * kept unpadded. The training forward of a batch gives the same values up to the last bits
 * of float rounding (other matrix shapes); tests/train/test_state_cache.sh bounds that. */
#ifndef AVMASK_STATE_CACHE_H
#define AVMASK_STATE_CACHE_H
#include "train/asr.h"
#include "train/batch.h"

typedef struct avm_state_cache {
    float **utt;   /* [n] utterance i's states: nstates blocks of len_i x d, NULL if left out */
    int n, nstates, d;
} avm_state_cache;

/* Bytes the states of L's utterances take: every encoder state when the head mixes layers
 * (a->head.nw > 0), else the output only. */
size_t state_cache_bytes(const avm_asr *a, const avm_loader *L);
/* Computes and keeps the states of every utterance of L (batches of at most batch_tokens
 * samples x padded tokens); show: progress on the terminal and in the log. -1 + avm_fail. */
int state_cache_fill(avm_state_cache *c, avm_asr *a, avm_loader *L, long batch_tokens, int show);
/* The batch's states into hidden[0..nstates) (each [B*T, d], padded rows zero): what the
 * encoder's forward would have put there. -1 + avm_fail for an utterance not cached. */
int state_cache_gather(const avm_state_cache *c, const avm_batch_data *d, float *const *hidden);
void state_cache_free(avm_state_cache *c);
#endif
