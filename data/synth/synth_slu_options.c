/* Options of `avmask synth-slu`: the table, parsing and checks. */
#include "data/synth/synth_slu_options.h"
#include "data/synth/synth_speech.h"
#include "common/opts.h"
#include "common/util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    slu_config c;
    const char *out, *families, *heldout, *menus, *split, *snr, *noise, *voices, *variants;
    int overwrite;
} slu_args;

#define F(f) OPT_FIELD(slu_args, f)
static const avm_optdef table[] = {
    {OPT_STR, "out", F(out), .meta = "DIR", .flags = OPT_REQ, .help = "output directory (must not exist unless --overwrite)"},
    {OPT_INT, "seed", F(c.p.seed), .def = "1", .lo = 0, .hi = 2147483647L,
     .help = "random seed; same arguments => same bytes"},
    {OPT_TEXT, .help = "speakers:"},
    {OPT_LIST, "families", F(families), .def = "espeak,kal,awb,rms,slt", .values = "espeak|kal|awb|rms|slt",
     .help = "voice families: espeak-ng, and flite's voices of four real speakers\n"
             "(kal: voices kal at 8 kHz and kal16; awb; rms; slt)"},
    {OPT_ENUM, "heldout-family", F(heldout), .def = "slt", .values = "espeak|kal|awb|rms|slt|none",
     .help = "family whose speakers are all in test/, never in train/ or dev/\n"
             "(none: every family trains)"},
    {OPT_INT, "speakers-per-family", F(c.per_family), .def = "6", .lo = 1, .hi = 999,
     .help = "speakers of each family"},
    {OPT_INT, "dev-speakers-per-family", F(c.dev_per_family), .def = "1", .lo = 0, .hi = 998,
     .help = "speakers of each training family in dev/ (not in train/)"},
    {OPT_INT, "test-speakers-per-family", F(c.test_per_family), .def = "1", .lo = 0, .hi = 998,
     .help = "speakers of each training family in test/ (beside the held-out family)"},
    {OPT_INT, "utts-per-speaker", F(c.utts), .def = "10", .lo = 1, .hi = 99999, .help = "commands per speaker"},
    {OPT_LIST, "voices", F(voices), .def = SYNTH_ESPEAK_ACCENTS, .help = "espeak-ng accents of the espeak family"},
    {OPT_LIST, "variants", F(variants), .def = SYNTH_ESPEAK_VARIANTS, .help = "espeak-ng voice variants"},
    {OPT_TEXT, .help = "commands:"},
    {OPT_INT, "train-titles", F(c.ntrain_titles), .def = "300", .lo = 1, .hi = 100000,
     .help = "titles of \"play [title]\" in train/ and dev/"},
    {OPT_INT, "test-titles", F(c.ntest_titles), .def = "150", .lo = 1, .hi = 100000,
     .help = "titles of test/ (disjoint from the train titles; at least the\nlargest menu)"},
    {OPT_INT, "title-words", F(c.title_words), .def = "0", .lo = 0, .hi = 100000,
     .help = "titles from the first N adjectives and nouns of the seed's shuffled\n"
             "lists only (0: all 100 and 140): few words, each heard often"},
    {OPT_ENUM, "title-split", F(split), .def = "pairs", .values = "pairs|words",
     .help = "pairs: test titles are new adjective-noun pairs of words train\n"
             "titles also use; words: test titles use words no train title has"},
    {OPT_LIST, "menus", F(menus), .def = "5,20,100", .help = "menu sizes of test/ and dev/ (menuN files)"},
    {OPT_NUM, "unseen-fraction", F(c.unseen), .def = "0.5", .min = 0, .max = 1,
     .help = "fraction of test commands on paraphrases never spoken in train/dev"},
    {OPT_TEXT, .help = "audio:"},
    {OPT_LIST, "snr", F(snr), .def = "clean,10,5,0", .help = "test conditions, 'clean' or SNRs in dB in [-20, 60]"},
    {OPT_LIST, "noise", F(noise), .def = "babble,stationary", .values = "babble|stationary", .help = "noise kinds"},
    {OPT_NUM, "train-clean", F(c.train_clean), .def = "0.5", .min = 0, .max = 1,
     .help = "fraction of clean train/dev utterances; the others get a\nrandom SNR in [0, 20] dB"},
    {OPT_INT, "rate", F(c.p.rate), .def = "16000", .lo = 8000, .hi = 48000, .help = "audio sample rate"},
    {OPT_FLAG, "overwrite", F(overwrite), .help = "replace an existing --out"},
    OPT_THREADS("accepted by every command; generation runs on one core"),
    {.type = OPT_END},
};

