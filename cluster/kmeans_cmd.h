/* The modes of `avmask kmeans` (cmd_kmeans in kmeans_cmd.c picks one). Each reads its own
 * options from o, calls opts_finish and returns the exit status (or dies with one line). */
#ifndef AVMASK_KMEANS_CMD_H
#define AVMASK_KMEANS_CMD_H
#include "common/opts.h"
#include "data/labels.h"
#include "data/shard.h"

int kmeans_fit(avm_opts *o);       /* kmeans_fit.c */
int kmeans_apply(avm_opts *o);     /* kmeans_apply.c: --apply, --merge */
int kmeans_metrics(avm_opts *o);   /* kmeans_metrics.c: --metrics */

/* Phone purity, cluster purity and PNMI of the labels of fe against a CTM of phone timings
 * (`<utt> <channel> <start-s> <dur-s> <phone>`); printed and written to json_path.
 * 0 or -1 + avm_fail. */
int km_metrics_run(const avm_feats *fe, avm_labels *L, const char *ali, const char *json_path);
/* Seconds per token of a feature dir (4 / audio_frames_per_second of its config; 0.04). */
double km_token_seconds(const avm_feats *fe);
#endif
