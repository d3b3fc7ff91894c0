/* Speaker profiles and utterance generation: speech (espeak-ng), pause padding,
 * level normalisation, the noise floor, mouth trajectory and rendered frames. */
#include "data/synth/synth_utt.h"
#include "data/synth/synth_text.h"
#include "data/synth/synth_viseme.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_RMS 0.08   /* speech level over the active part, about -22 dBFS */

static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }
static int lcm(int a, int b) { return a / gcd(a, b) * b; }

void synth_rng(avm_rng *r, const synth_params *p, uint64_t spk, uint64_t utt, uint64_t purpose) {
    rng_seed(r, p->seed, ((spk + 1) << 40) ^ (utt << 8) ^ purpose);
}

void synth_speaker_make(const synth_params *p, int spk, const char *accent, const char *variant,
                        synth_speaker *s) {
    avm_rng r;
    synth_rng(&r, p, (uint64_t)spk, 0xFFFFFF, 0);
    memset(s, 0, sizeof *s);
    snprintf(s->voice.accent, sizeof s->voice.accent, "%s", accent);
    snprintf(s->voice.variant, sizeof s->voice.variant, "%s", variant);
    s->voice.pitch = 30 + (int)rng_below(&r, 41);
    s->voice.range = 30 + (int)rng_below(&r, 51);
    s->voice.rate = 145 + (int)rng_below(&r, 51);
    s->voice.wordgap = (int)rng_below(&r, 3);
    s->gain = (float)(0.7 + 0.5 * rng_uniform(&r));
    synth_face_random(&r, p->size, &s->face);
}

/* Room tone under the whole utterance (pauses included), drawn per utterance at
 * SYNTH_FLOOR_DB_MIN..MAX below the active-speech power: real recordings are never
 * digitally silent, and a pause at the log floor would make "talking or not" most of
 * a masked-prediction target's variance. */
static void add_floor(const synth_params *p, int spk, int utt, synth_utt *u) {
    avm_rng r;
    synth_rng(&r, p, (uint64_t)spk, (uint64_t)utt, SYNTH_RNG_FLOOR);
    u->floor_db = SYNTH_FLOOR_DB_MIN + (SYNTH_FLOOR_DB_MAX - SYNTH_FLOOR_DB_MIN) * rng_uniform(&r);
    float *fl = xmalloc((size_t)u->nsamples * sizeof *fl);
    synth_floor_make(&r, p->rate, fl, u->nsamples);
    float g = (float)sqrt(u->speech_power * pow(10, -u->floor_db / 10));
    for (int i = 0; i < u->nsamples; i++) u->pcm[i] += g * fl[i];
    free(fl);
}

void synth_utt_audio(const synth_params *p, float gain, int spk, int utt, int unit, synth_audio *a, synth_utt *u) {
    avm_rng r;
    /* silence before and after */
    synth_rng(&r, p, (uint64_t)spk, (uint64_t)utt, SYNTH_RNG_PADS);
    int lead = (int)((0.10 + 0.25 * rng_uniform(&r)) * p->rate);
    int tail = (int)((0.10 + 0.25 * rng_uniform(&r)) * p->rate);
    u->nsamples = (lead + a->n + tail + unit - 1) / unit * unit;
    u->pcm = xcalloc((size_t)u->nsamples, sizeof *u->pcm);
    memcpy(u->pcm + lead, a->pcm, (size_t)a->n * sizeof *a->pcm);
    u->seg = a->seg;
    u->nseg = a->nseg;
    a->seg = NULL;
    double off = (double)lead / p->rate;
    for (int i = 0; i < u->nseg; i++) { u->seg[i].start += off; u->seg[i].end += off; }
    synth_audio_free(a);
    u->active[0] = u->nseg ? (int)(u->seg[0].start * p->rate) : 0;
    u->active[1] = u->nseg ? (int)ceil(u->seg[u->nseg - 1].end * p->rate) : u->nsamples;
    if (u->active[1] > u->nsamples) u->active[1] = u->nsamples;
    if (u->active[1] <= u->active[0]) { u->active[0] = 0; u->active[1] = u->nsamples; }
    double rms = sqrt(synth_power(u->pcm, u->active[0], u->active[1]));
    float g = rms > 0 ? (float)(TARGET_RMS * gain / rms) : 1, peak = 0;
    for (int i = 0; i < u->nsamples; i++) peak = fmaxf(peak, fabsf(u->pcm[i] *= g));
    if (peak > 0.9f)
        for (int i = 0; i < u->nsamples; i++) u->pcm[i] *= 0.9f / peak;
    u->speech_power = synth_power(u->pcm, u->active[0], u->active[1]);
    add_floor(p, spk, utt, u);
}

