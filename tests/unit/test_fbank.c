/* data/fbank and the CMVN accumulator: frame counts, option errors, determinism,
 * thread safety, basic spectral sanity, statistics against a direct computation.
 * (Numerical parity with torchaudio is tests/data/test_fbank_parity.sh.) */
#include "check.h"
#include "common/log.h"
#include "common/rng.h"
#include "common/util.h"
#include "data/fbank.h"
#include <float.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static float *noise(int64_t n, uint64_t seed, double std) {
    avm_rng r;
    rng_seed(&r, seed, 0);
    float *x = xmalloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) x[i] = (float)(int)(std * rng_normal(&r));   /* int16-like */
    return x;
}

static void test_frame_counts(void) {
    avm_fbank_opts o;
    fbank_default_opts(&o);
    avm_fbank *fb = fbank_new(&o);
    CHECK(fb != NULL);
    /* snip_edges: 1 + (n - 400) / 160 once a whole frame fits, else 0 */
    int64_t n[] = {0, 1, 399, 400, 559, 560, 16000, 160000};
    int want[] = {0, 0, 0, 1, 1, 2, 98, 998};
    for (int i = 0; i < 8; i++) CHECK_MSG(fbank_num_frames(fb, n[i]) == want[i], "n=%ld", (long)n[i]);
    fbank_free(fb);
    /* no snip_edges: (n + 80) / 160 */
    o.snip_edges = 0;
    fb = fbank_new(&o);
    int want2[] = {0, 0, 2, 3, 3, 4, 100, 1000};
    for (int i = 0; i < 8; i++) CHECK_MSG(fbank_num_frames(fb, n[i]) == want2[i], "n=%ld", (long)n[i]);
    /* a signal shorter than the window is mirrored (repeatedly) into full frames */
    float *x = noise(100, 1, 1000);
    float out[80];
    CHECK(fbank_num_frames(fb, 100) == 1);
    fbank_compute(fb, x, 100, out);
    int finite = 1;
    for (int j = 0; j < 80; j++) finite &= isfinite(out[j]) && out[j] > 0;
    CHECK(finite);
    free(x);
    fbank_free(fb);
    /* 8 kHz: 200-sample frames, 80-sample shift */
    fbank_default_opts(&o);
    o.sample_rate = 8000;
    o.n_mels = 40;
    fb = fbank_new(&o);
    CHECK(fb && fbank_num_frames(fb, 8000) == 1 + (8000 - 200) / 80);
    fbank_free(fb);
}

/* Impossible options give NULL and a reason naming the option. */
static void expect_bad(avm_fbank_opts o, const char *word) {
    avm_fbank *fb = fbank_new(&o);
    CHECK_MSG(fb == NULL && strstr(avm_error(), word), "%s: got %s", word, fb ? "an fbank" : avm_error());
    fbank_free(fb);
}

static void test_bad_opts(void) {
    avm_fbank_opts d, o;
    fbank_default_opts(&d);
    o = d; o.high_freq = 8001; expect_bad(o, "high_freq");       /* above Nyquist */
    o = d; o.high_freq = -8000; expect_bad(o, "high_freq");      /* Nyquist - 8000 = 0 */
    o = d; o.low_freq = 9000; expect_bad(o, "low_freq");
    o = d; o.low_freq = 5000; o.high_freq = 4000; expect_bad(o, "high_freq");
    o = d; o.n_mels = 0; expect_bad(o, "n_mels");
    o = d; o.n_mels = 2; expect_bad(o, "n_mels");
    o = d; o.n_mels = 300; expect_bad(o, "empty");               /* more bins than FFT bins */
    o = d; o.sample_rate = 0; expect_bad(o, "sample_rate");
    o = d; o.frame_length_ms = 0; expect_bad(o, "frame length");
    o = d; o.frame_shift_ms = -10; expect_bad(o, "frame shift");
    o = d; o.preemph = -0.1; expect_bad(o, "preemph");
    o = d; o.energy_floor = -1; expect_bad(o, "energy_floor");
    o = d; o.n_mels = 3; avm_fbank *fb = fbank_new(&o);           /* Kaldi's minimum */
    CHECK(fb != NULL);
    fbank_free(fb);
}

