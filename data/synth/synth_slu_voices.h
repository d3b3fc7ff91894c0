/* Speakers of the spoken-command corpus. Five voice families: "espeak" (espeak-ng
 * accents x variants, as in the audio-visual corpus) and the four real speakers behind
 * flite's voices, "kal" (voices kal at 8 kHz and kal16), "awb", "rms" and "slt". A speaker
 * is a family's voice with its own pitch, rate and level (espeak: synth_speaker_make;
 * flite: synth_flite.h). Its parameters are drawn from (seed, family, number) alone. */
#ifndef AVMASK_SYNTH_SLU_VOICES_H
#define AVMASK_SYNTH_SLU_VOICES_H
#include "common/strbuf.h"
#include "data/synth/synth_flite.h"
#include "data/synth/synth_utt.h"

enum { SLU_ESPEAK, SLU_KAL, SLU_AWB, SLU_RMS, SLU_SLT, SLU_NFAMILIES };

typedef struct {
    char id[24];           /* "awb-003" */
    int family, k;         /* speaker k (from 0) of the family */
    int rng_spk;           /* speaker number of its generators: family * 1000 + k */
    synth_voice es;        /* family SLU_ESPEAK */
    synth_flite_voice fl;  /* the others */
    float gain;            /* speech level relative to the corpus target */
} slu_speaker;

const char *slu_family_name(int family);   /* "espeak", "kal", ... */
int slu_family_id(const char *name);       /* -1 if none */

/* Speaker k of a family; espeak speakers take the given accent and variant. */
void slu_speaker_make(const synth_params *p, int family, int k, const char *accent, const char *variant,
                      slu_speaker *s);
/* Speaks text at sample rate `rate`; seed: flite's excitation noise. 0, or -1 + avm_fail. */
int slu_speak(const slu_speaker *s, const char *text, int rate, unsigned seed, synth_audio *a);
/* Appends "family=F voice=V" and the voice's parameters as key=value pairs. */
void slu_speaker_describe(const slu_speaker *s, avm_strbuf *b);
#endif
