/* Internals of `avmask report`: finding experiments, reading their metrics.jsonl and
 * eval.json files, drawing the plots with gnuplot. Directory convention (eval/README.md):
 *   EXP/<name>/metrics.jsonl                  pretraining run of experiment <name>
 *   EXP/<name>/<sub>/metrics.jsonl            fine-tuning run (e.g. <sub> = ctc)
 *   EXP/<name>/<sub>/decode_<set>/eval.json   result of decoding <set> with that model
 * Any depth works: a directory with metrics.jsonl is a run, an eval.json a result; the
 * experiment is the first path component under EXP (EXP's own name for files directly
 * in EXP); a result belongs to the deepest run whose directory contains it. */
#ifndef AVMASK_REPORT_H
#define AVMASK_REPORT_H
#include "common/json.h"

typedef struct {
    double *x, *y;
    int n, cap;
} rep_series;

typedef struct {
    char *dir, *exp, *sub;      /* sub: path inside the experiment ("" for its root) */
    rep_series train, valid;    /* step -> loss, step -> valid_loss */
    rep_series verr;            /* step -> valid_err (fine-tuning: greedy %ERR on validation) */
    long steps;                 /* largest step seen */
    int has_video_loss;         /* some loss_video > 0: audio-visual pretraining */
    /* the last validation of a pretraining run: masked-audio loss with the video, and (AV)
     * with the video dropped and shuffled (NaN when not written); vstep < 0: none */
    long vstep;
    double va, va_novideo, va_shuffled;
    char *kind;                 /* "kind" field of the metrics lines, if any */
    int bad_lines;
} rep_run;

typedef struct {
    char *path, *exp, *sub, *set;   /* set: decode dir name without "decode_" */
    json_value *j;
    int run;                        /* index of the owning run, -1 if none */
    int intent;                     /* 1: an intent result (eval.json "task": "intent"), 2: a
                                     * TinyS2I result ("task": "tinys2i", in neither view) */
} rep_result;

typedef struct {
    char *root, *root_name;
    const char *keys;           /* condition keys to show, comma-separated (NULL: see max_values) */
    int max_values;             /* without keys: only keys with at most this many values */
    rep_run *runs;
    int nruns;
    rep_result *res;
    int nres;
} rep_scan;

/* Walks exp_dir (skipping skip_dir, e.g. the report's own output). 0 or -1 + avm_fail. */
int  report_scan(rep_scan *s, const char *exp_dir, const char *skip_dir);
void report_scan_free(rep_scan *s);
/* A view of s holding its runs and those of its results with intent == intent (the intent
 * results get their own section); free with report_view_free (the results stay s's). */
void report_view(rep_scan *v, const rep_scan *s, int intent);
void report_view_free(rep_scan *v);
int  report_find_run(const rep_scan *s, const char *exp, const char *sub);   /* index or -1 */
/* Pretraining kind of an experiment: "kind" field, else audio-visual / audio-only from
 * the losses, else "none" (no pretraining run). */
const char *report_kind(const rep_scan *s, const char *exp);

/* ---- training seeds (report_seeds.c, eval/README.md "Training seeds") ----
 * Seeds of one arm are sibling experiments: <name> is seed 1, <name>-s<N> seed N >= 2.
 * A group is (<name>, model dir), the model dir being the result's directory above
 * decode_<set> inside the experiment (e.g. "ctc", "probe/lr2e-3"). */
typedef struct { double mean, sd; int n; } rep_stat;   /* sd: sample (n - 1); NAN if n < 2 */
typedef struct {
    char *base, *model, *name;  /* name: "<base>/<model>" (or <base> when model is "") */
    int nseeds, *seed;          /* seed numbers, ascending */
    int *res;                   /* [nseeds * nsets]: index into rep_scan.res, or -1 */
    rep_stat *stat;             /* [ncols]: over the seeds' %ERR in each column */
} rep_group;
typedef struct {
    const char **sets;          /* test sets, easiest first */
    int nsets, ncols;           /* columns: the test sets, then every key=value */
    const char **ckey, **cval;  /* [ncols]: ckey NULL for a test set (cval its name) */
    rep_group *g;               /* every group, by name */
    int ng;
    char **warn;                /* a seed without a result another seed has, one line each */
    int nwarn;
} rep_seeds;

/* Groups the results of s (s->keys / s->max_values choose the condition columns) and
 * warns (avm_warn) about every missing result of a group with >= 2 seeds. */
void   report_seeds(rep_seeds *z, const rep_scan *s);
/* "<base>-s<N>" with N >= 2 written without a leading zero: *base (allocated) and N; else
 * a copy of the name and 1. */
int    report_seed_of(const char *exp, char **base);
void   report_seeds_free(rep_seeds *z);
int    report_seeded(const rep_seeds *z);   /* 1 if some group has >= 2 seeds */
int    report_group_find(const rep_seeds *z, const char *name);   /* index or -1 */
/* %ERR of seed index i of group g in column c: the result's overall %ERR for a test set,
 * the condition value's errors pooled over the seed's results (100 (S+D+I) / N) for a
 * key=value column; NAN when missing or undefined, and for a key=value column also when
 * the seed lacks a test set where another seed of the group has that value. */
double report_seed_err(const rep_scan *s, const rep_seeds *z, const rep_group *g, int i, int c);

/* A plot written by report_plots: file name relative to the report dir and a caption. */
typedef struct { char *file, *caption; } rep_plot;

/* gnuplot terminal available: "pngcairo", else "png", else "svg". */
const char *report_terminal(void);
/* Writes plots/ under out_dir (data, script, images) and runs gnuplot.
 * 0 or -1 + avm_fail (gnuplot missing or failing: its log is named). */
int report_plots(const rep_scan *s, const rep_seeds *z, const char *out_dir, rep_plot **plots, int *nplots);

/* Condition keys shown (s->keys, or every key with at most s->max_values values) and
 * the values of one key over all results, in display order (numbers in numeric order,
 * then words alphabetically). Caller frees the array, not the strings (owned by the JSON). */
int report_cond_keys(const rep_scan *s, const char ***keys);
int report_cond_values(const rep_scan *s, const char *key, const char ***values);
/* The model a result was decoded with: the directory above its decode dir
 * ("experiment/sub", e.g. av/ctc, av/probe). Caller frees. */
char *report_model_name(const rep_scan *s, const rep_result *r);
/* Distinct test sets, easiest first (lowest mean %ERR over the models that decoded
 * it). Caller frees the array, not the strings. */
int report_test_sets(const rep_scan *s, const char ***sets);
/* The condition entry {value, err, S, ...} of result r, or NULL. */
const json_value *report_cond(const rep_result *r, const char *key, const char *value);
#endif
