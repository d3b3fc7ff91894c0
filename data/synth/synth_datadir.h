/* Writes one Kaldi-style data directory of the synthetic corpus: media.scp, text,
 * phones, utt2spk, spk2utt, conditions, crops (mouth box per utterance) and
 * phones.ctm (phone timings). Utterances must be added in sorted order. */
#ifndef AVMASK_SYNTH_DATADIR_H
#define AVMASK_SYNTH_DATADIR_H
#include <stdio.h>
#include "common/strbuf.h"
#include "data/synth/synth_speech.h"

enum { DD_SCP, DD_TEXT, DD_PHONES, DD_UTT2SPK, DD_SPK2UTT, DD_COND, DD_CROPS, DD_CTM, DD_NFILES };

typedef struct {
    char *dir;
    FILE *f[DD_NFILES];
    char spk[32];          /* speaker of the pending spk2utt line */
    avm_strbuf spk_utts;
    int nutt;
} synth_datadir;

typedef struct {
    const char *utt, *spk, *media;   /* media path relative to the data dir */
    const char *text, *conditions;
    const synth_seg *seg;
    int nseg;
    const int *crop;                 /* x, y, w, h */
} synth_entry;

/* Creates dir and its files. 0, or -1 + avm_fail. */
int synth_datadir_open(synth_datadir *d, const char *dir);
int synth_datadir_add(synth_datadir *d, const synth_entry *e);
/* Writes the last spk2utt line and closes every file, checking for write errors. */
int synth_datadir_close(synth_datadir *d);
#endif
