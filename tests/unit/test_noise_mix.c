/* train/noise*.c: mixing noise into log-mel features.
 * 1. The approximation: fbank(speech + sqrt(g) * noise) by the project's fbank against the
 *    feature-domain mix log(exp(fbank(speech)) + g * exp(fbank(noise))) at the gain
 *    noise_gain picks, for two speech signals (synthetic harmonic bursts with formants and
 *    pauses; real speech from pocketsphinx-testdata) and three noises (white, low-passed,
 *    babble of two other utterances) at -5, 0, 10, 20 dB. Prints the mean absolute log-mel
 *    difference and the SNR realised by both mixes; asserts bounds (see the constants).
 * 2. The batch mixer on small feature dirs (tests/tools/train_mkfeats): same key, same mix;
 *    samples not drawn are bitwise the clean input; a drawn sample is the clean one mixed
 *    with the looped noise segment of its pick at its SNR; MPI rank slices mix like one
 *    process; prob 0 changes nothing; mismatched noise features are refused in one line. */
#include "check.h"
#include "common/rng.h"
#include "common/util.h"
#include "data/fbank.h"
#include "train/noise.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RATE 16000
#define NS 64000   /* 4 s */
#define SPEECH_DIR "/usr/share/pocketsphinx/test/data"   /* pocketsphinx-testdata, raw s16le 16 kHz */
/* Bounds on the measured figures (printed by the test; train/README.md quotes them):
 * mean |fbank(waveform mix) - feature mix| was 0.12-0.25 nats over -5..20 dB, 2 speech x
 * 3 noise kinds (largest where few FFT bins fall in a mel bin and speech and noise are
 * comparable there: the cross term does not average out). The bound leaves some room;
 * the error must also stay below a fifth of how far the noise moves the features at
 * <= 0 dB (a wrong gain or mix fails that), and below the difference between two waveform
 * mixes with independent draws of the same stationary noise (the feature mix is as good a
 * noisy version as another draw of the noise would be). */
#define MAX_MEAN_ERR 0.3
#define MAX_SNR_ERR_DB 0.5

/* Harmonic bursts (f0 100-220 Hz gliding, two formants, 40 ms ramps) of 120-300 ms
 * separated by 80-250 ms of pause, over a faint background (a recording is never
 * digital silence), on the int16 scale. */
static void speech_like(float *x, int n, avm_rng *r) {
    for (int i = 0; i < n; i++) x[i] = (float)(3 * rng_normal(r));
    for (int t = (int)(0.1 * RATE); t < n;) {
        int len = (int)((0.12 + 0.18 * rng_uniform(r)) * RATE);
        double f0 = 100 + 120 * rng_uniform(r), glide = 0.3 * (rng_uniform(r) - 0.5);
        double f1 = 300 + 600 * rng_uniform(r), f2 = 900 + 1600 * rng_uniform(r), amp = 1500 + 3000 * rng_uniform(r);
        double ph[40] = {0};
        for (int i = 0; i < len && t + i < n; i++) {
            double u = (double)i / len, f = f0 * (1 + glide * u), ramp = fmin(1, fmin(i, len - i) / (0.04 * RATE));
            double v = 0;
            for (int k = 1; k < 40 && k * f < 7000; k++) {
                double h = k * f, env = exp(-pow((h - f1) / 150, 2)) + 0.6 * exp(-pow((h - f2) / 250, 2)) + 0.05;
                ph[k] += 2 * M_PI * h / RATE;
                v += env / k * sin(ph[k]);
            }
            x[t + i] += (float)(amp * ramp * v);
        }
        t += len + (int)((0.08 + 0.17 * rng_uniform(r)) * RATE);
    }
}

/* Gaussian noise, low-passed by a one-pole filter with coefficient a (0: white). */
static void coloured(float *x, int n, double a, avm_rng *r) {
    double y = 0;
    for (int i = 0; i < n; i++) {
        y = a * y + (1 - a) * rng_normal(r);
        x[i] = (float)(1000 * y);
    }
}

/* A raw s16le file of the speech test data, looped from offset `off` to fill n samples;
 * 0 if it is missing. */
static int read_raw(const char *name, float *x, int n, int off, int add) {
    char *p = xasprintf("%s/%s", SPEECH_DIR, name);
    size_t len;
    char *b = read_file(p, &len);
    free(p);
    if (!b) return 0;
    int m = (int)(len / 2);
    for (int i = 0; i < n; i++) {
        int16_t v;
        memcpy(&v, b + 2 * ((off + i) % m), 2);
        x[i] = (add ? x[i] : 0) + v;
    }
    free(b);
    return 1;
}

