/* `avmask textlm`: the text encoder, avmask's stand-in for BERT (train/README.md "The text
 * encoder"). Two modes of one option table:
 *   avmask textlm --text=F[,F...] --out=DIR --max-steps=N   masked-language-model training
 *       of models/textenc.h on the shared training core (train/trainer.h);
 *   avmask textlm --embed --model=DIR --input=F --out=F.h5   one sentence embedding per
 *       input sentence (mean of the final layer over its tokens, <cls> included).
 * The pieces:
 *   textlm.c        the option table, the checks, setup and the command
 *   textlm_task.c   the task: batches, BERT masking, one step, validation, logs, model dirs
 *   textlm_model.c  model dirs (text_encoder.h5, vocab.txt, config.json): write and load;
 *                   the run configuration of checkpoints
 *   textlm_embed.c  --embed
 * A model dir, OUT/model/ (the last step) and OUT/model-best/ (lowest validation loss):
 *   text_encoder.h5  the encoder's parameters (data/params_h5.h, format "avmask-text-encoder-1";
 *                    no MLM head), config = config.json's "model"
 *   vocab.txt        the vocabulary (train/vocab.h)
 *   config.json      {"model": {...}, "vocab": {"size", "crc32"}, "pooling": "mean",
 *                    "source": {"steps"}} */
#ifndef AVMASK_TEXTLM_H
#define AVMASK_TEXTLM_H
#include <stdint.h>
#include "common/opts.h"
#include "models/textenc.h"
#include "train/textdata.h"
#include "train/trainer.h"
#include "train/vocab.h"

#define TEXTLM_FORMAT "avmask-text-encoder-1"
#define TEXTLM_EMB_FORMAT "avmask-text-embeddings-1"

/* The options (textlm.c's table fills them). */
typedef struct {
    int embed;                            /* the mode */
    const char *text, *valid_text, *vocab_file, *out, *schedule;
    int format;                           /* avm_text_format */
    int min_count, max_vocab, resume, threads;
    long max_steps, log_every, valid_every, save_every, batch_tokens;
    double mask_prob, weight_decay, clip, contrastive, margin;
    avm_sched sched;
    uint64_t seed;
    avm_text_config model;
    const char *model_dir, *input;        /* --embed */
    const char *dump_grad;                /* hidden test hooks (as pretrain's) */
    long kill_step, nan_step;
} tl_opts;

/* The contrastive term's buffers: the slice twice, pooled embeddings, the triplet state. */
typedef struct {
    int32_t *ids;
    int *len, *neg;
    float *pool, *dpool, *an, *pn, *st;
} tl_views;

typedef struct {
    avm_trainer t;
    avm_opts o;                 /* owns the option strings f points to */
    tl_opts f;
    avm_vocab vocab;
    avm_textset train, valid;
    avm_textloader L, VL;
    avm_textbatch batch;        /* this rank's slice of the current batch */
    avm_textenc m;
    int32_t *inp, *tgt;         /* masked input and targets of a batch */
    size_t cap, cap_v;
    int cap_vb;
    tl_views v;
    char *run_json, *modeldir, *bestdir;
    /* the last step's figures */
    double mlm, con, acc, toks, rate;
} tl_run;

/* textlm_model.c */
/* The model dir's config.json text. */
char *tl_model_config(const avm_text_config *c, const avm_vocab *v, long steps);
/* Writes dir/text_encoder.h5 (the encoder's views only), vocab.txt and config.json. */
int  tl_model_save(const avm_textenc *m, const avm_vocab *v, const char *dir, long steps);
/* Loads a model dir: the encoder (without MLM head) and its vocabulary, which must be the
 * one config.json names. -1 + avm_fail naming the file. */
int  tl_model_load(const char *dir, avm_textenc *m, avm_vocab *v);
/* The run configuration stored in checkpoints: the model and the training options. */
char *tl_run_config(const tl_run *r);

/* textlm_task.c */
extern const avm_task_ops tl_task_ops;

/* textlm_embed.c */
/* The sentence embeddings of an encoded set (textset_encode with the model's vocabulary
 * and max_len), in the set's order, into emb [n, d]: the mean of the final layer over each
 * sentence's tokens, no dropout, batches of at most budget padded tokens. -1 + avm_fail. */
int  tl_embed_sentences(avm_textenc *m, const avm_textset *s, long budget, float *emb);
/* The --embed mode. */
int  tl_embed(tl_opts *f);
#endif
