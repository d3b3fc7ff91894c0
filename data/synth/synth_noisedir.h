/* The noise data dir of the synthetic corpus: noise/ with wav.scp, utt2spk, spk2utt
 * and conditions over media/noise/<kind>-NNNN.wav (16-bit mono PCM), for mixing
 * noise into clean audio on the fly during pretraining. Babble comes only from a
 * pool of training speakers' speech; stationary noise from synth_noise_make. */
#ifndef AVMASK_SYNTH_NOISEDIR_H
#define AVMASK_SYNTH_NOISEDIR_H
#include "data/synth/synth_noise.h"
#include "data/synth/synth_utt.h"

typedef struct {
    int clips;                     /* number of clips, spread over the kinds */
    double seconds;                /* length of each clip */
    const synth_noise_kind *kinds;
    int nkinds;
    const synth_babble *pool;      /* training speech: the babble sources */
    const char *const *pool_spk;   /* speaker id of each pool signal */
} synth_noisedir_spec;

/* Writes root/noise/ and root/media/noise/. 0, or -1 + avm_fail naming the file. */
int synth_noisedir_write(const char *root, const synth_params *p, const synth_noisedir_spec *s);
#endif
