/* Batches for pretraining: length-bucketed by a token budget, random crops to max_len
 * tokens, shuffled by seed, deterministic given (seed, epoch).
 * A token is one video frame, or feats.stack stacked fbank frames (stack * n_mels values:
 * 4 at 25 tokens/s, as extract's default --fps=25 records it in the shards). Audio is normalised with the CMVN of the training features ((x - mean)/std per
 * mel bin), pixels with the pooled pixel mean/std.
 * An epoch plan: utterances (cropped length l = min(tokens, max_len)) are shuffled, sorted
 * by l (ties keep the shuffled order), cut greedily into batches with
 * count * max(l) <= batch_tokens, and the batch order is shuffled. Without shuffling
 * (validation) the sorted order is kept and crops take the first max_len tokens.
 * A global batch is split among MPI ranks in contiguous slices; every sample keeps its
 * position in the global batch (gidx) to key its random decisions. */
#ifndef AVMASK_BATCH_H
#define AVMASK_BATCH_H
#include <stddef.h>
#include <stdint.h>
#include "data/labels.h"
#include "data/shard.h"

typedef struct {
    int B, T;               /* samples on this rank, padded tokens */
    int *len;               /* [B] tokens */
    int *utt;               /* [B] index rows */
    int *gidx;              /* [B] position in the global batch */
    int global_B;           /* samples in the whole global batch */
    float *audio;           /* [B, T, audio_dim], padding zero */
    float *video;           /* [B, T, video_dim] or NULL (audio only), padding zero */
    int32_t *labels;        /* [B, T] cluster ids (loader with labels) or NULL, padding -1 */
    size_t cap_a, cap_v, cap_l;
    int cap_b;
} avm_batch_data;

typedef struct {
    avm_feats feats;
    avm_shard_reader *reader;
    float *a_mean, *a_istd; /* [n_mels] */
    float pix_mean, pix_istd;
    int audio_dim, video_dim, use_video;
    int max_len, shuffle;
    long batch_tokens;
    uint64_t seed;
    int *ntok;              /* [n] tokens of each utterance (before cropping) */
    const uint8_t *use;     /* NULL: plan every utterance; else only those with use[i] != 0 (a
                             * subset of the dir, e.g. S2I's labelled fraction; the caller owns it) */
    /* the current epoch's plan */
    long epoch;
    int nbatch;
    int *order, *bstart;    /* batch b = order[bstart[b] .. bstart[b+1]) */
    /* scratch for one utterance */
    float *fb;
    uint8_t *px;
    /* cluster labels (loader_open_labels; NULL: none), cropped like the tokens */
    avm_labels *labels;
    int32_t *lab;
} avm_loader;

/* Opens a feature dir for batching; cmvn_dir holds the cmvn.h5 to apply (the training
 * features', also for validation). use_video 0 ignores video. -1 + avm_fail on a missing
 * or inconsistent dir (index rows with audio != stack * video frames, no video when asked). */
int  loader_open(avm_loader *L, const char *dir, const char *cmvn_dir, int use_video, int max_len,
                 long batch_tokens, uint64_t seed, int shuffle, int max_open_shards);
void loader_close(avm_loader *L);
/* Adds per-token cluster labels (data/labels.h, a label dir of this loader's feature dir) to
 * every batch: out->labels holds each sample's labels with the same crop as its tokens.
 * expect_hash: the codebook the labels must come from (NULL: any). The whole label dir is
 * checked first (labels_open). -1 + avm_fail naming the label file and utterance. */
int  loader_open_labels(avm_loader *L, const char *dir, const char *expect_hash);
/* The epoch plan above over N samples of len[i] tokens (len <= 0: left out) with a budget
 * of samples x longest <= budget: order[] receives the samples batch by batch, batch b
 * being order[bstart[b] .. bstart[b+1]) (order: N ints, bstart: N + 1); returns the batch
 * count. Keyed by (seed, epoch); without shuffle the sorted order is kept. Shared by the
 * feature loader and the text batches (train/textdata.h). */
int  batch_plan(const int *len, int N, long budget, uint64_t seed, long epoch, int shuffle, int *order, int *bstart);
/* Plans the batches of an epoch (cheap; call again to change epoch). */
void loader_plan(avm_loader *L, long epoch);
/* The planned epoch's largest batch: *tokens = max over batches of samples x padded tokens,
 * *T = the longest sample (0 and 0 without batches), to size a forward's buffers once. */
void loader_plan_peak(const avm_loader *L, long *tokens, int *T);
/* Reads this rank's slice of global batch b (0 <= b < nbatch) of the planned epoch. */
int  loader_get(avm_loader *L, int b, int rank, int world, avm_batch_data *out);
/* The given utterances (index rows, in this order) as one batch, cropped as without
 * shuffling (the first max_len tokens): for forward passes over chosen utterances
 * (`avmask kmeans --source=layer`). -1 + avm_fail. */
int  loader_get_utts(avm_loader *L, const int *utts, int B, avm_batch_data *out);
/* Tokens of one sample after cropping, for sizing. */
int  loader_len(const avm_loader *L, int utt);
void batch_data_free(avm_batch_data *d);
#endif