static double power_db_ratio(const float *num, const float *den_plus, const float *den_minus, size_t n) {
    double a = 0, b = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        a += exp(num[i]);
        b += exp(den_plus[i]);
        c += den_minus ? exp(den_minus[i]) : 0;
    }
    return 10 * log10(a / (b - c));
}

typedef struct { avm_fbank *fb; size_t n; float *x, *Fs, *Fn, *Fx, *Fx2, *M; } approx_ws;

/* mean |fbank(s + sqrt(g) * nz) - F| over the n values (s NULL: none; fbank left in Fx) */
static double wave_mix_err(approx_ws *w, const float *s, const float *nz, double g, const float *F, float *Fx) {
    double err = 0;
    for (int i = 0; i < NS; i++) w->x[i] = (s ? s[i] : 0) + (float)sqrt(g) * nz[i];
    fbank_compute(w->fb, w->x, NS, Fx);
    for (size_t i = 0; i < w->n; i++) err += fabs(Fx[i] - F[i]);
    return err / w->n;
}

/* One speech, one noise (nz2: another draw of it, or NULL), one SNR: the two mixes
 * compared, figures printed. */
static void approx_case(approx_ws *w, const float *s, const float *nz, const float *nz2, const char *what,
                        double snr) {
    size_t n = w->n;
    double g = noise_gain(w->Fs, w->Fn, n, snr), ps = 0, pn = 0, effect = 0, draws = NAN;
    noise_add_logmel(w->M, w->Fs, w->Fn, n, g);
    double err = wave_mix_err(w, s, nz, g, w->M, w->Fx);
    for (size_t i = 0; i < n; i++) effect += fabs(w->Fx[i] - w->Fs[i]);
    effect /= n;
    for (int i = 0; i < NS; i++) ps += (double)s[i] * s[i], pn += g * nz[i] * nz[i];
    double snr_feat = power_db_ratio(w->Fs, w->M, w->Fs, n), snr_wave = power_db_ratio(w->Fs, w->Fx, w->Fs, n);
    wave_mix_err(w, NULL, nz, g, w->M, w->Fx2);   /* fbank(sqrt(g) * noise): the scaled noise alone */
    double snr_scaled = power_db_ratio(w->Fs, w->Fx2, NULL, n);
    if (nz2) draws = wave_mix_err(w, s, nz2, g, w->Fx, w->Fx2);
    printf("%-26s %5.1f dB: mean |fbank(s+n) - mix| %.4f (another noise draw: %.4f; noise moves fbank by %.3f); "
           "realised snr: feature mix %.3f, fbank(scaled noise) %.3f, waveform mix by fbank %.3f; "
           "waveform power ratio %.2f dB\n",
           what, snr, err, draws, effect, snr_feat, snr_scaled, snr_wave, 10 * log10(ps / pn));
    CHECK_MSG(err < MAX_MEAN_ERR, "%s: mean error %.4f at %g dB", what, err, snr);
    if (nz2) CHECK_MSG(err < draws, "%s: error %.4f above another draw's %.4f", what, err, draws);
    if (snr <= 0) CHECK_MSG(err < 0.2 * effect, "%s: error %.4f not small against the effect %.4f", what, err, effect);
    CHECK_NEAR(snr_feat, snr, 0.01);
    CHECK_NEAR(snr_scaled, snr, 0.05);   /* g is a power gain: sqrt(g) on the waveform */
    /* In the waveform mix the noise power is fbank(s+n) - fbank(s), the small difference of
     * two large sums at high SNR, whose error the cross term dominates (0.8 dB seen at 20 dB) */
    if (snr <= 10) CHECK_NEAR(snr_wave, snr, MAX_SNR_ERR_DB);
}

