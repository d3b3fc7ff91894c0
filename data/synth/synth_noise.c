/* Babble is several talkers at once: its spectrum and modulation are speech-like,
 * which makes it the hardest noise for ASR and the one where lips help most.
 * Stationary noise is Gaussian noise through a one-pole low-pass whose pole sets
 * the colour (white to brown-ish), plus a little white floor. */
#include "data/synth/synth_noise.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void synth_babble_add(synth_babble *b, const float *pcm, int n) {
    b->sig = xrealloc(b->sig, (size_t)(b->n + 1) * sizeof *b->sig);
    b->len = xrealloc(b->len, (size_t)(b->n + 1) * sizeof *b->len);
    b->sig[b->n] = xmalloc((size_t)n * sizeof(float));
    memcpy(b->sig[b->n], pcm, (size_t)n * sizeof(float));
    b->len[b->n++] = n;
}

void synth_babble_free(synth_babble *b) {
    for (int i = 0; i < b->n; i++) free(b->sig[i]);
    free(b->sig);
    free(b->len);
    memset(b, 0, sizeof *b);
}

const char *synth_noise_name(synth_noise_kind k) { return k == NOISE_BABBLE ? "babble" : "stationary"; }

int synth_babble_stream(const synth_babble *b, avm_rng *r, int talkers, float *out, int n, int *used) {
    memset(out, 0, (size_t)n * sizeof *out);
    if (b->n == 0) return avm_fail("babble noise: no talkers in the pool");
    for (int t = 0; t < talkers; t++) {
        float g = (float)(0.5 + rng_uniform(r));
        int k = (int)rng_below(r, (uint32_t)b->n), off = (int)rng_below(r, (uint32_t)b->len[k]);
        for (int pos = 0; pos < n; off = 0, k = (int)rng_below(r, (uint32_t)b->n)) {
            if (used) used[k]++;
            for (int i = off; i < b->len[k] && pos < n; i++) out[pos++] += g * b->sig[k][i];
        }
    }
    return 0;
}

double synth_power(const float *x, int a, int b) {
    double s = 0;
    for (int i = a; i < b; i++) s += (double)x[i] * x[i];
    return b > a ? s / (b - a) : 0;
}

int synth_noise_make(synth_noise_kind kind, const synth_babble *b, avm_rng *r, float *out, int n) {
    memset(out, 0, (size_t)n * sizeof *out);
    if (kind == NOISE_BABBLE) {
        if (b->n == 0) return avm_fail("babble noise: no talkers in the pool");
        int talkers = 3 + (int)rng_below(r, 3);
        for (int t = 0; t < talkers; t++) {
            int k = (int)rng_below(r, (uint32_t)b->n), len = b->len[k];
            int off = (int)rng_below(r, (uint32_t)len);
            float g = (float)(0.5 + rng_uniform(r));
            for (int i = 0; i < n; i++) out[i] += g * b->sig[k][(off + i) % len];
        }
        return 0;
    }
    double pole = 0.3 + 0.65 * rng_uniform(r), floor_ = 0.05 + 0.1 * rng_uniform(r), y = 0;
    for (int i = 0; i < n; i++) {
        y = pole * y + (1 - pole) * rng_normal(r);
        out[i] = (float)(y + floor_ * rng_normal(r));
    }
    return 0;
}

void synth_floor_make(avm_rng *r, int rate, float *out, int n) {
    double fc = 50 + 250 * rng_uniform(r), pole = exp(-2 * M_PI * fc / rate);
    double hiss = pow(10, -(10 + 10 * rng_uniform(r)) / 20);
    /* the low-pass output has variance (1-pole)/(1+pole): rescale it to 1 */
    double unit = sqrt((1 + pole) / (1 - pole)), y = 0;
    for (int i = 0; i < n; i++) {
        y = pole * y + (1 - pole) * rng_normal(r);
        out[i] = (float)(y * unit + hiss * rng_normal(r));
    }
    double pw = synth_power(out, 0, n);
    for (int i = 0; i < n && pw > 0; i++) out[i] *= (float)(1 / sqrt(pw));
}

void synth_mix(const float *speech, const float *noise, int n, int a, int b, double ps, double snr_db,
               float *out) {
    double pn = synth_power(noise, a, b);
    double g = pn > 0 ? sqrt(ps / (pn * pow(10, snr_db / 10))) : 0;
    float peak = 0;
    for (int i = 0; i < n; i++) {
        out[i] = speech[i] + (float)g * noise[i];
        if (fabsf(out[i]) > peak) peak = fabsf(out[i]);
    }
    if (peak > 0.99f)
        for (int i = 0; i < n; i++) out[i] *= 0.99f / peak;
}
