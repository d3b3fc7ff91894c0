/* data/synth/ for the spoken-command corpus: the intent table, command rendering and the
 * text corpus's enumeration, disjoint titles, and speech from flite (sample rate, level,
 * band, determinism, pitch, speed) and from espeak-ng over every word the corpus can say;
 * a flite utterance mixed at an exact SNR. */
#include "check.h"
#include "data/synth/synth_flite.h"
#include "data/synth/synth_noise.h"
#include "data/synth/synth_slu_text.h"
#include "data/synth/synth_slu_titles.h"
#include "data/synth/synth_utt.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int count(const char *const *v) {
    int n = 0;
    while (v[n]) n++;
    return n;
}

static void test_intents(void) {
    int n, ntitle = 0, ncommand = 0;
    const slu_intent *in = slu_intents(&n);
    CHECK_MSG(n == 20, "%d intents", n);
    for (int i = 0; i < n; i++) {
        CHECK_MSG(count(in[i].seen) >= 2 && count(in[i].unseen) >= 1, "%s: too few templates", in[i].name);
        CHECK(in[i].weight > 0 && strchr(in[i].name, '_'));
        ntitle += in[i].cls == SLU_TITLE;
        ncommand += in[i].cls == SLU_COMMAND;
        for (int j = 0; j < i; j++) CHECK(strcmp(in[i].name, in[j].name));
        for (const char *const *s = in[i].seen; *s; s++)   /* a paraphrase is seen or unseen, never both */
            for (int j = 0; j < n; j++)
                for (const char *const *u = in[j].unseen; *u; u++) CHECK_MSG(strcmp(*s, *u), "'%s' twice", *s);
    }
    CHECK(ntitle == 1 && ncommand >= 6);
}

static void test_titles(void) {
    slu_titles a, b, c;
    CHECK(slu_titles_make(7, SLU_SPLIT_PAIRS, 0, 300, 150, &a) == 0);
    CHECK(slu_titles_make(7, SLU_SPLIT_PAIRS, 0, 300, 150, &b) == 0);
    CHECK(slu_titles_make(8, SLU_SPLIT_PAIRS, 0, 300, 150, &c) == 0);
    int same = 1, other = 0, overlap = 0;
    for (int i = 0; i < 150; i++) {
        same &= !strcmp(a.test[i], b.test[i]);
        other += !strcmp(a.test[i], c.test[i]);
        for (int j = 0; j < 300; j++) overlap += !strcmp(a.test[i], a.train[j]);
        for (int j = 0; j < i; j++) CHECK(strcmp(a.test[i], a.test[j]));
    }
    CHECK(same && other < 5);
    CHECK_MSG(overlap == 0, "%d test titles are train titles", overlap);
    slu_titles_free(&a); slu_titles_free(&b); slu_titles_free(&c);
    /* words split: no word of a test title in a train title */
    int ctrain, ctest;
    slu_titles_capacity(SLU_SPLIT_WORDS, 0, &ctrain, &ctest);
    CHECK(ctest >= 100 && ctrain >= 1000);
    CHECK(slu_titles_make(3, SLU_SPLIT_WORDS, 0, ctrain, ctest, &a) == 0);
    int shared = 0;
    for (int i = 0; i < a.ntest; i++) {
        char *sp = strchr(a.test[i], ' ');
        for (int j = 0; j < a.ntrain && sp; j++) {
            char *tp = strchr(a.train[j], ' ');
            shared += !strncmp(a.test[i], a.train[j], (size_t)(sp - a.test[i]) + 1) || !strcmp(sp, tp);
        }
    }
    CHECK_MSG(shared == 0, "%d shared words", shared);
    slu_titles_free(&a);
    CHECK(slu_titles_make(3, SLU_SPLIT_WORDS, 0, 10, ctest + 1, &a) == -1 && strstr(avm_error(), "words split"));
    /* --title-words: 6 adjectives and 6 nouns make every title, 36 pairs in all */
    slu_titles_capacity(SLU_SPLIT_PAIRS, 6, &ctrain, &ctest);
    CHECK(ctrain == 36 && slu_titles_make(5, SLU_SPLIT_PAIRS, 6, 30, 7, &a) == -1);
    CHECK(slu_titles_make(5, SLU_SPLIT_PAIRS, 6, 28, 8, &a) == 0);
    char *words[72];
    int nwd = 0;
    for (int i = 0; i < 36; i++) {
        const char *t = i < 28 ? a.train[i] : a.test[i - 28], *sp = strchr(t, ' ');
        char *pair[2] = {xstrdup(t), xstrdup(sp + 1)};
        pair[0][sp - t] = 0;
        for (int k = 0; k < 2; k++) {
            int seen = 0;
            for (int j = 0; j < nwd; j++) seen |= !strcmp(words[j], pair[k]);
            if (seen) free(pair[k]); else words[nwd++] = pair[k];
        }
        for (int j = 0; j < i; j++) CHECK(strcmp(t, j < 28 ? a.train[j] : a.test[j - 28]));
    }
    CHECK_MSG(nwd == 12, "%d distinct title words with --title-words=6", nwd);
    for (int j = 0; j < nwd; j++) free(words[j]);
    slu_titles_free(&a);
    /* title words are never command words */
    int nw, na;
    const char *const *w = slu_words(&nw);
    for (int k = 0; k < 2; k++) {
        const char *const *t = slu_title_words(k, &na);
        for (int i = 0; i < na; i++)
            for (int j = 0; j < nw; j++) CHECK_MSG(strcmp(t[i], w[j]), "title word '%s' is a command word", t[i]);
    }
}