/* Same input, same bytes; float PCM path equals int16-scale path bit for bit
 * (scaling by 32768 is exact). */
static void test_determinism(void) {
    avm_fbank_opts o;
    fbank_default_opts(&o);
    avm_fbank *fb = fbank_new(&o);
    int64_t n = 16000;
    float *x = noise(n, 7, 3000), *pcm = xmalloc(n * sizeof(float));
    for (int64_t i = 0; i < n; i++) pcm[i] = x[i] / 32768.0f;
    int t = fbank_num_frames(fb, n);
    float *a = xmalloc((size_t)t * 80 * sizeof(float)), *b = xmalloc((size_t)t * 80 * sizeof(float));
    float *c = xmalloc((size_t)t * 80 * sizeof(float));
    fbank_compute(fb, x, n, a);
    fbank_compute(fb, x, n, b);
    fbank_compute_pcm(fb, pcm, n, c);
    CHECK(!memcmp(a, b, (size_t)t * 80 * sizeof(float)));
    CHECK(!memcmp(a, c, (size_t)t * 80 * sizeof(float)));
    /* frame 5 alone (its 400 samples) equals row 5 of the whole */
    fbank_compute(fb, x + 5 * 160, 400, b);
    CHECK(!memcmp(a + 5 * 80, b, 80 * sizeof(float)));
    free(a); free(b); free(c); free(x); free(pcm);
    fbank_free(fb);
}

/* Two OpenMP threads computing at once on one avm_fbank get the serial result. */
static void test_threads(void) {
    avm_fbank_opts o;
    fbank_default_opts(&o);
    avm_fbank *fb = fbank_new(&o);
    int64_t n = 8000;
    int t = fbank_num_frames(fb, n);
    size_t bytes = (size_t)t * 80 * sizeof(float);
    float *x[2] = {noise(n, 11, 2000), noise(n, 12, 500)};
    float *want[2] = {xmalloc(bytes), xmalloc(bytes)};
    for (int k = 0; k < 2; k++) fbank_compute(fb, x[k], n, want[k]);
    int bad = 0, ran[2] = {0, 0};
#pragma omp parallel num_threads(2) reduction(+ : bad)
    {
        int me = omp_get_thread_num() & 1;
        float *got = xmalloc(bytes);
        for (int rep = 0; rep < 40; rep++) {
            int k = (me + rep) & 1;
            fbank_compute(fb, x[k], n, got);
            bad += memcmp(got, want[k], bytes) != 0;
        }
        ran[me] = 1;
        free(got);
    }
    CHECK(bad == 0);
    CHECK(ran[0] == 1);
    CHECK(ran[1] == 1 || omp_get_max_threads() == 1);
    for (int k = 0; k < 2; k++) { free(x[k]); free(want[k]); }
    fbank_free(fb);
}

/* A 1 kHz tone peaks in the bin centred nearest 1 kHz; silence sits at the floor. */
static void test_spectral_sanity(void) {
    avm_fbank_opts o;
    fbank_default_opts(&o);
    avm_fbank *fb = fbank_new(&o);
    int64_t n = 4000;
    float *x = xmalloc(n * sizeof(float));
    for (int64_t i = 0; i < n; i++) x[i] = (float)(10000 * sin(2 * M_PI * 1000 * i / 16000.0));
    float out[80 * 24];
    CHECK(fbank_num_frames(fb, n) == 23);
    fbank_compute(fb, x, n, out);
    int best = 0;
    for (int b = 1; b < 80; b++) if (out[10 * 80 + b] > out[10 * 80 + best]) best = b;
    double mlo = 1127 * log(1 + 20 / 700.0), delta = (1127 * log(1 + 8000 / 700.0) - mlo) / 81;
    double mel1k = 1127 * log(1 + 1000 / 700.0);
    CHECK_MSG(fabs(mlo + (best + 1) * delta - mel1k) <= delta, "peak bin %d", best);
    memset(x, 0, n * sizeof(float));
    fbank_compute(fb, x, n, out);
    CHECK_NEAR(out[0], log(FLT_EPSILON), 1e-5);
    CHECK_NEAR(out[22 * 80 + 79], log(FLT_EPSILON), 1e-5);
    fbank_free(fb);
    o.energy_floor = 1.0;   /* a floor above FLT_EPSILON replaces it */
    fb = fbank_new(&o);
    fbank_compute(fb, x, n, out);
    CHECK_NEAR(out[5 * 80 + 40], 0.0, 1e-7);
    fbank_free(fb);
    free(x);
}

