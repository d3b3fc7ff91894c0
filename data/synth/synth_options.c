/* Options of `avmask synth`: parsing and checks (see the usage text). */
#include "data/synth/synth_options.h"
#include "data/synth/synth_speech.h"
#include "common/opts.h"
#include "common/util.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: avmask synth --out=DIR [options]\n"
    "Generates a synthetic audio-visual corpus (espeak-ng speech, a rendered talking face,\n"
    "H.264+AAC MP4s) with Kaldi-style data dirs train/ dev/ test_clean/ test_snrN/.\n\n"
    "  --out=DIR                output directory (must not exist unless --overwrite)\n"
    "  --speakers=N             number of speakers (default 20, at most 999)\n"
    "  --utts-per-speaker=N     utterances per speaker (default 20, at most 9999)\n"
    "  --heldout-speakers=N     speakers kept out of train for dev/ and the test sets\n"
    "                           (default speakers/5, at least 2 when speakers >= 3)\n"
    "  --seed=N                 random seed (default 1); same arguments => same bytes\n"
    "  --snr=LIST               test conditions, 'clean' or SNRs in dB (default clean,10,5,0)\n"
    "  --noise=LIST             noise kinds: babble,stationary (default both)\n"
    "  --train-clean=F          fraction of clean train/dev utterances; the others get a\n"
    "                           random SNR in [0, 20] dB (default 0.5)\n"
    "  --noise-clips=N          clips in the noise/ data dir (audio-only WAVs for mixing\n"
    "                           noise in on the fly; babble of training speakers only and\n"
    "                           stationary noise, split evenly; default 40, 0 = no noise/)\n"
    "  --noise-clip-seconds=F   length of each noise clip (default 10)\n"
    "  --voices=LIST            espeak-ng accents (default en-us,en,en-gb-scotland,en-gb-x-rp,\n"
    "                           en-029,en-us-nyc,en-gb-x-gbclan,en-gb-x-gbcwmd)\n"
    "  --variants=LIST          espeak-ng voice variants (default m1..m7,f1..f5,...)\n"
    "  --size=N                 video frame size NxN (default 96)\n"
    "  --fps=N                  video frame rate (default 25; must divide --rate)\n"
    "  --rate=N                 audio sample rate (default 16000)\n"
    "  --crf=N                  H.264 quality, lower is better (default 18)\n"
    "  --coartic-ms=F           coarticulation smoothing sigma in ms (default 20)\n"
    "  --overwrite              replace an existing --out\n"
    "  --threads=N              accepted for uniformity; generation runs on one core\n";

static const char default_voices[] = "en-us,en,en-gb-scotland,en-gb-x-rp,en-029,en-us-nyc,en-gb-x-gbclan,en-gb-x-gbcwmd";
static const char default_variants[] = "m1,m2,m3,m4,m5,m6,m7,f1,f2,f3,f4,f5,klatt,klatt2,max,paul,linda,adam,ed,john";

/* Splits a comma list into fresh strings; dies on an empty item. */
static int split_list(const char *opt, const char *s, char **out) {
    int n = 0;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0) avm_die("synth: --%s=%s has an empty item", opt, s);
        if (n == MAX_LIST) avm_die("synth: --%s has more than %d items", opt, MAX_LIST);
        out[n++] = strndup(p, len);
        if (!e) return n;
        p = e + 1;
    }
}

static void parse_snr(const char *s, synth_config *c) {
    char *items[MAX_LIST];
    int n = split_list("snr", s, items);
    if (n > MAX_TEST) avm_die("synth: --snr lists %d conditions; at most %d", n, MAX_TEST);
    for (int i = 0; i < n; i++) {
        synth_condition *t = &c->test[i];
        if (!strcmp(items[i], "clean")) {
            t->clean = 1;
            snprintf(t->name, sizeof t->name, "clean");
        } else {
            char *end;
            errno = 0;
            t->snr = strtod(items[i], &end);
            if (errno || end == items[i] || *end || !isfinite(t->snr))
                avm_die("synth: --snr: '%s' is not a number (use dB values or 'clean')", items[i]);
            if (t->snr < -20 || t->snr > 60) avm_die("synth: --snr: %s dB is outside [-20, 60]", items[i]);
            snprintf(t->name, sizeof t->name, "snr%g", t->snr);
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(c->test[j].name, t->name)) avm_die("synth: --snr: '%s' is listed twice", items[i]);
        free(items[i]);
    }
    c->ntest = n;
}

