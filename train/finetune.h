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
#include "common/json.h"
#include "common/opts.h"
#include "train/asr.h"
#include "train/specaug.h"
#include "train/state_cache.h"
#include "train/trainer.h"
#include "train/trans.h"

/* The options (finetune.c's table fills them; S2I's embeds them, train/s2i.h). */
typedef struct {
    const char *cmd;        /* the command, prefix of messages ("finetune", "s2i") */
    const char *init, *feats, *data, *out, *vfeats, *vdata, *units_file;
    const char *unit, *schedule, *model_name;   /* as given; parse() reads them */
    const char *objective, *ali, *vali;   /* finetune only: ctc|frame, the alignments (frame) */
    int frame;              /* --objective=frame: a phone label per token (the frame-level probe) */
    avm_unit_kind kind;
    long max_steps, log_every, valid_every, save_every, freeze_steps, batch_tokens;
    int layer_weights, layer_norm, resume, threads;
    long state_cache_mb;    /* finetune only: a frozen probe's states kept up to this size */
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
 * of what is trained on). With the frame objective: the unit of every token (n[i] = the
 * utterance's tokens), the crc then of each utt-id followed by its int32 labels. */
typedef struct { int **ids; int *n; avm_trans ref; uint32_t crc; } ft_labels;

typedef struct {
    avm_trainer t;
    avm_opts o;             /* owns the option strings f points to */
    ft_opts f;
    avm_config cfg;         /* a fresh encoder's architecture (--init=none) */
    avm_asr a;
    avm_params all;         /* encoder + head, one buffer (the parts are views of it) */
    avm_loader L, VL;       /* training and validation features */
    avm_state_cache cache;  /* a frozen probe's encoder states (empty: the encoder runs) */
    ft_labels lb, vlb;
    char *init;             /* "none" or the export dir */
    char *run_json;         /* the run configuration (checkpoints) */
    char *modeldir, *bestdir;
    int stack;              /* fbank frames per token */
    int impossible;         /* utterances of the last step too short for their labels */
} ft_run;

/* ---- what S2I (train/s2i.h) shares with fine-tuning ----
 * Option rows of the table: T is the options struct, P the path of its ft_opts member
 * ("ft." in S2I's, nothing in fine-tuning's). */
#define FT_F(T, P, f) OPT_FIELD(T, P f)
#define FT_MODEL_INT(NAME, HELP) {OPT_INT, NAME, .lo = 0, .hi = 1 << 24, .meta = "N", .help = HELP}
#define FT_ROWS_INPUT(T, P) \
    {OPT_STR, "init", FT_F(T, P, init), .meta = "DIR|none", .flags = OPT_REQ, \
     .help = "exported encoder (avmask export) or a fine-tuned model dir (its encoder; the head " \
             "is not read), or none: a fresh one (model below)"}, \
    {OPT_STR, "feats", FT_F(T, P, feats), .meta = "DIR", .flags = OPT_REQ, .help = "training features"}
#define FT_ROW_OUT(T, P) \
    {OPT_STR, "out", FT_F(T, P, out), .meta = "DIR", .flags = OPT_REQ, .help = "the run's directory"}
#define FT_ROW_BATCH(T, P) \
    {OPT_INT, "batch-tokens", FT_F(T, P, batch_tokens), .def = "2000", .lo = 1, .hi = 1000000000, \
     .help = "samples x padded tokens per batch"}
#define FT_ROWS_RUN(T, P) \
    {OPT_TEXT, .help = "run:"}, \
    {OPT_INT, "max-steps", FT_F(T, P, max_steps), .lo = 1, .hi = 100000000, .flags = OPT_REQ, .help = "optimiser updates"}, \
    {OPT_INT, "seed", FT_F(T, P, seed), .def = "1", .help = "head initialisation, batches, dropout, SpecAugment"}, \
    OPT_THREADS("OpenMP and OpenBLAS threads (default: all cores or OMP_NUM_THREADS)"), \
    {OPT_INT, "log-every", FT_F(T, P, log_every), .def = "10", .lo = 1, .hi = 1000000000, .help = "steps between log lines"}, \
    {OPT_INT, "valid-every", FT_F(T, P, valid_every), .def = "100", .lo = 1, .hi = 1000000000, \
     .help = "steps between validations"}, \
    {OPT_INT, "save-every", FT_F(T, P, save_every), .def = "500", .lo = 1, .hi = 1000000000, \
     .help = "steps between checkpoints (OUT/checkpoint-last.h5; also at the end)"}, \
    {OPT_FLAG, "resume", FT_F(T, P, resume), .help = "continue from OUT/checkpoint-last.h5 (starts fresh if there is none)"}
#define FT_ROWS_OPTIM(T, P) \
    {OPT_TEXT, .help = "optim:"}, \
    {OPT_NUM, "lr", FT_F(T, P, sched.peak), .def = "1e-3", .min = 0, .max = INFINITY, .flags = OPT_MIN_OPEN, \
     .help = "peak learning rate"}, \
    {OPT_INT, "warmup", FT_F(T, P, sched.warmup), .def = "100", .lo = 0, .hi = 1000000000, \
     .help = "steps of linear warm-up (at most --max-steps)"}, \
    {OPT_ENUM, "schedule", FT_F(T, P, schedule), .def = "cosine", .values = "cosine|linear|constant", \
     .help = "decay after warm-up"}, \
    {OPT_NUM, "final-lr-ratio", FT_F(T, P, sched.final_ratio), .def = "0.05", .min = 0, .max = 1, \
     .help = "last lr / peak lr"}, \
    {OPT_NUM, "weight-decay", FT_F(T, P, weight_decay), .def = "0.01", .min = 0, .max = INFINITY, \
     .help = "AdamW, decoupled"}, \
    {OPT_NUM, "clip", FT_F(T, P, clip), .def = "5", .min = 0, .max = INFINITY, .help = "global gradient-norm clip (0: off)"}, \
    {OPT_INT, "freeze-steps", FT_F(T, P, freeze_steps), .def = "0", .lo = 0, .hi = 1000000000, .values = "all", \
     .help = "the encoder stays frozen, only the head trains, for N\n" \
             "steps; all: for the whole run, a frozen probe of the representation"}
#define FT_ROWS_REGULARISE(T, P) \
    {OPT_TEXT, .help = "regularisation (small labelled sets overfit within a few hundred steps):"}, \
    {OPT_NUM, "dropout", FT_F(T, P, dropout), .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .meta = "P", \
     .help = "encoder dropout (default: the encoder's config, 0.1; 0 with --freeze-steps=all)"}, \
    {OPT_NUM, "attn-dropout", FT_F(T, P, attn_dropout), .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .meta = "P", \
     .help = "attention dropout (default: as --dropout)"}, \
    {OPT_NUM, "time-mask-prob", FT_F(T, P, aug.time_p), .def = "0", .min = 0, .max = 1, \
     .help = "SpecAugment time masks: each token starts a span of\n" \
             "--time-mask-len tokens with this probability, spans zeroed (e.g. 0.05)"}, \
    {OPT_INT, "time-mask-len", FT_F(T, P, aug.time_len), .def = "5", .lo = 1, .hi = 1000, .help = "tokens per time mask"}, \
    {OPT_INT, "freq-masks", FT_F(T, P, aug.n_freq), .def = "0", .lo = 0, .hi = 100, .help = "bands of mel bins zeroed"}, \
    {OPT_INT, "freq-mask-width", FT_F(T, P, aug.freq_width), .def = "20", .lo = 0, .hi = 10000, \
     .help = "at most this many bins each"}
#define FT_ROWS_MODEL(T, P) \
    {OPT_TEXT, .help = "model (--init=none only, a randomly initialised encoder; each key defaults to the --model\n" \
                       "config):"}, \
    {OPT_ENUM, "model", FT_F(T, P, model_name), .def = "tiny", .values = "tiny|small|base", .help = "named configuration"}, \
    FT_MODEL_INT("d", "width"), \
    FT_MODEL_INT("ffn", "feed-forward width"), \
    FT_MODEL_INT("heads", "attention heads"), \
    FT_MODEL_INT("layers-audio", "audio encoder layers"), \
    FT_MODEL_INT("layers-fusion", "fusion encoder layers"), \
    FT_MODEL_INT("max-len", "positions")
#define FT_ROWS_HOOKS(T, P) \
    {OPT_TEXT, .help = "test hooks:"}, \
    {OPT_INT, "debug-nan-step", FT_F(T, P, nan_step), .def = "0", .help = "a NaN gradient at this step (0: never)"}, \
    {OPT_INT, "debug-kill-step", FT_F(T, P, kill_step), .def = "0", .help = "SIGKILL after this step (0: never)"}, \
    {OPT_STR, "dump-grad", FT_F(T, P, dump_grad), .meta = "FILE", \
     .help = "the first step's summed gradient, raw float32 in view order"}

/* finetune.c */
/* The checks of the shared options after opts_parse: --valid with --valid-data, the
 * dropout a probe gets, the schedule, a fresh encoder's architecture into cfg (audio only,
 * encoder-only; its keys only with --init=none). Dies with one line naming f->cmd. */
void ft_opts_check(ft_opts *f, const avm_opts *o, avm_config *cfg);
/* Starts the shared loop of a fine-tuning-shaped command (finetune, s2i, tinys2i): its
 * options from f (AdamW: betas 0.9/0.98, eps 1e-8), the parameters, the training batches,
 * the run's config (compared on --resume), then a fresh start or a resume of --out.
 * valid_at_start: validate before the first step (the untrained head as a baseline). */
void ft_trainer_start(avm_trainer *t, const ft_opts *f, avm_params *all, avm_loader *L, const char *run_json,
                      int valid_at_start);
/* A feature dir for the encoder: its CMVN from config.json, stacking and input size
 * checked, no utterance longer than max_len (a crop would cut labels apart from frames). */
void ft_open_loader(avm_loader *L, const char *feats, const avm_model *enc, const json_value *config, long tokens,
                    uint64_t seed, int shuffle, const char *cmd);

/* finetune_model.c */
/* The encoder from the export f->init, or fresh with the training features' CMVN and
 * stacking (--init=none), into enc and *config (config.json); returns the init name
 * (caller frees). */
char *ft_build_encoder(avm_model *enc, json_value **config, const ft_opts *f, const avm_config *cfg);
/* An utterance-level head's input (s2i, tinys2i): the batch through the encoder (infer: its
 * inference forward, nothing kept for a backward; else the training forward, dropout from
 * rng) into enc_out [B*T, d], the padding into pad [B*T] and the mean over each sample's
 * tokens into pooled [B, d]. -1 + avm_fail. */
int ft_encode_pool(avm_model *enc, const avm_batch_data *d, avm_rng *rng, int infer, float *enc_out, uint8_t *pad,
                   float *pooled);
/* config.json of the tuned encoder (architecture, features, CMVN, source {init, step}). */
char *ft_model_config(const avm_model *enc, const json_value *config, const char *init, long steps);
/* The run configuration: the encoder's architecture ("model") and the fine-tuning options. */
char *ft_run_config(const ft_run *r);
/* The options S2I's run configuration shares, as keys of the open object: the inputs
 * (init, feats, data, valid, valid_data), the training (max_steps ... freeze_steps) and
 * the regularisation (time and frequency masks, threads). */
void ft_json_inputs(avm_jw *w, const ft_opts *f, const char *init);
void ft_json_train(avm_jw *w, const ft_opts *f);
void ft_json_regularise(avm_jw *w, const ft_opts *f);

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
/* The frame objective's labels: every token's phone from the CTM ali (data/ali.h: the
 * phone at the token's centre; outside every phone, silence, unit 0 <blank>), as ids of
 * units u; a phone that is not a unit is <unk> unless strict. Dies with one line naming
 * the file (an utterance without alignment; strict: a phone that is not a unit). */
void ft_frames_read(ft_labels *lb, const avm_loader *L, const char *ali, const avm_units *u, int strict,
                    const char *cmd);
void ft_labels_free(ft_labels *lb, int n);
extern const avm_task_ops ft_task_ops;
#endif
