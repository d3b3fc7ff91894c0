/* The phone set of the synthetic corpus (39 ARPAbet phones, lower case, no stress,
 * as in the CMU dictionary / TIMIT-39 folding) and the mapping from espeak-ng's
 * English phoneme mnemonics to it. Downstream CTC uses exactly this set. */
#ifndef AVMASK_SYNTH_PHONES_H
#define AVMASK_SYNTH_PHONES_H

#define SYNTH_NPHONES 39
#define SYNTH_SIL (-1)   /* pauses: no phone */

/* Phone name of id in [0, SYNTH_NPHONES). */
const char *synth_phone_name(int id);
/* Id of a phone name, or -1. */
int synth_phone_id(const char *name);
/* Maps an espeak-ng mnemonic ("aI", "t#", "_:" ...) to a phone id, SYNTH_SIL for
 * pauses, or -2 if unknown. */
int synth_phone_from_espeak(const char *mnemonic);
/* Maps a flite (CMU dictionary) phone name ("ax", "pau" ...) likewise. */
int synth_phone_from_cmu(const char *name);
#endif