static void approximation(void) {
    avm_fbank_opts o;
    fbank_default_opts(&o);
    approx_ws w = {fbank_new(&o), 0, NULL, NULL, NULL, NULL, NULL, NULL};
    w.n = (size_t)fbank_num_frames(w.fb, NS) * o.n_mels;
    w.x = xmalloc(sizeof(float) * NS);
    w.Fs = xmalloc(sizeof(float) * w.n); w.Fn = xmalloc(sizeof(float) * w.n);
    w.Fx = xmalloc(sizeof(float) * w.n); w.Fx2 = xmalloc(sizeof(float) * w.n); w.M = xmalloc(sizeof(float) * w.n);
    float *s = xmalloc(sizeof(float) * NS), *nz = xmalloc(sizeof(float) * NS), *nz2 = xmalloc(sizeof(float) * NS);
    static const double snrs[] = {-5, 0, 10, 20};
    static const char *const sname[] = {"synthetic speech", "numbers.raw"}, *const nname[] = {"white", "low-pass", "babble"};
    avm_rng r;
    rng_seed(&r, 11, 0);
    for (int sp = 0; sp < 2; sp++) {
        if (sp == 0) speech_like(s, NS, &r);
        else CHECK_MSG(read_raw("numbers.raw", s, NS, 0, 0), SPEECH_DIR "/numbers.raw missing (pocketsphinx-testdata)");
        fbank_compute(w.fb, s, NS, w.Fs);
        for (int k = 0; k < 3; k++) {
            if (k < 2) coloured(nz, NS, k ? 0.95 : 0, &r), coloured(nz2, NS, k ? 0.95 : 0, &r);
            else CHECK(read_raw("goforward.raw", nz, NS, 3000, 0) && read_raw("something.raw", nz, NS, 9000, 1));
            fbank_compute(w.fb, nz, NS, w.Fn);
            char what[64];
            snprintf(what, sizeof what, "%s + %s", sname[sp], nname[k]);
            for (int q = 0; q < 4; q++) approx_case(&w, s, nz, k < 2 ? nz2 : NULL, what, snrs[q]);
        }
    }
    fbank_free(w.fb);
    free(s); free(nz); free(nz2); free(w.x); free(w.Fs); free(w.Fn); free(w.Fx); free(w.Fx2); free(w.M);
}

static void mkfeats(const char *dir, const char *extra) {
    const char *b = getenv("AVMASK_BUILD") ? getenv("AVMASK_BUILD") : "build";
    char *cmd = xasprintf("%s/tools/train_mkfeats --out=%s %s", b, dir, extra);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    free(cmd);
}

/* The row a drawn sample should get: clean raw log-mel mixed with the looped segment. */
static void expected_row(const avm_noise *N, const avm_loader *L, const avm_noise_pick *p, const float *clean,
                         int len, float *want) {
    int nm = L->feats.n_mels, nf = N->feats.e[p->utt].a_frames, frames = len * L->feats.stack;
    float *utt = xmalloc(sizeof(float) * nf * nm), *seg = xmalloc(sizeof(float) * frames * nm);
    avm_shard_reader *rd = shard_reader_new(&N->feats, 1);
    CHECK(shard_reader_get(rd, p->utt, utt, NULL) == 0);
    shard_reader_free(rd);
    for (int f = 0; f < frames; f++) memcpy(seg + f * nm, utt + ((p->offset + f) % nf) * nm, sizeof(float) * nm);
    size_t n = (size_t)frames * nm;
    for (size_t i = 0; i < n; i++) want[i] = clean[i] / L->a_istd[i % nm] + L->a_mean[i % nm];
    double g = noise_gain(want, seg, n, p->snr_db);
    float *mixed = xmalloc(sizeof(float) * n);
    noise_add_logmel(mixed, want, seg, n, g);
    double snr = power_db_ratio(want, mixed, want, n);
    CHECK_NEAR(snr, p->snr_db, 0.01);
    for (size_t i = 0; i < n; i++) want[i] = (mixed[i] - L->a_mean[i % nm]) * L->a_istd[i % nm];
    free(utt); free(seg); free(mixed);
}

/* Every sample of batch d mixed at `step`: clean if not drawn, else the expected mix. */
static void check_batch(avm_noise *N, const avm_loader *L, const avm_batch_data *d, long step, int *drawn,
                        int *looped) {
    const float *out = noise_mix(N, d, step);
    CHECK_MSG(out != NULL, "%s", avm_error());
    if (!out) return;
    size_t row = (size_t)d->T * L->audio_dim;
    float *want = xmalloc(sizeof(float) * row);
    for (int k = 0; k < d->B; k++) {
        avm_noise_pick p;
        noise_pick(N, step, d->gidx[k], &p);
        const float *o = out + k * row, *c = d->audio + k * row;
        size_t n = (size_t)d->len[k] * L->audio_dim;
        if (!p.mixed) {
            CHECK(!memcmp(o, c, sizeof(float) * row));
            continue;
        }
        ++*drawn;
        *looped += N->feats.e[p.utt].a_frames - p.offset < d->len[k] * L->feats.stack;
        CHECK(p.snr_db >= N->snr_lo && p.snr_db <= N->snr_hi);
        expected_row(N, L, &p, c, d->len[k], want);
        double maxd = 0;
        for (size_t i = 0; i < n; i++) maxd = fmax(maxd, fabs(o[i] - want[i]));
        CHECK_MSG(maxd < 1e-4, "sample %d: max diff %g from the expected mix", k, maxd);
        CHECK(memcmp(o, c, sizeof(float) * n) != 0);
        int pad_zero = 1;
        for (size_t i = n; i < row; i++) pad_zero &= o[i] == 0;
        CHECK(pad_zero);
    }
    free(want);
}

