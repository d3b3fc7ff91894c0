/* Phone alignments: a CTM file, '<utt-id> <channel> <start> <dur> <phone>' in seconds (the
 * synthetic corpora's data/<set>/phones.ctm), read for token-level phone labels: the
 * k-means metrics (cluster/), the frame-level probe (finetune --objective=frame) and its
 * scoring (eval --unit=frame). A token's phone is the segment whose [start, start + dur)
 * holds the token's centre, (t + 0.5) * token_seconds from the utterance start; a token
 * outside every segment is ALI_SIL (pauses are not phones in our CTMs), phone id 0. */
#ifndef AVMASK_ALI_H
#define AVMASK_ALI_H
#include <stdint.h>
#include "data/shard.h"

#define ALI_SIL "<sil>"

typedef struct { char *utt; double start, end; int phone; } avm_ali_seg;

typedef struct {
    avm_ali_seg *seg;    /* sorted by utterance, then start */
    int n, cap;
    char **phones;       /* phone names by id, phones[0] = ALI_SIL */
    int nph, ph_cap;
} avm_ali;

/* 0, or -1 + avm_fail naming the file and line. */
int  ali_read(avm_ali *a, const char *path);
void ali_free(avm_ali *a);
/* First segment of utt, or -1. */
int  ali_find(const avm_ali *a, const char *utt);
/* The phone ids of utt's T tokens into y (tokens of token_s seconds); 0, or -1 when utt
 * has no segment (y untouched). */
int  ali_tokens(const avm_ali *a, const char *utt, int T, double token_s, int32_t *y);
/* The end of utt's last segment in seconds, or -1 when it has none. */
double ali_end(const avm_ali *a, const char *utt);
/* Seconds per 25 Hz token of a feature dir: its stack over the extraction's
 * audio_frames_per_second (100 when not recorded). */
double ali_token_seconds(const avm_feats *fe);
#endif
