/* Speech for the synthetic corpus from libespeak-ng (synchronous mode, phoneme
 * events), resampled to the corpus rate with libswresample. Every phone comes with
 * its start and end time. espeak-ng is not thread-safe: call from one thread. */
#ifndef AVMASK_SYNTH_SPEECH_H
#define AVMASK_SYNTH_SPEECH_H

typedef struct {
    char accent[32];     /* espeak-ng voice name, e.g. "en-us", "en-gb-scotland" */
    char variant[32];    /* voice variant, e.g. "f2", "m3" ("" for none) */
    int pitch, range;    /* 0..100 (espeak-ng's base pitch and pitch range) */
    int rate;            /* words per minute */
    int wordgap;         /* extra pause between words, units of 10 ms */
} synth_voice;

typedef struct {
    int phone;           /* id in data/synth/synth_phones.h */
    double start, end;   /* seconds from the start of the returned audio */
} synth_seg;

typedef struct {
    float *pcm;          /* mono, [-1, 1] */
    int n, rate;
    synth_seg *seg;      /* phones in order, pauses removed */
    int nseg;
} synth_audio;

/* Initialises espeak-ng once per process. 0, or -1 + avm_fail. */
int synth_speech_init(void);
/* 0 if espeak-ng knows the accent and the variant (variant may be ""); otherwise
 * -1 + avm_fail("unknown voice ..."). */
int synth_voice_check(const char *accent, const char *variant);
/* Speaks text with voice v at sample rate `rate`. 0, or -1 + avm_fail. */
int synth_speak(const synth_voice *v, const char *text, int rate, synth_audio *out);
void synth_audio_free(synth_audio *a);
/* Resamples n s16 samples at from_rate to float at to_rate (libswresample; also for
 * flite). Declaring a from_rate other than the true one changes speed and pitch
 * together. 0, or -1 + avm_fail. */
int synth_resample(const short *in, int n, int from_rate, int to_rate, float **out, int *nout);
/* Releases espeak-ng and the collection buffers. */
void synth_speech_close(void);
#endif
