/* The training loop every task shares: pretraining (train/pretrain.c), CTC fine-tuning
 * (train/finetune.c) and any future head. The core owns what does not depend on the model:
 *   - batches: this rank's slice of global batch (epoch, position) of the task's loader (the
 *     feature loader of train/batch.h, or batches of the task's own through plan and get),
 *     a new epoch's plan when one ends;
 *   - the update: the ranks' gradients summed (one MPI_Allreduce over the flat buffer), a
 *     non-finite loss or gradient norm stops the run naming the last good checkpoint, the
 *     learning-rate schedule, global-norm clipping and AdamW in one pass over the task's one
 *     parameter buffer (views with decay and frozen flags, models/params.h);
 *   - metrics.jsonl (train/metrics.h), validation every valid_every steps and at the end,
 *     the best validation score (two keys, lower first; the task writes the best model),
 *     OUT/checkpoint-last.h5 every save_every steps and at the end (atomic, train/checkpoint.h);
 *   - --resume: an existing checkpoint is refused without it; with it, parameters, AdamW
 *     moments, loader position, best score and wall time come back, so the resumed run
 *     repeats the uninterrupted one bit for bit (every random decision of a task must be keyed
 *     by (seed, step, sample), train/seeding.h);
 *   - test hooks: the first step's summed gradient to a file, SIGKILL after a step, a NaN
 *     gradient at a step.
 * A task supplies its model's forward, loss and backward (step), its validation metric and
 * its log lines through avm_task_ops. Rank 0 writes every file. */
#ifndef AVMASK_TRAINER_H
#define AVMASK_TRAINER_H
#include <stdint.h>
#include <stdio.h>
#include "common/progress.h"
#include "models/params.h"
#include "train/batch.h"
#include "train/checkpoint.h"
#include "train/dist.h"
#include "train/optim.h"
#include "train/sched.h"

typedef struct {
    const char *name;            /* the command ("pretrain"): prefix of errors and log lines */
    const char *out;             /* output dir */
    long max_steps, log_every, valid_every, save_every;
    avm_sched sched;
    double beta1, beta2, eps, weight_decay, clip;
    uint64_t seed;
    int resume, threads;
    int valid_at_start;          /* also validate before the first step (the untrained baseline) */
    const char *dump_grad;       /* test hooks: the first step's gradient, raw float32 in view order */
    long kill_step, nan_step;    /* SIGKILL after this step; a NaN gradient at this step (0: never) */
} avm_train_opts;

typedef struct {
    long step;                   /* updates done */
    double loss, lr, grad_norm;
    double seconds;              /* training wall time, continued across resumes */
    double interval;             /* wall time since the previous log point */
} avm_step_log;

typedef struct avm_trainer avm_trainer;

typedef struct {
    /* Forward + backward of this rank's slice d of the global batch at update `step` (0-based):
     * leaves in params->grad this rank's share of the gradient of the objective over the union
     * batch (the core sums the ranks) and in *loss that objective (the same on every rank).
     * 1: update; 0: nothing to learn in this batch, no update; -1 + avm_fail.
     * d is NULL for a task with batches of its own (plan, get): it reads what get loaded. */
    int (*step)(avm_trainer *t, avm_batch_data *d, long step, double *loss);
    /* At a log point (root): the metrics.jsonl line and train.log line of the step. */
    void (*log)(avm_trainer *t, const avm_step_log *l);
    /* The figures of the progress line after a step (root). */
    void (*progress)(avm_trainer *t, char *buf, size_t n, double loss, double lr);
    /* Validation over the whole set (when has_valid), every rank taking part; logs it (root)
     * and ranks it by score[0], ties by score[1] (lower is better). -1 + avm_fail. */
    int (*validate)(avm_trainer *t, double score[2]);
    /* The model just validated is the best so far: write it (root). -1 + avm_fail. */
    int (*save_best)(avm_trainer *t);
    /* OUT/checkpoint-last.h5 exists: dies with one line if this run cannot continue it. */
    void (*check_resume)(avm_trainer *t, const char *path, const avm_ckpt_meta *m);
    /* After the last step (root): the final progress line (progress_end) and outputs. */
    void (*end)(avm_trainer *t, avm_progress *p, double last_loss);
    /* Batches of the task's own, used when t->train is NULL (text, train/textdata.h): plan
     * epoch `epoch` and return its number of global batches; load this rank's slice of
     * global batch b of the planned epoch (0 or -1 + avm_fail). NULL for loader tasks. */
    int (*plan)(avm_trainer *t, long epoch);
    int (*get)(avm_trainer *t, int b);
} avm_task_ops;

struct avm_trainer {
    avm_train_opts o;
    const avm_task_ops *ops;
    void *task;                  /* the task's own state, for its callbacks */
    avm_params *params;          /* the one flat buffer the update passes over */
    avm_loader *train;           /* training batches (NULL: the task's plan and get) */
    const char *config_json;     /* the run configuration stored in checkpoints */
    int has_valid;               /* 1: validate (ops->validate) */
    avm_dist dist;
    avm_adamw opt;
    avm_batch_data d;
    char *last;                  /* OUT/checkpoint-last.h5 */
    long step, epoch, epoch_pos, start;
    int nbatch;                  /* global batches in the current epoch */
    double best[2], seconds;     /* best validation score; training wall time so far */
    int resumed;                 /* 1: continued a checkpoint */
    FILE *metrics;
};

/* MPI (when launched by mpirun) and the defaults; call first, argc/argv may change. */
void trainer_init(avm_trainer *t, const avm_task_ops *ops, void *task, int *argc, char ***argv);
int  trainer_is_root(const avm_trainer *t);
/* Before the model is built: an existing OUT/checkpoint-last.h5 is refused without --resume
 * (and, through check_resume, when this run cannot continue it). 1 if there is one. */
int  trainer_check_out(avm_trainer *t);
/* With o, params, train and config_json set: the optimiser, the checkpoint's state when
 * resuming (its seed must be o.seed), OUT/ with train.log and metrics.jsonl (root) and the
 * loader's epoch plan. */
void trainer_start(avm_trainer *t, int resume);
void trainer_run(avm_trainer *t);
/* Closes metrics.jsonl, waits for every rank and leaves MPI. */
void trainer_finish(avm_trainer *t);
void trainer_free(avm_trainer *t);

/* A checkpoint of the current state at path (root; dies with one line on failure). */
void trainer_save(avm_trainer *t, const char *path);
/* Dies with "<name>: step N: <what> is <v>; stopped (last good checkpoint ...)". */
void trainer_stop(const avm_trainer *t, const char *what, double v);
#endif
