/* Options of `avmask synth` (data/synth/synth_options.c). */
#ifndef AVMASK_SYNTH_OPTIONS_H
#define AVMASK_SYNTH_OPTIONS_H
#include "common/json.h"
#include "data/synth/synth_noise.h"
#include "data/synth/synth_utt.h"

#define MAX_TEST 12
#define MAX_LIST 64

/* Default espeak-ng accents and variants (8 English accents x 20 variants). */
#define SYNTH_ESPEAK_ACCENTS "en-us,en,en-gb-scotland,en-gb-x-rp,en-029,en-us-nyc,en-gb-x-gbclan,en-gb-x-gbcwmd"
#define SYNTH_ESPEAK_VARIANTS "m1,m2,m3,m4,m5,m6,m7,f1,f2,f3,f4,f5,klatt,klatt2,max,paul,linda,adam,ed,john"

typedef struct {
    int clean;
    double snr;
    char name[32];        /* "clean" or "snr10" */
} synth_condition;

typedef struct {
    synth_params p;
    int speakers, utts, heldout;
    char *accent[MAX_LIST], *variant[MAX_LIST];
    int nacc, nvar;
    synth_condition test[MAX_TEST];
    int ntest;
    synth_noise_kind kinds[2];
    int nkinds;
    double train_clean;
    int clean_twins;      /* also train_clean/ and dev_clean/: each utterance before the noise */
    int noise_clips;
    double noise_seconds;
} synth_config;

/* Parses and checks every option (dies with one line on a bad one); *out is a fresh copy. */
void synth_parse_options(int argc, char **argv, synth_config *c, const char **out, int *overwrite);
/* Dies with one line ("CMD: --voices: ...") if espeak-ng lacks one of the accents or
 * variants. */
void synth_check_voices(const char *cmd, char *const *accent, int nacc, char *const *variant, int nvar);

/* Helpers shared by the corpus commands; CMD prefixes their one-line errors. */
/* Splits a comma list (no empty item: OPT_LIST) into fresh strings; at most MAX_LIST. */
int synth_split_list(const char *cmd, const char *opt, const char *s, char **out);
/* --snr: "clean" or SNRs in dB in [-20, 60], no repeats, at most MAX_TEST; returns the count. */
int synth_parse_snr(const char *cmd, const char *s, synth_condition *test);
/* --noise: babble|stationary (checked by the table), repeats dropped; returns the count. */
int synth_parse_noise(const char *cmd, const char *s, synth_noise_kind *kinds);
/* The keys "test_conditions", "noise" and "train_clean" of synth.json and slu.json. */
void synth_json_conditions(avm_jw *j, const synth_condition *test, int ntest, const synth_noise_kind *kinds,
                           int nkinds, double train_clean);
#endif
