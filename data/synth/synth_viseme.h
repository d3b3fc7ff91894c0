/* Visemes: what the lips, teeth and tongue look like for each phone, and the mouth
 * trajectory over an utterance with coarticulation (targets smoothed over time). */
#ifndef AVMASK_SYNTH_VISEME_H
#define AVMASK_SYNTH_VISEME_H
#include "data/synth/synth_speech.h"

typedef struct {
    float open;     /* jaw/lip opening, 0 closed .. 1 widest */
    float width;    /* lip spread, 0 narrow .. 1 wide */
    float round;    /* lip rounding/protrusion, 0 .. 1 */
    float teeth;    /* upper teeth visible, 0 .. 1 (1 with open ~0: teeth on lower lip) */
    float tongue;   /* tongue tip visible, 0 .. 1 */
} synth_mouth;

/* Target mouth shape of a phone id (SYNTH_SIL: relaxed, closed). For diphthongs
 * `end` selects the target of the second half. */
synth_mouth synth_viseme(int phone, int end);

/* Mouth shape at the centre of each of nframes video frames at fps, for phone
 * segments seg (times in seconds) and rest elsewhere. Targets are sampled every
 * 5 ms and smoothed by a Gaussian with sigma_ms (coarticulation). */
void synth_mouth_track(const synth_seg *seg, int nseg, int nframes, double fps, double sigma_ms,
                       synth_mouth *out);
#endif
