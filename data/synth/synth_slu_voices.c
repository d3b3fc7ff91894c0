#include "data/synth/synth_slu_voices.h"
#include <string.h>

static const char *const families[SLU_NFAMILIES] = {"espeak", "kal", "awb", "rms", "slt"};

const char *slu_family_name(int family) {
    return family >= 0 && family < SLU_NFAMILIES ? families[family] : "?";
}

int slu_family_id(const char *name) {
    for (int i = 0; i < SLU_NFAMILIES; i++)
        if (!strcmp(families[i], name)) return i;
    return -1;
}

static double unif(avm_rng *r, double lo, double hi) { return lo + (hi - lo) * rng_uniform(r); }

void slu_speaker_make(const synth_params *p, int family, int k, const char *accent, const char *variant,
                      slu_speaker *s) {
    memset(s, 0, sizeof *s);
    s->family = family;
    s->k = k;
    s->rng_spk = family * 1000 + k;
    snprintf(s->id, sizeof s->id, "%s-%03d", families[family], k + 1);
    if (family == SLU_ESPEAK) {
        synth_speaker sp;
        synth_speaker_make(p, s->rng_spk, accent, variant, &sp);
        s->es = sp.voice;
        s->gain = sp.gain;
        return;
    }
    avm_rng r;
    synth_rng(&r, p, (uint64_t)s->rng_spk, 0xFFFFFF, 0);
    /* kal's family is one man recorded twice: 8 kHz (telephone band) and 16 kHz diphones */
    const char *name = family == SLU_KAL ? (rng_below(&r, 2) ? "kal16" : "kal") : families[family];
    snprintf(s->fl.name, sizeof s->fl.name, "%s", name);
    s->fl.pitch = unif(&r, 0.85, 1.2);
    s->fl.stretch = unif(&r, 0.85, 1.2);
    s->fl.speed = unif(&r, 0.93, 1.07);
    s->gain = (float)unif(&r, 0.7, 1.2);
}

int slu_speak(const slu_speaker *s, const char *text, int rate, unsigned seed, synth_audio *a) {
    if (s->family == SLU_ESPEAK) return synth_speak(&s->es, text, rate, a);
    synth_flite_voice v = s->fl;
    v.seed = seed;
    return synth_flite_speak(&v, text, rate, a);
}

void slu_speaker_describe(const slu_speaker *s, avm_strbuf *b) {
    const synth_voice *v = &s->es;
    if (s->family == SLU_ESPEAK)
        sb_printf(b, "family=espeak voice=%s%s%s pitch=%d range=%d rate=%d wordgap=%d", v->accent,
                  v->variant[0] ? "+" : "", v->variant, v->pitch, v->range, v->rate, v->wordgap);
    else
        sb_printf(b, "family=%s voice=%s pitch=%.3f stretch=%.3f speed=%.3f", families[s->family], s->fl.name,
                  s->fl.pitch, s->fl.stretch, s->fl.speed);
}
