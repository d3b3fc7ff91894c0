/* The modes of `avmask kmeans` (cmd_kmeans in kmeans_cmd.c parses the options of every
 * mode, its table, and picks one). Each checks what its options mean together and
 * returns the exit status (or dies with one line). */
#ifndef AVMASK_KMEANS_CMD_H
#define AVMASK_KMEANS_CMD_H
#include "cluster/km_feats.h"
#include "common/opts.h"
#include "data/labels.h"
#include "data/shard.h"

/* The options of every mode (the table in kmeans_cmd.c says which mode takes which). */
typedef struct {
    int apply, merge, metrics;      /* the mode flags */
    const char *feats, *out, *ckpt, *ali;
    int batch, threads;
    long batch_tokens;
    /* fit */
    const char *source, *dump, *video;
    km_source src;                  /* of source */
    int k, iters, max_sample, n_init, layer;
    int no_video;                   /* of video: drop */
    double sample, tol;
    long seed;
    /* apply, merge */
    const char *codebook, *job_arg;
    int job, nj;                    /* of job_arg (1/1 without) */
    /* metrics */
    const char *labels, *json;
} km_opts;
extern const avm_optspec kmeans_optspec;

int kmeans_fit(avm_opts *o, km_opts *k);       /* kmeans_fit.c */
int kmeans_apply(avm_opts *o, km_opts *k);     /* kmeans_apply.c: --apply, --merge */
int kmeans_metrics(avm_opts *o, km_opts *k);   /* kmeans_metrics.c: --metrics */

/* Phone purity, cluster purity and PNMI of the labels of fe against a CTM of phone timings
 * (`<utt> <channel> <start-s> <dur-s> <phone>`); printed and written to json_path.
 * 0 or -1 + avm_fail. */
int km_metrics_run(const avm_feats *fe, avm_labels *L, const char *ali, const char *json_path);
#endif
