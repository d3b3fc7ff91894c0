/* `avmask finetune`: CTC fine-tuning of an exported audio encoder (or a fresh one) with a
 * linear head over char/phone/word units, as a task of the shared training loop
 * (train/trainer.h). The pieces:
 *   finetune.c        options, setup, the command
 *   finetune_model.c  the encoder (export or fresh), the model dirs' config.json, the run
 *                     configuration stored in checkpoints
 *   finetune_task.c   transcripts as labels, one step, validation, logs, model-best/ and model/
 *   finetune_resume.c whether --resume can continue a checkpoint (layout, encoder, data, units)
 * The encoder and the head are trained as one flat buffer (params_join): encoder views are
 * frozen for --freeze-steps updates. Outputs: OUT/model/ (the last step) and OUT/model-best/
 * (lowest validation error, ties by loss), in the train/asr.h layout; OUT/checkpoint-last.h5,
 * metrics.jsonl, train.log. */
#ifndef AVMASK_FINETUNE_H
#define AVMASK_FINETUNE_H
#include <stdint.h>
#include "common/opts.h"
#include "train/asr.h"
#include "train/specaug.h"
#include "train/trainer.h"
#include "train/trans.h"

/* The options (finetune.c's table fills them). */
typedef struct {
    const char *init, *feats, *data, *out, *vfeats, *vdata, *units_file;
    const char *unit, *schedule, *model_name;   /* as given; parse() reads them */
    avm_unit_kind kind;
    long max_steps, log_every, valid_every, save_every, freeze_steps, batch_tokens;
    int layer_weights, layer_norm, resume, threads;
    double weight_decay, clip;
    double dropout, attn_dropout;   /* < 0: the encoder's config */
    avm_specaug aug;
    avm_sched sched;
    uint64_t seed;
    /* hidden test hooks (as pretrain's) */
    const char *dump_grad;
    long kill_step, nan_step;
} ft_opts;

/* Labels of every utterance of a feature dir, by index row; crc: the data's fingerprint,
 * CRC-32 of the lines "<utt-id> <transcript>\n" of the index rows in order (a Kaldi text
 * of what is trained on). */
typedef struct { int **ids; int *n; avm_trans ref; uint32_t crc; } ft_labels;

typedef struct {
    avm_trainer t;
    avm_opts o;             /* owns the option strings f points to */
    ft_opts f;
    avm_config cfg;         /* a fresh encoder's architecture (--init=none) */
    avm_asr a;
    avm_params all;         /* encoder + head, one buffer (the parts are views of it) */
    avm_loader L, VL;       /* training and validation features */
    ft_labels lb, vlb;
    char *init;             /* "none" or the export dir */
    char *run_json;         /* the run configuration (checkpoints) */
    char *modeldir, *bestdir;
    int stack;              /* fbank frames per token */
    int impossible;         /* utterances of the last step too short for their labels */
} ft_run;

/* finetune_model.c */
/* The encoder from the export f->init, or fresh with the training features' CMVN and
 * stacking (--init=none); sets a->enc and a->config; returns the init name (caller frees). */
char *ft_build_encoder(avm_asr *a, const ft_opts *f, const avm_config *cfg);
/* config.json of the tuned encoder (architecture, features, CMVN, source {init, step}). */
char *ft_model_config(const avm_asr *a, const char *init, long steps);
/* The run configuration: the encoder's architecture ("model") and the fine-tuning options. */
char *ft_run_config(const ft_run *r);

/* finetune_resume.c */
/* The task's check_resume: dies with one line when OUT/checkpoint-last.h5 holds the layout
 * of an earlier version (the encoder with the pretraining head and mask embedding), another
 * encoder, or was trained on other data or units (their fingerprints differ). */
void ft_check_resume(avm_trainer *t, const char *path, const avm_ckpt_meta *m);

/* finetune_task.c */
/* Reads DATA/text or DATA/phones and encodes the transcript of every index row (strict: a
 * unit outside the vocabulary is an error). Dies with one line naming the file. */
void ft_labels_read(ft_labels *lb, const avm_feats *f, const char *data, const avm_units *u,
                    avm_unit_kind kind, int strict);
void ft_labels_free(ft_labels *lb, int n);
extern const avm_task_ops ft_task_ops;
#endif
