/* Options of `avmask synth` (data/synth/synth_options.c). */
#ifndef AVMASK_SYNTH_OPTIONS_H
#define AVMASK_SYNTH_OPTIONS_H
#include "data/synth/synth_noise.h"
#include "data/synth/synth_utt.h"

#define MAX_TEST 12
#define MAX_LIST 64

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
    int noise_clips;
    double noise_seconds;
} synth_config;

/* Parses and checks every option (dies with one line on a bad one); *out is a fresh copy. */
void synth_parse_options(int argc, char **argv, synth_config *c, const char **out, int *overwrite);
/* Dies with one line if espeak-ng lacks a voice or variant of the configuration. */
void synth_check_voices(const synth_config *c);
#endif