typedef struct { avm_strbuf all; int n; } seen_set;

static void collect(void *ctx, const slu_command *c) {
    seen_set *s = ctx;
    sb_printf(&s->all, "\n%d %d %s\n", c->intent, c->unseen, c->text.s);
    s->n++;
}

static void test_draw(void) {
    char *titles[] = {"silver harbor", "quiet river", "golden moon"};
    seen_set s = {{0}, 0};
    slu_enumerate(titles, 3, collect, &s);
    int n;
    const slu_intent *in = slu_intents(&n);
    CHECK_MSG(s.n > 1000 && s.n < 20000, "%d renderings", s.n);
    avm_rng r1, r2;
    rng_seed(&r1, 4, 1);
    rng_seed(&r2, 4, 1);
    slu_command a = {0}, b = {0};
    int unseen = 0, plays = 0, found = 1;
    for (int i = 0; i < 2000; i++) {
        double pu = i < 1000 ? 0 : 1;
        slu_draw(&r1, titles, 3, pu, &a);
        slu_draw(&r2, titles, 3, pu, &b);
        CHECK(!strcmp(a.text.s, b.text.s) && !strcmp(a.slots.s, b.slots.s));
        unseen += a.unseen;
        CHECK(a.unseen == (i >= 1000));
        /* every drawn command is a rendering the text corpus holds, with its labels */
        char key[512];
        snprintf(key, sizeof key, "\n%d %d %s\n", a.intent, a.unseen, a.text.s);
        found &= strstr(s.all.s, key) != NULL;
        /* slots: "-" or name=value pairs whose values are in the text */
        if (strcmp(a.slots.s, "-")) {
            char *dup = xstrdup(a.slots.s), *save, *tok;
            for (tok = strtok_r(dup, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
                char *eq = strchr(tok, '=');
                CHECK_MSG(eq && strstr(a.text.s, eq + 1), "slot '%s' of '%s'", tok, a.text.s);
            }
            free(dup);
        }
        if (in[a.intent].cls == SLU_TITLE) {
            plays++;
            CHECK(a.title >= 0 && a.title < 3 && strstr(a.text.s, titles[a.title]));
        } else {
            CHECK(a.title == -1);
        }
    }
    CHECK(found);
    CHECK(unseen == 1000);
    CHECK_MSG(plays > 300 && plays < 560, "%d play commands of 2000 (weight 6 of 29)", plays);
    slu_command_free(&a);
    slu_command_free(&b);
    sb_free(&s.all);
}

/* Power of x[0..n) in the band above f Hz (one DFT bin per 50 Hz over the whole signal). */
static double band_power(const float *x, int n, int rate, double f) {
    double hi = 0, all = 0;
    for (double fr = 100; fr < rate / 2.0; fr += 50) {
        double re = 0, im = 0;
        for (int i = 0; i < n; i++) { re += x[i] * cos(2 * M_PI * fr * i / rate); im += x[i] * sin(2 * M_PI * fr * i / rate); }
        all += re * re + im * im;
        if (fr > f) hi += re * re + im * im;
    }
    return hi / all;
}

/* Median pitch (Hz) by autocorrelation over voiced 40 ms frames. */
static double pitch(const float *x, int n, int rate) {
    double f0[2048];
    int nf = 0, len = rate / 25;
    double tot = 0;
    for (int i = 0; i < n; i++) tot += x[i] * x[i];
    for (int s = 0; s + len < n && nf < 2048; s += len / 2) {
        double e = 0;
        for (int i = 0; i < len; i++) e += x[s + i] * x[s + i];
        if (e / len < 0.3 * tot / n) continue;
        double best = 0;
        int lag = 0;
        for (int l = rate / 400; l < rate / 60; l++) {
            double c = 0;
            for (int i = 0; i + l < len; i++) c += x[s + i] * x[s + i + l];
            if (c > best) { best = c; lag = l; }
        }
        if (lag && best > 0.4 * e) f0[nf++] = (double)rate / lag;
    }
    for (int i = 1; i < nf; i++)
        for (int j = i; j > 0 && f0[j - 1] > f0[j]; j--) { double t = f0[j]; f0[j] = f0[j - 1]; f0[j - 1] = t; }
    return nf ? f0[nf / 2] : 0;
}

static double dur(const synth_audio *a) { return (double)a->n / a->rate; }

static void test_flite(void) {
    const char *text = "turn off the lights in the kitchen please";
    synth_audio a[SYNTH_FLITE_NVOICES];
    for (int v = 0; v < SYNTH_FLITE_NVOICES; v++) {
        synth_flite_voice fv = {.pitch = 1, .stretch = 1, .speed = 1};
        snprintf(fv.name, sizeof fv.name, "%s", synth_flite_name(v));
        CHECK(synth_flite_check(fv.name) == 0);
        int rc = synth_flite_speak(&fv, text, 16000, &a[v]);
        CHECK_MSG(rc == 0, "%s: %s", fv.name, avm_error());
        if (rc) return;
        double rms = sqrt(synth_power(a[v].pcm, 0, a[v].n));
        CHECK_MSG(a[v].rate == 16000 && rms > 0.02 && dur(&a[v]) > 1.2 && dur(&a[v]) < 4, "%s: %.2f s, rms %.3f",
                  fv.name, dur(&a[v]), rms);
        int ordered = a[v].nseg >= 20;
        for (int i = 0; i < a[v].nseg; i++)
            ordered &= a[v].seg[i].start <= a[v].seg[i].end && a[v].seg[i].end <= dur(&a[v]) + 1e-9 &&
                       (i == 0 || a[v].seg[i - 1].end <= a[v].seg[i].start + 1e-9);
        CHECK_MSG(ordered, "%s: %d phone segments, out of order or range", fv.name, a[v].nseg);
    }
    /* kal is 8 kHz and kal16 the same diphones at 16 kHz: both at their true speed after
     * resampling, and kal has (almost) nothing above its 4 kHz Nyquist */
    CHECK_NEAR(dur(&a[0]) / dur(&a[1]), 1, 0.03);
    double hk = band_power(a[0].pcm, a[0].n < 16000 ? a[0].n : 16000, 16000, 4200);
    double hk16 = band_power(a[1].pcm, a[1].n < 16000 ? a[1].n : 16000, 16000, 4200);
    CHECK_MSG(hk < 1e-5 && hk16 > 100 * hk, "power above 4.2 kHz: kal %.2e, kal16 %.2e", hk, hk16);
    /* deterministic: the same text and seed again (after other voices) gives the same
     * samples; another seed other excitation noise (clustergen voices) */
    synth_flite_voice slt = {"slt", 1, 1, 1, 0}, slt2 = {"slt", 1, 1, 1, 5};
    synth_audio b, c, d;
    CHECK(synth_flite_speak(&slt, text, 16000, &b) == 0);
    CHECK(b.n == a[4].n && !memcmp(b.pcm, a[4].pcm, (size_t)b.n * sizeof *b.pcm));
    CHECK(synth_flite_speak(&slt2, text, 16000, &c) == 0);
    CHECK(c.n == b.n && memcmp(c.pcm, b.pcm, (size_t)b.n * sizeof *b.pcm));
    synth_audio_free(&c);
    /* pitch and speed move as asked */
    synth_flite_voice high = {"slt", 1.25, 1, 1, 0}, fast = {"slt", 1, 1, 1.1, 0};
    CHECK(synth_flite_speak(&high, text, 16000, &c) == 0 && synth_flite_speak(&fast, text, 16000, &d) == 0);
    double p0 = pitch(b.pcm, b.n, 16000), p1 = pitch(c.pcm, c.n, 16000), p2 = pitch(d.pcm, d.n, 16000);
    CHECK_MSG(p0 > 140 && p0 < 210 && p1 / p0 > 1.15 && p1 / p0 < 1.35, "slt pitch %.0f Hz, x1.25: %.0f Hz", p0, p1);
    CHECK_MSG(p2 / p0 > 1.05 && p2 / p0 < 1.15, "speed 1.1: pitch %.0f -> %.0f Hz", p0, p2);
    CHECK_NEAR(dur(&d) * 1.1 / dur(&b), 1, 0.01);
    synth_audio_free(&d);
    CHECK(synth_flite_check("nosuch") == -1 && strstr(avm_error(), "unknown flite voice 'nosuch'"));
    synth_flite_voice bad = {"nosuch", 1, 1, 1, 0};
    CHECK(synth_flite_speak(&bad, text, 16000, &d) == -1);
    /* an utterance of flite speech mixed at 5 dB: exactly 5 dB over its active speech */
    synth_params p = {.seed = 1, .rate = 16000};
    synth_utt u;
    memset(&u, 0, sizeof u);
    synth_utt_audio(&p, 1, 3, 4, 1, &b, &u);
    CHECK(u.active[0] > 0.09 * 16000 && u.active[1] < u.nsamples - 0.09 * 16000);
    for (int kind = 0; kind < 2; kind++) {
        synth_babble pool = {0};
        synth_babble_add(&pool, c.pcm, c.n);
        avm_rng r;
        rng_seed(&r, 9, (uint64_t)kind);
        float *mixed;
        CHECK(synth_utt_mix(&u, kind, &pool, &r, 5, &mixed) == 0);
        for (int i = 0; i < u.nsamples; i++) mixed[i] -= u.pcm[i];
        double snr = 10 * log10(u.speech_power / synth_power(mixed, u.active[0], u.active[1]));
        CHECK_NEAR(snr, 5, 1e-3);
        free(mixed);
        synth_babble_free(&pool);
    }
    synth_utt_free(&u);
    for (int v = 0; v < SYNTH_FLITE_NVOICES; v++) synth_audio_free(&a[v]);
    synth_audio_free(&c);
    synth_flite_close();
}

/* Every word the corpus can say, in every flite voice and every default espeak-ng
 * accent, maps onto the phone set (an unmapped phone would stop generation). */
static void test_all_words(void) {
    avm_strbuf text = {0};
    int n;
    const char *const *w = slu_words(&n);
    for (int i = 0; i < n; i++) sb_printf(&text, "%s ", w[i]);
    for (int k = 0; k < 2; k++) {
        w = slu_title_words(k, &n);
        for (int i = 0; i < n; i++) sb_printf(&text, "%s ", w[i]);
    }
    for (int v = 0; v < SYNTH_FLITE_NVOICES; v++) {
        synth_flite_voice fv = {.pitch = 1, .stretch = 1, .speed = 1};
        snprintf(fv.name, sizeof fv.name, "%s", synth_flite_name(v));
        synth_audio a;
        CHECK_MSG(synth_flite_speak(&fv, text.s, 16000, &a) == 0, "%s: %s", fv.name, avm_error());
        synth_audio_free(&a);
    }
    static const char *const accents[] = {"en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc",
                                          "en-gb-x-gbclan", "en-gb-x-gbcwmd"};
    for (int i = 0; i < 8; i++) {
        synth_voice v = {.pitch = 50, .range = 50, .rate = 450};
        snprintf(v.accent, sizeof v.accent, "%s", accents[i]);
        synth_audio a;
        CHECK_MSG(synth_speak(&v, text.s, 16000, &a) == 0, "%s: %s", accents[i], avm_error());
        synth_audio_free(&a);
    }
    sb_free(&text);
    synth_flite_close();
    synth_speech_close();
}

int main(void) {
    test_intents();
    test_titles();
    test_draw();
    test_flite();
    test_all_words();
    return check_done("test_synth_slu");
}
