/* Speech from flite (libflite, Debian flite1-dev): its five US English voices, each
 * built from the recordings of one real speaker: kal (diphones, 8 kHz), kal16 (the same
 * speaker's diphones at 16 kHz), awb (Scottish English, male), rms (US male) and slt (US
 * female), the last three clustergen (statistical parametric) voices. One voice becomes
 * many speakers by its pitch (kal, kal16, awb, slt; rms ignores the setting), its
 * speaking rate, and a speed factor applied by resampling (formants, pitch and rate move
 * together, like Kaldi's speed perturbation). The clustergen voices draw their excitation
 * noise from libc's rand(), reseeded before every utterance so that an utterance does not
 * depend on what was spoken before. flite is not thread-safe: one thread. */
#ifndef AVMASK_SYNTH_FLITE_H
#define AVMASK_SYNTH_FLITE_H
#include "data/synth/synth_speech.h"

#define SYNTH_FLITE_NVOICES 5

typedef struct {
    char name[16];       /* kal, kal16, awb, rms, slt */
    double pitch;        /* mean F0 as a multiple of the voice's own */
    double stretch;      /* durations x stretch (> 1: slower) */
    double speed;        /* resampling factor (> 1: faster, higher, shorter vocal tract) */
    unsigned seed;       /* of the excitation noise (srand) */
} synth_flite_voice;

/* Name of voice i in [0, SYNTH_FLITE_NVOICES). */
const char *synth_flite_name(int i);
/* 0 if flite has the voice; otherwise -1 + avm_fail("unknown flite voice ..."). */
int synth_flite_check(const char *name);
/* Speaks text at sample rate `rate`, with phone segments (flite's segment times, mapped
 * onto the 39-phone set; pauses removed). 0, or -1 + avm_fail. */
int synth_flite_speak(const synth_flite_voice *v, const char *text, int rate, synth_audio *out);
/* Unregisters the voices. */
void synth_flite_close(void);
#endif
