/* flite -> PCM + phone segments. The voices are linked in (libflite_cmu_us_*), registered
 * when first used; their features (int_f0_target_mean, duration_stretch) and libc's rand()
 * (clustergen's excitation noise) are set before every utterance, since a voice keeps what
 * the last speaker set and rand() what the last utterance drew. */
#include "data/synth/synth_flite.h"
#include "data/synth/synth_phones.h"
#include "common/util.h"
#include <flite/flite.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The voice libraries export these but no header declares them. */
cst_voice *register_cmu_us_kal(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);
void unregister_cmu_us_kal(cst_voice *v);
void unregister_cmu_us_kal16(cst_voice *v);
void unregister_cmu_us_awb(cst_voice *v);
void unregister_cmu_us_rms(cst_voice *v);
void unregister_cmu_us_slt(cst_voice *v);

/* f0: the voice's mean pitch in Hz (kal's int_f0_target_mean; measured on the others,
 * whose clustergen models hold it): a speaker's pitch is a multiple of it. */
static const struct {
    const char *name;
    cst_voice *(*reg)(const char *);
    void (*unreg)(cst_voice *);
    double f0;
} table[SYNTH_FLITE_NVOICES] = {
    {"kal", register_cmu_us_kal, unregister_cmu_us_kal, 95},
    {"kal16", register_cmu_us_kal16, unregister_cmu_us_kal16, 95},
    {"awb", register_cmu_us_awb, unregister_cmu_us_awb, 130},
    {"rms", register_cmu_us_rms, unregister_cmu_us_rms, 102},
    {"slt", register_cmu_us_slt, unregister_cmu_us_slt, 174},
};
static cst_voice *voices[SYNTH_FLITE_NVOICES];
static int initialised;

const char *synth_flite_name(int i) { return i >= 0 && i < SYNTH_FLITE_NVOICES ? table[i].name : "?"; }

static int find(const char *name) {
    for (int i = 0; i < SYNTH_FLITE_NVOICES; i++)
        if (!strcmp(table[i].name, name)) return i;
    return -1;
}

int synth_flite_check(const char *name) {
    if (find(name) >= 0) return 0;
    return avm_fail("unknown flite voice '%s' (flite has kal, kal16, awb, rms, slt)", name);
}

static cst_voice *voice(int i) {
    if (!initialised) {
        flite_init();
        initialised = 1;
    }
    if (!voices[i]) voices[i] = table[i].reg(NULL);
    return voices[i];
}

/* Segment relation -> phones; times in seconds of the resampled audio. */
static int segments(cst_utterance *u, double speed, const char *text, synth_audio *out) {
    int n = 0;
    for (cst_item *it = relation_head(utt_relation(u, "Segment")); it; it = item_next(it)) n++;
    out->seg = xmalloc((size_t)(n + 1) * sizeof *out->seg);
    double start = 0, dur = (double)out->n / out->rate;
    for (cst_item *it = relation_head(utt_relation(u, "Segment")); it; it = item_next(it)) {
        const char *name = item_feat_string(it, "name");
        double end = item_feat_float(it, "end") / speed;
        if (end > dur) end = dur;
        if (end < start) end = start;
        int id = synth_phone_from_cmu(name);
        if (id == -2) return avm_fail("flite phone '%s' (in '%s') has no phone in the phone set", name, text);
        if (id != SYNTH_SIL) out->seg[out->nseg++] = (synth_seg){id, start, end};
        start = end;
    }
    return 0;
}

int synth_flite_speak(const synth_flite_voice *v, const char *text, int rate, synth_audio *out) {
    memset(out, 0, sizeof *out);
    int i = find(v->name);
    if (i < 0) return synth_flite_check(v->name);
    if (!(v->pitch > 0 && v->stretch > 0 && v->speed > 0))
        return avm_fail("flite voice %s: pitch, stretch and speed must be positive", v->name);
    cst_voice *vx = voice(i);
    if (!vx) return avm_fail("flite: cannot load voice %s", v->name);
    flite_feat_set_float(vx->features, "int_f0_target_mean", (float)(table[i].f0 * v->pitch));
    flite_feat_set_float(vx->features, "duration_stretch", (float)v->stretch);
    srand(v->seed);
    cst_utterance *u = flite_synth_text(text, vx);
    cst_wave *w = u ? utt_wave(u) : NULL;
    if (!w || w->num_samples <= 0 || w->num_channels != 1) {
        if (u) delete_utterance(u);
        return avm_fail("flite: no audio for '%s' (voice %s)", text, v->name);
    }
    int from = (int)lround(w->sample_rate * v->speed), rc;
    rc = synth_resample(w->samples, w->num_samples, from, rate, &out->pcm, &out->n);
    out->rate = rate;
    if (rc == 0) rc = segments(u, v->speed, text, out);
    delete_utterance(u);
    if (rc) synth_audio_free(out);
    return rc;
}

void synth_flite_close(void) {
    for (int i = 0; i < SYNTH_FLITE_NVOICES; i++)
        if (voices[i]) table[i].unreg(voices[i]);
    memset(voices, 0, sizeof voices);
}
