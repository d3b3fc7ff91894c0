/* Options of `avmask synth-slu` (data/synth/synth_slu_options.c). */
#ifndef AVMASK_SYNTH_SLU_OPTIONS_H
#define AVMASK_SYNTH_SLU_OPTIONS_H
#include "data/synth/synth_options.h"
#include "data/synth/synth_slu_titles.h"
#include "data/synth/synth_slu_voices.h"

#define SLU_MAX_MENUS 8

typedef struct {
    synth_params p;                  /* seed and rate */
    int use[SLU_NFAMILIES];          /* families in the corpus */
    int heldout;                     /* held-out family (test only), or -1 */
    int per_family, dev_per_family, test_per_family, utts;
    int ntrain_titles, ntest_titles;
    int title_words;            /* adjectives and nouns in use (0: all) */
    slu_title_split split;
    int menu[SLU_MAX_MENUS], nmenu;
    double unseen;                   /* fraction of test commands on unseen paraphrases */
    synth_condition test[MAX_TEST];
    int ntest;
    synth_noise_kind kinds[2];
    int nkinds;
    double train_clean;
    char *accent[MAX_LIST], *variant[MAX_LIST];
    int nacc, nvar;
} slu_config;

/* Parses and checks every option (dies with one line on a bad one); *out is a fresh copy. */
void slu_parse_options(int argc, char **argv, slu_config *c, const char **out, int *overwrite);
#endif
