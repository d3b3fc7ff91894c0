/* metrics.jsonl: one JSON object per line, read by `avmask report`. Pretraining's:
 *   training:   {"step","loss","loss_audio","loss_video","lr","grad_norm","tokens_per_s","seconds"}
 *               and, with --target=clusters, "acc_audio" (masked tokens whose argmax is the label)
 *   validation: {"step","valid_loss","valid_loss_audio","valid_loss_video"} and, for an AV
 *               model, "valid_loss_audio_novideo", "valid_loss_audio_shuffled" (the masked-audio
 *               loss with the video dropped / paired with another sample's) and the relative
 *               gains of the true video over them, "video_gain_shuffled", "video_gain_dropped";
 *               with --target=clusters "valid_acc_audio" 
 * Fine-tuning's (metrics_line): {"step","loss","lr","grad_norm","impossible","seconds"} and
 * {"step","valid_loss","valid_err"}.
 * step counts updates done; seconds is training wall time, continued across resumes. */
#ifndef AVMASK_METRICS_H
#define AVMASK_METRICS_H
#include <stdio.h>

typedef struct {
    long step;
    double loss, loss_audio, loss_video, lr, grad_norm, tokens_per_s, seconds;
    double acc_audio;           /* target=clusters: masked accuracy (NaN: not written) */
    double loss_audio_novideo;  /* --novideo-pass: that pass's masked-audio loss (NaN: not written) */
} avm_train_metrics;

/* Opens for appending; on resume first drops lines with a step beyond keep_step (they
 * were logged after the checkpoint the run continues from). NULL + avm_fail on error. */
FILE *metrics_open(const char *path, long keep_step);
void  metrics_train(FILE *f, const avm_train_metrics *m);
typedef struct {
    long step;
    double loss, loss_audio, loss_video;
    double audio_novideo, audio_shuffled;      /* NaN: not measured (audio-only model) */
    double acc_audio;                          /* target=clusters: masked accuracy (NaN: not written) */
} avm_valid_metrics;
void  metrics_valid(FILE *f, const avm_valid_metrics *m);
/* A line of other keys, in order: numbers (NaN and infinities written null) or integers. */
typedef struct {
    const char *key;
    double v;
    int is_int;
} avm_metric;
void  metrics_line(FILE *f, const avm_metric *m, int n);
/* Relative improvement of the masked-audio loss from the true video over a control
 * (video dropped or shuffled): (control - true) / control; NaN if either is NaN. */
double video_gain(double with_video, double control);
#endif
