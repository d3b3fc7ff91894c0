/* Kaldi-style data directories (docs/formats.md "Data directory"):
 *   media.scp or wav.scp  <utt-id> <path>            (path may be relative to the dir)
 *   segments (optional)   <utt-id> <rec-id> <start> <end>   (then the scp lists recordings)
 *   crops (optional)      <utt-id> x y w h           (crop box in source pixels)
 *   text, phones, utt2spk, conditions (optional)     <utt-id> <rest of line>
 * Every file is sorted by utt-id (C locale, strcmp) without duplicates; a malformed,
 * unsorted or duplicate line is an error "<file>:<line>: <reason>". */
#ifndef AVMASK_DATADIR_H
#define AVMASK_DATADIR_H

/* One utterance to extract. */
typedef struct {
    char *id;
    char *path;          /* media file, resolved against the data dir */
    double start, end;   /* seconds; end <= 0: whole file (no segments) */
    int crop[4];         /* x, y, w, h; w == 0: full frame */
} avm_utt;

/* A sorted "<utt-id> <value>" table (text, phones, utt2spk, conditions). */
typedef struct {
    char **keys, **vals;
    int n;
} avm_kv;

typedef struct {
    char *dir;
    avm_utt *u;
    int n;
    int audio_only;      /* the dir has wav.scp instead of media.scp */
    int has_segments, has_crops;
} avm_datadir;

/* Reads DIR's scp, segments and crops. 0, or -1 + avm_fail("<file>:<line>: <reason>"). */
int  datadir_read(avm_datadir *d, const char *dir);
void datadir_free(avm_datadir *d);

/* Reads a sorted "<utt-id> <rest>" file. allow_empty: a line may be just the id (an empty
 * transcript). 0, or -1 + avm_fail("<file>:<line>: <reason>"). */
int  kv_read(avm_kv *kv, const char *path, int allow_empty);
const char *kv_get(const avm_kv *kv, const char *key);   /* NULL if absent */
void kv_free(avm_kv *kv);
#endif