static void batch_mixer(void) {
    mkfeats("tr", "--n=24 --min-tokens=8 --max-tokens=30");
    mkfeats("nz", "--n=7 --seed=3 --min-tokens=2 --max-tokens=12 --no-video --shard-size=3");
    avm_loader L;
    CHECK(loader_open(&L, "tr", "tr", 1, 30, 200, 5, 1, 2) == 0);
    avm_noise N;
    CHECK_MSG(noise_open(&N, "nz", &L, 0.5, -5, 20, 5, 2) == 0, "%s", avm_error());
    avm_batch_data d = {0}, d2 = {0};
    loader_plan(&L, 0);
    int drawn = 0, looped = 0, total = 0;
    for (int b = 0; b < L.nbatch; b++) {
        CHECK(loader_get(&L, b, 0, 1, &d) == 0);
        check_batch(&N, &L, &d, 100 + b, &drawn, &looped);
        total += d.B;
    }
    printf("batch mixer: %d of %d samples drawn (p 0.5), %d with a looped noise segment\n", drawn, total, looped);
    CHECK(drawn > total / 4 && drawn < 3 * total / 4);
    CHECK(looped > 0);

    /* same key, same mix; another step, another mix */
    CHECK(loader_get(&L, 0, 0, 1, &d) == 0);
    size_t n = (size_t)d.B * d.T * L.audio_dim;
    float *a = xmalloc(sizeof(float) * n);
    memcpy(a, noise_mix(&N, &d, 7), sizeof(float) * n);
    CHECK(!memcmp(a, noise_mix(&N, &d, 7), sizeof(float) * n));
    CHECK(memcmp(a, noise_mix(&N, &d, 8), sizeof(float) * n) != 0);

    /* two ranks' slices mix as the whole batch does */
    memcpy(a, noise_mix(&N, &d, 7), sizeof(float) * n);
    int same = 1;
    for (int rank = 0; rank < 2; rank++) {
        CHECK(loader_get(&L, 0, rank, 2, &d2) == 0);
        const float *o = noise_mix(&N, &d2, 7);
        for (int k = 0; k < d2.B; k++) {
            int T = d2.T, gk = d2.gidx[k];
            for (int t = 0; t < d2.len[k]; t++)
                same &= !memcmp(o + ((size_t)k * T + t) * L.audio_dim, a + ((size_t)gk * d.T + t) * L.audio_dim,
                                sizeof(float) * L.audio_dim);
        }
    }
    CHECK_MSG(same, "rank slices mix differently from the whole batch");

    /* probability 0: the input itself */
    N.prob = 0;
    CHECK(!memcmp(noise_mix(&N, &d, 7), d.audio, sizeof(float) * n));
    noise_close(&N);
    free(a);
    batch_data_free(&d);
    batch_data_free(&d2);
    loader_close(&L);
}

static void refused(const char *train, const char *noise, const char *want) {
    avm_loader L;
    CHECK(loader_open(&L, train, train, 0, 30, 200, 5, 1, 2) == 0);
    avm_noise N;
    CHECK(noise_open(&N, noise, &L, 0.5, 0, 10, 5, 2) == -1);
    CHECK_MSG(strstr(avm_error(), want) && strstr(avm_error(), train) && strstr(avm_error(), noise) &&
              !strchr(avm_error(), '\n'), "%s", avm_error());
    loader_close(&L);
}

static void mismatches(void) {
    mkfeats("nz40", "--n=3 --n-mels=40 --no-video");
    refused("tr", "nz40", "n_mels is 40 vs 80");
    const char *cfg = "'--extract-json={\"sample_rate\":16000,\"fbank\":{\"n_mels\":80,\"frame_shift_ms\":%d},\"audio_frames_per_video_frame\":4}'";
    char *a = xasprintf(cfg, 10), *b = xasprintf(cfg, 20), *ta = xasprintf("--n=4 --no-video %s", a),
         *tb = xasprintf("--n=4 --no-video %s", b);
    mkfeats("tr10", ta);
    mkfeats("nz20", tb);
    mkfeats("nz10", ta);
    refused("tr10", "nz20", "fbank.frame_shift_ms is 20 vs 10");
    refused("tr10", "nz", "sample_rate is absent vs 16000");
    avm_loader L;
    CHECK(loader_open(&L, "tr10", "tr10", 0, 30, 200, 5, 1, 2) == 0);
    avm_noise N;
    CHECK_MSG(noise_open(&N, "nz10", &L, 0.5, 0, 10, 5, 2) == 0, "%s", avm_error());
    noise_close(&N);
    loader_close(&L);
    free(a); free(b); free(ta); free(tb);
}

int main(void) {
    approximation();
    batch_mixer();
    mismatches();
    return check_done("test_noise_mix");
}
