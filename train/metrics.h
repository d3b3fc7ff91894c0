/* metrics.jsonl: one JSON object per line, read by `avmask report`.
 *   training:   {"step","loss","loss_audio","loss_video","lr","grad_norm","tokens_per_s","seconds"}
 *   validation: {"step","valid_loss","valid_loss_audio","valid_loss_video"}
 * step counts updates done; seconds is training wall time, continued across resumes. */
#ifndef AVMASK_METRICS_H
#define AVMASK_METRICS_H
#include <stdio.h>

typedef struct {
    long step;
    double loss, loss_audio, loss_video, lr, grad_norm, tokens_per_s, seconds;
} avm_train_metrics;

/* Opens for appending; on resume first drops lines with a step beyond keep_step (they
 * were logged after the checkpoint the run continues from). NULL + avm_fail on error. */
FILE *metrics_open(const char *path, long keep_step);
void  metrics_train(FILE *f, const avm_train_metrics *m);
void  metrics_valid(FILE *f, long step, double loss, double loss_audio, double loss_video);
#endif