static void parse_noise(const char *s, synth_config *c) {
    char *items[MAX_LIST];
    int n = split_list("noise", s, items);
    c->nkinds = 0;
    for (int i = 0; i < n; i++) {
        synth_noise_kind k;
        if (!strcmp(items[i], "babble")) k = NOISE_BABBLE;
        else if (!strcmp(items[i], "stationary")) k = NOISE_STATIONARY;
        else avm_die("synth: --noise: unknown kind '%s' (babble or stationary)", items[i]);
        free(items[i]);
        int dup = 0;
        for (int j = 0; j < c->nkinds; j++) dup |= c->kinds[j] == k;
        if (!dup) c->kinds[c->nkinds++] = k;
    }
}

void synth_parse_options(int argc, char **argv, synth_config *c, const char **out, int *overwrite) {
    avm_opts o;
    opts_parse(&o, "synth", usage, argc, argv);
    memset(c, 0, sizeof *c);
    *out = opt_req(&o, "out");
    *overwrite = opt_bool(&o, "overwrite", 0);
    c->speakers = (int)opt_int_range(&o, "speakers", 20, 1, 999);
    c->utts = (int)opt_int_range(&o, "utts-per-speaker", 20, 1, 9999);
    int defh = c->speakers >= 3 ? (c->speakers / 5 > 2 ? c->speakers / 5 : 2) : 0;
    c->heldout = (int)opt_int_range(&o, "heldout-speakers", defh, 0, c->speakers - 1);
    c->p.seed = (uint64_t)opt_int_range(&o, "seed", 1, 0, 2147483647L);
    parse_snr(opt_str(&o, "snr", "clean,10,5,0"), c);
    parse_noise(opt_str(&o, "noise", "babble,stationary"), c);
    c->train_clean = opt_num(&o, "train-clean", 0.5);
    if (c->train_clean < 0 || c->train_clean > 1) avm_die("synth: --train-clean=%g is outside [0, 1]", c->train_clean);
    c->noise_clips = (int)opt_int_range(&o, "noise-clips", 40, 0, 9999);
    c->noise_seconds = opt_num(&o, "noise-clip-seconds", 10);
    if (!(c->noise_seconds >= 1 && c->noise_seconds <= 600))
        avm_die("synth: --noise-clip-seconds=%g is outside [1, 600]", c->noise_seconds);
    c->nacc = split_list("voices", opt_str(&o, "voices", default_voices), c->accent);
    c->nvar = split_list("variants", opt_str(&o, "variants", default_variants), c->variant);
    c->p.size = (int)opt_int_range(&o, "size", 96, 32, 1024);
    if (c->p.size % 2) avm_die("synth: --size=%d must be even (4:2:0 video)", c->p.size);
    c->p.fps = (int)opt_int_range(&o, "fps", 25, 5, 120);
    c->p.rate = (int)opt_int_range(&o, "rate", 16000, 8000, 48000);
    if (c->p.rate % c->p.fps) avm_die("synth: --fps=%d must divide --rate=%d", c->p.fps, c->p.rate);
    c->p.crf = (int)opt_int_range(&o, "crf", 18, 0, 51);
    c->p.coartic_ms = opt_num(&o, "coartic-ms", 20);
    if (c->p.coartic_ms < 0 || c->p.coartic_ms > 200) avm_die("synth: --coartic-ms=%g is outside [0, 200]", c->p.coartic_ms);
    opts_threads(&o);
    opts_finish(&o);
    *out = xstrdup(*out);
    opts_free(&o);
}

void synth_check_voices(const synth_config *c) {
    for (int i = 0; i < c->nacc; i++)
        if (synth_voice_check(c->accent[i], "")) avm_die("synth: --voices: %s", avm_error());
    for (int i = 0; i < c->nvar; i++)
        if (synth_voice_check(c->accent[0], c->variant[i])) avm_die("synth: --variants: %s", avm_error());
}
