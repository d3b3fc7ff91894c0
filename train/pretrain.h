/* `avmask pretrain`: options, one step and validation of the masked-prediction task (the
 * loop around them: train/trainer.h). */
#ifndef AVMASK_PRETRAIN_H
#define AVMASK_PRETRAIN_H
#include <stdint.h>
#include <stdio.h>
#include "common/opts.h"
#include "models/avmodel.h"
#include "train/batch.h"
#include "train/dist.h"
#include "train/noise.h"
#include "train/optim.h"
#include "train/sched.h"

/* embed: a learned mask vector; substitute: frames of another span of the same sample
 * (AV-HuBERT); none: the video is never masked (only the audio is predicted). */
typedef enum { VMASK_EMBED = 0, VMASK_SUBSTITUTE, VMASK_NONE } avm_video_mask;

typedef struct {
    const char *feats, *valid, *out;
    long max_steps, log_every, valid_every, save_every;
    long batch_tokens;
    int max_len, max_open_shards, resume, threads;
    avm_sched sched;
    double beta1, beta2, eps, weight_decay, clip;
    uint64_t seed;
    double mask_p_audio, mask_p_video;
    int mask_l_audio, mask_l_video;
    avm_video_mask video_mask;          /* what a masked video token holds */
    double drop_audio, drop_video;      /* modality dropout probabilities */
    int novideo_pass;                   /* every step also scores the masked audio with the video dropped */
    const char *noise_feats;            /* noise feature dir (NULL: no noise mixing) */
    double noise_prob, noise_snr[2];    /* per sample; SNR range in dB */
    /* model.target=clusters (--target=clusters): label dirs (data/labels.h) of --feats and
     * --valid, the unmasked tokens' weight, and the codebook the labels come from (set when
     * the labels are opened; owned) */
    const char *labels, *valid_labels;
    double unmasked_weight;
    char *codebook_hash;
    avm_config model;
    const char *model_name, *schedule, *noise_snr_arg;   /* as given; pretrain_parse reads them */
    int model_in_set[3];                /* audio_in / video_in / num_classes given explicitly */
    /* hidden test hooks */
    const char *dump_grad;              /* write the averaged gradient of the first step */
    long kill_step;                     /* SIGKILL itself after this step (0: never) */
    long nan_step;                      /* poison the gradient at this step (0: never) */
} avm_pretrain_opts;

/* Parses and checks every option (dies with one line on a bad one). */
void pretrain_parse(avm_pretrain_opts *po, avm_opts *o, int argc, char **argv);
extern const avm_optspec pretrain_optspec;   /* its option table (pretrain_opts.c) */
/* The full run configuration as JSON (config.json and the checkpoint attribute). */
char *pretrain_config_json(const avm_pretrain_opts *po, const avm_feats *f);

/* Loss statistics of one step or a validation pass, summed over ranks. */
typedef struct {
    double n_audio, sum_audio;          /* masked tokens, sum of per-token-mean losses */
    double n_video, sum_video;
    double tokens;                      /* input tokens (audio + video streams) */
    /* validation of an AV model only: the masked-audio loss again with the video dropped
     * and with the video of another sample (same masks), for the video gain; training with
     * --novideo-pass: the loss of that pass (a term of the objective) */
    double n_audio_novideo, sum_audio_novideo;
    double n_audio_shuffled, sum_audio_shuffled;
    double n_correct;                   /* target=clusters: masked audio tokens predicted right */
} avm_step_stats;
double stats_loss(const avm_step_stats *s);
double stats_audio(const avm_step_stats *s);
double stats_video(const avm_step_stats *s);   /* NaN when no video token was masked */
double stats_audio_novideo(const avm_step_stats *s);   /* NaN without the diagnostics */
double stats_audio_shuffled(const avm_step_stats *s);
double stats_acc(const avm_step_stats *s);     /* masked accuracy; NaN without masked audio */

typedef struct {
    avm_model model;
    avm_dist dist;
    uint8_t *mask_a, *mask_v, *drop_a, *drop_v, *all;
    float *vshuf;                       /* validation: the batch's video, paired with other samples */
    float *vsub;                        /* --video-mask=substitute: the corrupted video */
    size_t cap_vshuf, cap_vsub;
    int cap;
    avm_noise *noise;                   /* training input noise (NULL: none) */
} avm_stepper;

/* Forward + backward of this rank's slice of a global batch at update `step`: masks,
 * modality dropout and noise keyed by (seed, step, position in the global batch), dropout
 * by (seed, step, rank). With s->noise, the input audio is noisy, the target the clean.
 * Leaves in params.grad this rank's gradient weighted by (masked tokens of the rank) /
 * (masked tokens of the global batch) per modality, so that the sum over ranks (the
 * trainer's all-reduce) is the gradient of the union batch; st is summed over ranks.
 * -1 + avm_fail if the model refuses the batch. */
int step_train(avm_stepper *s, const avm_pretrain_opts *po, const avm_batch_data *d, long step,
               avm_step_stats *st);
/* Mean masked-prediction losses over a whole feature set (fixed masks, no dropout, no
 * modality dropout): per modality, mean over all its masked tokens. An AV model is also run
 * with the video dropped and with every sample's video replaced by another sample's of the
 * same batch (slice of a rank), looped to the length (a one-sample slice: its own video
 * rotated by half its length), for the video-gain diagnostics. */
int step_validate(avm_stepper *s, const avm_pretrain_opts *po, avm_loader *L, avm_batch_data *d,
                  avm_step_stats *st);
void stepper_free(avm_stepper *s);

int cmd_pretrain(int argc, char **argv);

/* target=clusters (train/targets.c). Opens the label dirs on the loaders (valid: same
 * codebook as the training labels), sets po->model.num_classes and po->codebook_hash; dies
 * with one line on a refusal. No-op for target=features. */
void targets_open(avm_pretrain_opts *po, avm_loader *train, avm_loader *valid);
/* --resume: the checkpoint's stored run configuration (JSON) must have the same target kind
 * and, for clusters, the same codebook hash and k; dies with one line naming path otherwise. */
void targets_check_resume(const avm_pretrain_opts *po, const char *path, const char *config_json);
/* --labels, --valid-labels, --unmasked-weight against --target (pretrain_parse). */
void targets_parse(avm_pretrain_opts *po, avm_opts *o);
/* The train-section keys of a run configuration for the target. */
void targets_config_json(const avm_pretrain_opts *po, avm_jw *w);
#endif