/* Accumulating in pieces and merging gives the mean/variance of a direct two-pass
 * computation; pixel statistics likewise. */
static void test_cmvn(void) {
    int d = 5;
    int64_t t = 1000;
    float *f = xmalloc((size_t)t * d * sizeof(float));
    avm_rng r;
    rng_seed(&r, 3, 0);
    for (int64_t i = 0; i < t; i++)
        for (int j = 0; j < d; j++) f[i * d + j] = (float)(10 * j - 3 + (j + 1) * rng_normal(&r));
    avm_cmvn_acc a, b;
    cmvn_acc_init(&a, d);
    cmvn_acc_init(&b, d);
    cmvn_acc_add(&a, f, 300);
    cmvn_acc_add(&b, f + 300 * d, 650);
    cmvn_acc_add(&a, f + 950 * d, 50);
    cmvn_acc_add(&b, f, 0);
    cmvn_acc_merge(&a, &b);
    CHECK(a.count == 1000 && b.count == 650);
    double mean[5], var[5];
    cmvn_acc_stats(&a, mean, var, NULL, NULL);
    for (int j = 0; j < d; j++) {
        double m = 0, v = 0;
        for (int64_t i = 0; i < t; i++) m += f[i * d + j];
        m /= t;
        for (int64_t i = 0; i < t; i++) v += (f[i * d + j] - m) * (f[i * d + j] - m);
        v /= t;
        CHECK_NEAR(mean[j], m, 1e-9 * (1 + fabs(m)));
        CHECK_NEAR(var[j], v, 1e-9 * (1 + v));
        CHECK_NEAR(var[j], (j + 1) * (j + 1), 0.15 * (j + 1) * (j + 1));   /* the generator's */
    }
    int64_t np = 3000;
    uint8_t *px = xmalloc(np);
    double ps = 0, ps2 = 0;
    for (int64_t i = 0; i < np; i++) { px[i] = (uint8_t)rng_below(&r, 256); ps += px[i]; ps2 += px[i] * px[i]; }
    cmvn_acc_add_pixels(&a, px, 1000);
    cmvn_acc_add_pixels(&b, px + 1000, np - 1000);
    cmvn_acc_merge(&a, &b);
    CHECK(a.pix_count == np && a.pix_sum == ps && a.pix_sumsq == ps2);
    double pm, pstd;
    cmvn_acc_stats(&a, NULL, NULL, &pm, &pstd);
    CHECK_NEAR(pm, ps / np, 1e-12);
    CHECK_NEAR(pstd, sqrt(ps2 / np - (ps / np) * (ps / np)), 1e-9);
    /* a constant dimension: variance is 0, not a tiny negative number */
    avm_cmvn_acc c;
    cmvn_acc_init(&c, 1);
    float k[3] = {0.1f, 0.1f, 0.1f};
    cmvn_acc_add(&c, k, 3);
    cmvn_acc_stats(&c, mean, var, &pm, &pstd);
    CHECK(var[0] >= 0 && var[0] < 1e-12 && pm == 0 && pstd == 0);
    cmvn_acc_free(&a); cmvn_acc_free(&b); cmvn_acc_free(&c);
    free(f); free(px);
}

int main(void) {
    test_frame_counts();
    test_bad_opts();
    test_determinism();
    test_threads();
    test_spectral_sanity();
    test_cmvn();
    return check_done("test_fbank");
}
