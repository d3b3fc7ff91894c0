/* Kaldi-style data directories of the synthetic corpora: "<utt> <value>" files named
 * by the caller, plus utt2spk and spk2utt. Utterances must be added in sorted order.
 * The audio-visual corpus's files (media.scp, text, phones, conditions, crops = mouth
 * box per utterance, phones.ctm = phone timings) are written by synth_datadir_open_av
 * and synth_datadir_add_av. */
#ifndef AVMASK_SYNTH_DATADIR_H
#define AVMASK_SYNTH_DATADIR_H
#include <stdio.h>
#include "common/log.h"
#include "common/strbuf.h"
#include "data/synth/synth_speech.h"

typedef struct {
    char *dir;
    const char *const *names;   /* the caller's files; utt2spk and spk2utt come after them */
    int nfiles;                 /* the caller's */
    FILE **f;                   /* nfiles + 2 */
    char spk[32];               /* speaker of the pending spk2utt line */
    avm_strbuf spk_utts;
    int nutt;
} synth_datadir;

/* Creates dir with the files names[n] (kept by reference), utt2spk and spk2utt.
 * 0, or -1 + avm_fail. */
int synth_datadir_open(synth_datadir *d, const char *dir, const char *const *names, int n);
/* Appends a line (the format gives the whole line but its newline) to file i. */
void synth_datadir_printf(synth_datadir *d, int i, const char *fmt, ...) AVM_PRINTF(3, 4);
/* Ends utterance utt of speaker spk, after its lines: writes its utt2spk line, collects
 * spk2utt and checks every file for write errors. 0, or -1 + avm_fail. */
int synth_datadir_add(synth_datadir *d, const char *utt, const char *spk);
/* The phones of utterance utt: its line in the `phones` file ip ("<utt> p1 p2 ...") and
 * its lines in the ctm file ic ("<utt> 1 <start> <dur> <phone>"). */
void synth_datadir_phones(synth_datadir *d, int ip, int ic, const char *utt, const synth_seg *seg, int nseg);
/* Writes the last spk2utt line and closes every file, checking for write errors. */
int synth_datadir_close(synth_datadir *d);

/* One utterance of the audio-visual corpus. */
typedef struct {
    const char *utt, *spk, *media;   /* media path relative to the data dir */
    const char *text, *conditions;
    const synth_seg *seg;
    int nseg;
    const int *crop;                 /* x, y, w, h */
} synth_entry;

int synth_datadir_open_av(synth_datadir *d, const char *dir);
int synth_datadir_add_av(synth_datadir *d, const synth_entry *e);
#endif
