/* One utterance of the synthetic corpus: a speaker profile (voice + face), the
 * sentence, the speech with phone timings, the rendered video, and noisy versions
 * of the audio. Everything is drawn from generators seeded by (seed, speaker,
 * utterance, purpose), so an utterance does not depend on the generation order. */
#ifndef AVMASK_SYNTH_UTT_H
#define AVMASK_SYNTH_UTT_H
#include <stdint.h>
#include "common/rng.h"
#include "data/synth/synth_face.h"
#include "data/synth/synth_noise.h"
#include "data/synth/synth_speech.h"

typedef struct {
    uint64_t seed;
    int size, fps, rate, crf;
    double coartic_ms;     /* sigma of the coarticulation smoothing */
} synth_params;

typedef struct {
    char id[24];           /* "spk007" */
    synth_voice voice;
    synth_face face;
    float gain;            /* speech level relative to the corpus target */
} synth_speaker;

typedef struct {
    char id[48];           /* "spk007-u0012" */
    char *text;            /* words */
    float *pcm;            /* clean speech with leading/trailing pauses, over a noise floor */
    int nsamples;
    int active[2];         /* sample range from the first phone's start to the last phone's end */
    double speech_power;   /* mean power of the speech alone over active (SNRs are measured against it) */
    double floor_db;       /* level of the noise floor in pcm, dB below speech_power */
    synth_seg *seg;        /* phones, times in seconds from the start of pcm */
    int nseg;
    uint8_t *yuv;          /* nframes YUV 4:2:0 frames */
    int nframes;
} synth_utt;

/* Purposes of the per-utterance generators (rng stream = speaker, utterance, purpose). */
enum { SYNTH_RNG_TEXT = 1, SYNTH_RNG_PADS, SYNTH_RNG_POSE, SYNTH_RNG_COND, SYNTH_RNG_FLOOR,
       SYNTH_RNG_NOISE_CLIP /* noise/ clips: speaker 0xFFFFFE, utterance = clip */, SYNTH_RNG_NOISE = 16 };

/* The room-tone + microphone noise floor under every utterance, dB below the
 * active-speech power: drawn uniformly per utterance (data/synth/README.md says why). */
#define SYNTH_FLOOR_DB_MIN 45.0
#define SYNTH_FLOOR_DB_MAX 60.0
void synth_rng(avm_rng *r, const synth_params *p, uint64_t spk, uint64_t utt, uint64_t purpose);

/* Speaker number spk with the given voice (accent, variant): random pitch, range,
 * rate, word gap, level and face. */
void synth_speaker_make(const synth_params *p, int spk, const char *accent, const char *variant,
                        synth_speaker *s);

/* Utterance number utt of speaker s: speech at the speaker's level plus the noise
 * floor (synth_floor_make). 0, or -1 + avm_fail naming the utterance. */
int synth_utt_make(const synth_params *p, const synth_speaker *s, int spk, int utt, synth_utt *u);
void synth_utt_free(synth_utt *u);

/* The audio of utterance utt of speaker spk from synthesised speech a (taken over and
 * emptied): pauses of 0.10-0.35 s before and after (SYNTH_RNG_PADS), the length rounded
 * up to a multiple of `unit` samples, the speech at the corpus level times `gain` over its
 * active part (first phone start to last phone end), then the noise floor. Fills pcm,
 * nsamples, active, speech_power, floor_db, seg and nseg of u. */
void synth_utt_audio(const synth_params *p, float gain, int spk, int utt, int unit, synth_audio *a, synth_utt *u);

/* u's audio mixed with noise of `kind` (drawn from r) at snr dB over its active speech
 * (synth_mix): a fresh buffer of u->nsamples in *out. 0, or -1 + avm_fail (babble from an
 * empty pool). */
int synth_utt_mix(const synth_utt *u, synth_noise_kind kind, const synth_babble *b, avm_rng *r, double snr,
                  float **out);

/* The condition of a training or dev utterance: clean with probability train_clean,
 * else an SNR uniform in [0, 20] dB in steps of 0.1 dB. */
void synth_train_snr(avm_rng *r, double train_clean, int *clean, double *snr);

/* Babble talkers: 8 espeak-ng voices of people outside the corpus (speaker numbers
 * 100000 + t, accent and variant drawn from the lists), one synth_sentence each,
 * levelled to the speech target, added to b. 0, or -1 + avm_fail. */
int synth_babble_talkers(const synth_params *p, char *const *accent, int nacc, char *const *variant, int nvar,
                         synth_babble *b);
#endif
