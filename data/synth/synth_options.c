/* Options of `avmask synth`: the table, parsing and checks. */
#include "data/synth/synth_options.h"
#include "data/synth/synth_speech.h"
#include "common/opts.h"
#include "common/util.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The options: the corpus configuration and what synth_parse_options reads further. */
typedef struct {
    synth_config c;
    const char *out, *snr, *noise, *voices, *variants;
    int overwrite;
} synth_args;

#define F(f) OPT_FIELD(synth_args, f)
static const avm_optdef table[] = {
    {OPT_STR, "out", F(out), .meta = "DIR", .flags = OPT_REQ, .help = "output directory (must not exist unless --overwrite)"},
    {OPT_INT, "speakers", F(c.speakers), .def = "20", .lo = 1, .hi = 999, .help = "number of speakers"},
    {OPT_INT, "utts-per-speaker", F(c.utts), .def = "20", .lo = 1, .hi = 9999, .help = "utterances per speaker"},
    {OPT_INT, "heldout-speakers", F(c.heldout), .lo = 0, .hi = 998,
     .help = "speakers kept out of train for dev/ and the test sets\n"
             "(default speakers/5, at least 2 when speakers >= 3; at most speakers - 1)"},
    {OPT_INT, "seed", F(c.p.seed), .def = "1", .lo = 0, .hi = 2147483647L,
     .help = "random seed; same arguments => same bytes"},
    {OPT_LIST, "snr", F(snr), .def = "clean,10,5,0", .help = "test conditions, 'clean' or SNRs in dB in [-20, 60]"},
    {OPT_LIST, "noise", F(noise), .def = "babble,stationary", .values = "babble|stationary", .help = "noise kinds"},
    {OPT_NUM, "train-clean", F(c.train_clean), .def = "0.5", .min = 0, .max = 1,
     .help = "fraction of clean train/dev utterances; the others get a\n"
             "random SNR in [0, 20] dB"},
    {OPT_FLAG, "clean-twins", F(c.clean_twins),
     .help = "also write train_clean/ and dev_clean/: every train and dev\n"
             "utterance under its own id with the same video and its audio\n"
             "before the noise (targets from clean audio for noisy input)"},
    {OPT_INT, "noise-clips", F(c.noise_clips), .def = "40", .lo = 0, .hi = 9999,
     .help = "clips in the noise/ data dir (audio-only WAVs for mixing\n"
             "noise in on the fly; babble of training speakers only and\n"
             "stationary noise, split evenly; 0 = no noise/)"},
    {OPT_NUM, "noise-clip-seconds", F(c.noise_seconds), .def = "10", .min = 1, .max = 600,
     .help = "length of each noise clip"},
    {OPT_LIST, "voices", F(voices), .def = SYNTH_ESPEAK_ACCENTS, .help = "espeak-ng accents"},
    {OPT_LIST, "variants", F(variants), .def = SYNTH_ESPEAK_VARIANTS, .help = "espeak-ng voice variants"},
    {OPT_INT, "size", F(c.p.size), .def = "96", .lo = 32, .hi = 1024, .help = "video frame size NxN (even)"},
    {OPT_INT, "fps", F(c.p.fps), .def = "25", .lo = 5, .hi = 120, .help = "video frame rate (must divide --rate)"},
    {OPT_INT, "rate", F(c.p.rate), .def = "16000", .lo = 8000, .hi = 48000, .help = "audio sample rate"},
    {OPT_INT, "crf", F(c.p.crf), .def = "18", .lo = 0, .hi = 51, .help = "H.264 quality, lower is better"},
    {OPT_NUM, "coartic-ms", F(c.p.coartic_ms), .def = "20", .min = 0, .max = 200,
     .help = "coarticulation smoothing sigma in ms"},
    {OPT_FLAG, "overwrite", F(overwrite), .help = "replace an existing --out"},
    OPT_THREADS("accepted by every command; generation runs on one core"),
    {.type = OPT_END},
};

static const avm_optspec synth_optspec = {
    "synth",
    "usage: avmask synth --out=DIR [options]\n"
    "Generates a synthetic audio-visual corpus (espeak-ng speech, a rendered talking face,\n"
    "H.264+AAC MP4s) with Kaldi-style data dirs train/ dev/ test_clean/ test_snrN/.\n",
    table, NULL, NULL,
};

