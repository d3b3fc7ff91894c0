/* Noise for the synthetic corpus: babble (a sum of other synthetic talkers) and
 * stationary coloured noise, mixed into speech at a stated SNR. */
#ifndef AVMASK_SYNTH_NOISE_H
#define AVMASK_SYNTH_NOISE_H
#include "common/rng.h"

typedef enum { NOISE_BABBLE, NOISE_STATIONARY } synth_noise_kind;

/* A pool of babble source signals (speech of other talkers), owned by the caller. */
typedef struct {
    float **sig;
    int *len;
    int n;
} synth_babble;

/* Adds a copy of one talker's speech to the pool. */
void synth_babble_add(synth_babble *b, const float *pcm, int n);
void synth_babble_free(synth_babble *b);
const char *synth_noise_name(synth_noise_kind k);   /* "babble", "stationary" */

/* Babble for clips longer than a sentence: out[n] = the sum of `talkers` streams, each
 * a random sequence of pool signals back to back (starting at a random offset into
 * the first) at a random gain in [0.5, 1.5), so no stream loops one sentence.
 * used[b->n] (if not NULL) counts how often each pool signal was used.
 * -1 + avm_fail on an empty pool. */
int synth_babble_stream(const synth_babble *b, avm_rng *r, int talkers, float *out, int n, int *used);

/* Fills out[n] with noise of the given kind (babble: 3-5 pool talkers at random
 * offsets, looped; stationary: low-passed Gaussian noise of random colour).
 * -1 + avm_fail if babble is asked for with an empty pool. */
int synth_noise_make(synth_noise_kind kind, const synth_babble *b, avm_rng *r, float *out, int n);

/* Fills out[n] with room tone at unit mean power: rumble (Gaussian noise through a
 * one-pole low-pass with a cut-off drawn in [50, 300] Hz) plus microphone hiss (white,
 * 10-20 dB below the rumble). Added under every utterance so that pauses are not
 * digital silence. */
void synth_floor_make(avm_rng *r, int rate, float *out, int n);

/* Mean power of x[a..b). */
double synth_power(const float *x, int a, int b);

/* out = speech + g * noise with g chosen so that speech_power (the power of the
 * speech alone over its active part [a, b), without any noise floor in speech[]) is
 * snr_db above the power of g * noise over the same part; then everything is scaled
 * down if needed so no sample exceeds 0.99. */
void synth_mix(const float *speech, const float *noise, int n, int a, int b, double speech_power,
               double snr_db, float *out);
#endif
