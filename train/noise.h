/* Noisy input, clean target (AV-HuBERT's noise augmentation): during training, features
 * of a noise set are mixed into the audio of some samples; the model sees the noisy
 * audio and predicts the clean one (avm_batch.audio_target).
 * Mixing is in the mel power domain on raw log-mel (natural log of mel power):
 *     noisy = log(exp(speech) + g * exp(noise))
 * with g such that the mel power of the speech, summed over every frame and bin of the
 * sample's tokens, is snr dB above that of g * noise (train/README.md, "Noise").
 * Per training sample, keyed by (seed, SEED_NOISE, step, position in the global batch):
 * mixed with probability prob; if so an SNR uniform in [snr_lo, snr_hi], a noise
 * utterance uniform over the set and a start frame uniform in it, looped when shorter
 * than the sample. Only the frames used are read (bounded shard cache, no noise kept in
 * memory between steps). */
#ifndef AVMASK_NOISE_H
#define AVMASK_NOISE_H
#include <stddef.h>
#include <stdint.h>
#include "train/batch.h"

/* ---- the arithmetic (noise_mix.c), on raw log-mel values ---- */
/* g with sum(exp(speech)) / (g * sum(exp(noise))) = 10^(snr_db / 10). */
double noise_gain(const float *speech, const float *noise, size_t n, double snr_db);
/* out[i] = log(exp(speech[i]) + g * exp(noise[i])); out may be speech. */
void   noise_add_logmel(float *out, const float *speech, const float *noise, size_t n, double g);

/* ---- feature configurations (noise_config.c) ---- */
/* 0 if noise features can be mixed into train features: same n_mels, and the same
 * sample_rate and fbank settings in the extraction configs (when neither records any,
 * only n_mels is compared). Otherwise -1 + avm_fail naming both dirs and the difference. */
int noise_config_check(const avm_feats *train, const avm_feats *noise);

/* ---- the noise set and the batch mixer (noise.c) ---- */
typedef struct {
    int mixed;          /* 0: the sample stays clean */
    double snr_db;
    int utt;            /* row of the noise index */
    int offset;         /* first noise frame; the utterance is looped from there */
} avm_noise_pick;

typedef struct {
    avm_feats feats;
    avm_shard_reader *reader;
    int *usable, n_usable;      /* noise utterances with at least one frame */
    int n_mels, stack;          /* of the training features (frames per token) */
    float *mean, *istd;         /* the training CMVN, [n_mels] */
    double prob, snr_lo, snr_hi;
    uint64_t seed;
    float *out, *seg;           /* noisy batch; raw noise segments */
    size_t cap;
} avm_noise;

/* Opens the noise feature dir and checks it against the training loader's features;
 * takes a copy of the loader's CMVN. -1 + avm_fail. */
int  noise_open(avm_noise *N, const char *dir, const avm_loader *train, double prob, double snr_lo,
                double snr_hi, uint64_t seed, int max_open_shards);
void noise_close(avm_noise *N);
/* The decisions for the sample at global batch position gidx of update `step`. */
void noise_pick(const avm_noise *N, long step, int gidx, avm_noise_pick *p);
/* The noisy audio of batch d ([B, T, audio_dim], normalised like d->audio): rows of
 * samples not drawn are copies of d->audio. CMVN is undone, the noise mixed, CMVN
 * applied again. Valid until the next call. NULL + avm_fail on a read error. */
const float *noise_mix(avm_noise *N, const avm_batch_data *d, long step);
#endif