int synth_utt_make(const synth_params *p, const synth_speaker *s, int spk, int utt, synth_utt *u) {
    memset(u, 0, sizeof *u);
    avm_rng r;
    synth_rng(&r, p, (uint64_t)spk, (uint64_t)utt, SYNTH_RNG_TEXT);
    avm_strbuf text = {0};
    synth_sentence(&r, &text);
    u->text = text.s;
    synth_audio a;
    if (synth_speak(&s->voice, u->text, p->rate, &a)) {
        avm_fail("%s-u%04d: %s", s->id, utt + 1, avm_error());
        synth_utt_free(u);
        return -1;
    }
    /* AAC codes 1024-sample frames and decoders keep the padding of the last one, so
     * the length is also a whole number of AAC frames: decoded audio and video then
     * last exactly as long */
    int spf = p->rate / p->fps;
    synth_utt_audio(p, s->gain, spk, utt, lcm(spf, 1024), &a, u);
    u->nframes = u->nsamples / spf;
    /* video */
    synth_mouth *mouth = xmalloc((size_t)u->nframes * sizeof *mouth);
    synth_pose *pose = xmalloc((size_t)u->nframes * sizeof *pose);
    synth_mouth_track(u->seg, u->nseg, u->nframes, p->fps, p->coartic_ms, mouth);
    synth_rng(&r, p, (uint64_t)spk, (uint64_t)utt, SYNTH_RNG_POSE);
    synth_face_poses(&s->face, &r, u->nframes, p->fps, pose);
    size_t fsz = (size_t)p->size * p->size * 3 / 2, plane = (size_t)p->size * p->size;
    u->yuv = xmalloc(fsz * u->nframes);
    for (int f = 0; f < u->nframes; f++) {
        uint8_t *y = u->yuv + fsz * f;
        synth_face_render(&s->face, &pose[f], &mouth[f], y, y + plane, y + plane + plane / 4);
    }
    free(mouth);
    free(pose);
    snprintf(u->id, sizeof u->id, "%s-u%04d", s->id, utt + 1);
    return 0;
}

int synth_utt_mix(const synth_utt *u, synth_noise_kind kind, const synth_babble *b, avm_rng *r, double snr,
                  float **out) {
    float *noise = xmalloc((size_t)u->nsamples * sizeof *noise);
    *out = NULL;
    if (synth_noise_make(kind, b, r, noise, u->nsamples)) { free(noise); return -1; }
    *out = xmalloc((size_t)u->nsamples * sizeof **out);
    synth_mix(u->pcm, noise, u->nsamples, u->active[0], u->active[1], u->speech_power, snr, *out);
    free(noise);
    return 0;
}

void synth_train_snr(avm_rng *r, double train_clean, int *clean, double *snr) {
    *clean = rng_uniform(r) < train_clean;
    *snr = round(200 * rng_uniform(r)) / 10;
}

int synth_babble_talkers(const synth_params *p, char *const *accent, int nacc, char *const *variant, int nvar,
                         synth_babble *b) {
    for (int t = 0; t < 8; t++) {
        avm_rng r;
        synth_rng(&r, p, 100000 + (uint64_t)t, 0, 2);
        synth_speaker s;
        synth_speaker_make(p, 100000 + t, accent[rng_below(&r, (uint32_t)nacc)], variant[rng_below(&r, (uint32_t)nvar)],
                           &s);
        avm_strbuf text = {0};
        synth_sentence(&r, &text);
        synth_audio a;
        int rc = synth_speak(&s.voice, text.s, p->rate, &a);
        sb_free(&text);
        if (rc) return avm_fail("babble noise: %s", avm_error());
        double rms = sqrt(synth_power(a.pcm, 0, a.n));
        for (int i = 0; i < a.n; i++) a.pcm[i] *= rms > 0 ? (float)(TARGET_RMS / rms) : 1;
        synth_babble_add(b, a.pcm, a.n);
        synth_audio_free(&a);
    }
    return 0;
}

void synth_utt_free(synth_utt *u) {
    free(u->text);
    free(u->pcm);
    free(u->seg);
    free(u->yuv);
    memset(u, 0, sizeof *u);
}