int synth_split_list(const char *cmd, const char *opt, const char *s, char **out) {
    int n = 0;
    const char *p = s;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n == MAX_LIST) avm_die("%s: --%s has more than %d items", cmd, opt, MAX_LIST);
        out[n++] = strndup(p, len);
        if (!e) return n;
        p = e + 1;
    }
}

int synth_parse_snr(const char *cmd, const char *s, synth_condition *test) {
    char *items[MAX_LIST];
    int n = synth_split_list(cmd, "snr", s, items);
    if (n > MAX_TEST) avm_die("%s: --snr lists %d conditions; at most %d", cmd, n, MAX_TEST);
    for (int i = 0; i < n; i++) {
        synth_condition *t = &test[i];
        memset(t, 0, sizeof *t);
        if (!strcmp(items[i], "clean")) {
            t->clean = 1;
            snprintf(t->name, sizeof t->name, "clean");
        } else {
            char *end;
            errno = 0;
            t->snr = strtod(items[i], &end);
            if (errno || end == items[i] || *end || !isfinite(t->snr))
                avm_die("%s: --snr: '%s' is not a number (use dB values or 'clean')", cmd, items[i]);
            if (t->snr < -20 || t->snr > 60) avm_die("%s: --snr: %s dB is outside [-20, 60]", cmd, items[i]);
            snprintf(t->name, sizeof t->name, "snr%g", t->snr);
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(test[j].name, t->name)) avm_die("%s: --snr: '%s' is listed twice", cmd, items[i]);
        free(items[i]);
    }
    return n;
}

int synth_parse_noise(const char *cmd, const char *s, synth_noise_kind *kinds) {
    char *items[MAX_LIST];
    int n = synth_split_list(cmd, "noise", s, items), nk = 0;
    for (int i = 0; i < n; i++) {
        synth_noise_kind k = strcmp(items[i], "babble") ? NOISE_STATIONARY : NOISE_BABBLE;   /* the table's two */
        free(items[i]);
        int dup = 0;
        for (int j = 0; j < nk; j++) dup |= kinds[j] == k;
        if (!dup) kinds[nk++] = k;
    }
    return nk;
}

void synth_json_conditions(avm_jw *j, const synth_condition *test, int ntest, const synth_noise_kind *kinds,
                           int nkinds, double train_clean) {
    jw_key(j, "test_conditions"); jw_arr_begin(j);
    for (int i = 0; i < ntest; i++) jw_str(j, test[i].name);
    jw_arr_end(j);
    jw_key(j, "noise"); jw_arr_begin(j);
    for (int i = 0; i < nkinds; i++) jw_str(j, synth_noise_name(kinds[i]));
    jw_arr_end(j);
    jw_key(j, "train_clean"); jw_num(j, train_clean);
}

void synth_parse_options(int argc, char **argv, synth_config *c, const char **out, int *overwrite) {
    avm_opts o;
    synth_args a;
    memset(&a, 0, sizeof a);
    opts_parse(&o, &synth_optspec, &a, argc, argv);
    *c = a.c;
    int defh = c->speakers >= 3 ? (c->speakers / 5 > 2 ? c->speakers / 5 : 2) : 0;
    if (!opts_given(&o, "heldout-speakers")) c->heldout = defh;
    if (c->heldout > c->speakers - 1)
        avm_die("synth: --heldout-speakers=%d is out of range [0, %d]", c->heldout, c->speakers - 1);
    c->ntest = synth_parse_snr("synth", a.snr, c->test);
    c->nkinds = synth_parse_noise("synth", a.noise, c->kinds);
    c->nacc = synth_split_list("synth", "voices", a.voices, c->accent);
    c->nvar = synth_split_list("synth", "variants", a.variants, c->variant);
    if (c->p.size % 2) avm_die("synth: --size=%d must be even (4:2:0 video)", c->p.size);
    if (c->p.rate % c->p.fps) avm_die("synth: --fps=%d must divide --rate=%d", c->p.fps, c->p.rate);
    opts_threads(&o);
    *out = xstrdup(a.out);
    *overwrite = a.overwrite;
    opts_free(&o);
}

void synth_check_voices(const char *cmd, char *const *accent, int nacc, char *const *variant, int nvar) {
    for (int i = 0; i < nacc; i++)
        if (synth_voice_check(accent[i], "")) avm_die("%s: --voices: %s", cmd, avm_error());
    for (int i = 0; i < nvar; i++)
        if (synth_voice_check(accent[0], variant[i])) avm_die("%s: --variants: %s", cmd, avm_error());
}
