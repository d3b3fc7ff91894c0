/* The spoken-command corpus (`avmask synth-slu`): the generator's state shared by the
 * command (synth_slu.c) and the files around the data dirs (synth_slu_meta.c). */
#ifndef AVMASK_SYNTH_SLU_H
#define AVMASK_SYNTH_SLU_H
#include "data/synth/synth_datadir.h"
#include "data/synth/synth_slu_options.h"
#include "data/synth/synth_slu_text.h"

enum { SLU_TRAIN, SLU_DEV, SLU_TEST, SLU_NSETS };

typedef struct {
    const slu_config *c;
    const char *root;                  /* temporary output dir */
    slu_speaker *spk;                  /* sorted by id */
    int *set;                          /* per speaker: SLU_TRAIN.. */
    int nspk;
    slu_titles titles;
    synth_datadir dd[SLU_NSETS];
    synth_babble babble;
    int babble_ready;
    slu_command cmd;
    int utts[SLU_NSETS];               /* base utterances (test: before its conditions) */
    int play_test, unseen_test;        /* test utterances with a title, on an unseen paraphrase */
    int files;
    double seconds;
} slu_corpus;

/* intents.txt, titles_train.txt, titles_test.txt, text_corpus.txt, text_corpus.tsv,
 * speakers.tsv and slu.json in k->root. 0, or -1 + avm_fail. */
int slu_write_meta(const slu_corpus *k);
extern const char *const slu_set_names[SLU_NSETS];
#endif
