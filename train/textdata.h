/* Sentences for the text encoder: text files read into a set, encoded with a vocabulary,
 * planned into length-bucketed batches (train/batch.h's plan), and BERT's masking.
 * Input formats: `lines`, one sentence per line (its id is the line number; blank lines
 * are left out of training sets, kept as empty sentences where every line needs an
 * embedding); `kaldi`, a Kaldi `text` file of "<utt-id> <words...>" lines (sorted and
 * checked by train/trans.h; the id is the utt-id). Text must be valid UTF-8 (an error names
 * file and line). */
#ifndef AVMASK_TEXTDATA_H
#define AVMASK_TEXTDATA_H
#include <stddef.h>
#include <stdint.h>
#include "train/vocab.h"

typedef enum { TEXT_LINES = 0, TEXT_KALDI = 1 } avm_text_format;

typedef struct {
    int n, cap;
    char **id, **text;      /* [n] */
    int32_t **ids;          /* [n] after textset_encode: <cls> + word ids */
    int *len;               /* [n] their counts */
    avm_text_counts counts; /* of the encoding */
} avm_textset;

/* Appends the sentences of path; keep_blank 1 keeps blank lines (format lines) as empty
 * sentences. -1 + avm_fail("<file>:<line>: ..."). */
int  textset_read(avm_textset *s, const char *path, avm_text_format f, int keep_blank);
/* Appends one sentence (copies of id and text). */
void textset_add(avm_textset *s, const char *id, const char *text);
/* Encodes every sentence (vocab_encode, at most max_len ids); s->counts says what it met. */
void textset_encode(avm_textset *s, const avm_vocab *v, int max_len);
void textset_free(avm_textset *s);

/* A batch: B sentences padded to the longest (T), ids [B*T] with <pad> past len[b]. */
typedef struct {
    int B, T, global_B;
    int32_t *ids;
    int *len, *sent, *gidx;     /* [B] tokens, sentence index in the set, place in the global batch */
    int cap_b;
    size_t cap_bt;
} avm_textbatch;

/* Batches over a set: each epoch's plan is batch_plan's (shuffled by seed and epoch,
 * sorted by length, sentences x longest <= budget, batch order shuffled); without shuffle
 * the sorted order is kept (validation, embedding). */
typedef struct {
    const avm_textset *set;
    long budget;
    uint64_t seed;
    int shuffle, nbatch;
    int *order, *bstart;
} avm_textloader;

void textloader_open(avm_textloader *L, const avm_textset *s, long budget, uint64_t seed, int shuffle);
void textloader_close(avm_textloader *L);
int  textloader_plan(avm_textloader *L, long epoch);          /* returns the batch count */
/* This rank's contiguous slice of global batch b of the planned epoch (-1 + avm_fail if b
 * is outside it). */
int  textloader_get(avm_textloader *L, int b, int rank, int world, avm_textbatch *out);
void textbatch_free(avm_textbatch *b);

/* BERT's masking (Devlin et al. 2019) of a batch for the MLM loss: in each sentence
 * max(1, round(p x words)) of its word positions are chosen uniformly without replacement,
 * where words are the tokens after <cls> that are not <unk> (predicting <unk> teaches
 * nothing; a sentence without such a word has nothing chosen); a chosen token becomes <mask>
 * with probability 0.8, a word drawn uniformly from the vocabulary's words (ids >= 4) with
 * 0.1, and stays itself with 0.1; its target is the original id. Keyed by (seed, key,
 * gidx): training passes the step, validation a fixed key per batch. inp [B*T] is the
 * model's input, tgt [B*T] the targets (-1: not predicted). Returns the chosen count. */
int text_mask(const avm_textbatch *b, uint64_t seed, int64_t key, int vocab, double p, int32_t *inp, int32_t *tgt);
#endif