static const avm_optspec slu_optspec = {
    "synth-slu",
    "usage: avmask synth-slu --out=DIR [options]\n"
    "Generates a spoken-command corpus for spoken language understanding: 20 intents with\n"
    "slots and seen/unseen paraphrases, \"play [title]\" with disjoint train and test titles,\n"
    "espeak-ng and flite voices (one family held out), WAV audio at the synthetic corpus's\n"
    "SNRs; data dirs train/ dev/ test/ (wav.scp text intent slots paraphrase conditions\n"
    "phones phones.ctm utt2spk spk2utt; menuN in dev/ and test/), intents.txt,\n"
    "text_corpus.txt, titles_train.txt, titles_test.txt (data/synth/README.md).\n",
    table, NULL, NULL,
};

static void parse_families(const char *s, slu_config *c) {
    char *items[MAX_LIST];
    int n = synth_split_list("synth-slu", "families", s, items);
    for (int i = 0; i < n; i++) {
        c->use[slu_family_id(items[i])] = 1;   /* the table checked the names */
        free(items[i]);
    }
}

static void parse_menus(const char *s, slu_config *c) {
    char *items[MAX_LIST];
    int n = synth_split_list("synth-slu", "menus", s, items);
    if (n > SLU_MAX_MENUS) avm_die("synth-slu: --menus lists %d sizes; at most %d", n, SLU_MAX_MENUS);
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        long v = strtol(items[i], &end, 10);
        if (errno || end == items[i] || *end || v < 2 || v > 100000)
            avm_die("synth-slu: --menus: '%s' is not a menu size (an integer >= 2)", items[i]);
        for (int j = 0; j < i; j++)
            if (c->menu[j] == v) avm_die("synth-slu: --menus: %ld is listed twice", v);
        c->menu[i] = (int)v;
        free(items[i]);
    }
    c->nmenu = n;
}

static void check(const slu_config *c) {
    if (c->heldout >= 0 && !c->use[c->heldout])
        avm_die("synth-slu: --heldout-family=%s is not one of --families", slu_family_name(c->heldout));
    int ntrainfam = 0;
    for (int f = 0; f < SLU_NFAMILIES; f++) ntrainfam += c->use[f] && f != c->heldout;
    if (!ntrainfam) avm_die("synth-slu: every family of --families is held out; none is left for train/");
    if (c->per_family - c->dev_per_family - c->test_per_family < 1)
        avm_die("synth-slu: --speakers-per-family=%d leaves no training speaker after %d dev and %d test speakers",
                c->per_family, c->dev_per_family, c->test_per_family);
    for (int i = 0; i < c->nmenu; i++) {   /* test menus hold test titles, dev menus train titles */
        if (c->menu[i] > c->ntest_titles)
            avm_die("synth-slu: a menu of %d titles needs --test-titles >= %d (it is %d)", c->menu[i], c->menu[i],
                    c->ntest_titles);
        if (c->dev_per_family && c->menu[i] > c->ntrain_titles)
            avm_die("synth-slu: a dev menu of %d titles needs --train-titles >= %d (it is %d)", c->menu[i],
                    c->menu[i], c->ntrain_titles);
    }
    int ctrain, ctest;
    slu_titles_capacity(c->split, c->title_words, &ctrain, &ctest);
    if (c->split == SLU_SPLIT_PAIRS && c->ntrain_titles + c->ntest_titles > ctrain)
        avm_die("synth-slu: --train-titles + --test-titles = %d; the pairs split has %d titles",
                c->ntrain_titles + c->ntest_titles, ctrain);
    if (c->split == SLU_SPLIT_WORDS && (c->ntrain_titles > ctrain || c->ntest_titles > ctest))
        avm_die("synth-slu: the words split has at most %d train and %d test titles", ctrain, ctest);
}

void slu_parse_options(int argc, char **argv, slu_config *c, const char **out, int *overwrite) {
    avm_opts o;
    slu_args a;
    memset(&a, 0, sizeof a);
    opts_parse(&o, &slu_optspec, &a, argc, argv);
    *c = a.c;
    parse_families(a.families, c);
    c->heldout = slu_family_id(a.heldout);   /* "none": -1 */
    c->split = !strcmp(a.split, "words") ? SLU_SPLIT_WORDS : SLU_SPLIT_PAIRS;
    parse_menus(a.menus, c);
    c->ntest = synth_parse_snr("synth-slu", a.snr, c->test);
    c->nkinds = synth_parse_noise("synth-slu", a.noise, c->kinds);
    c->nacc = synth_split_list("synth-slu", "voices", a.voices, c->accent);
    c->nvar = synth_split_list("synth-slu", "variants", a.variants, c->variant);
    check(c);
    opts_threads(&o);
    *out = xstrdup(a.out);
    *overwrite = a.overwrite;
    opts_free(&o);
}
