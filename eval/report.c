/* avmask report: an experiment table, loss curves and error-rate-by-condition plots
 * for every experiment under --exp, as report.md and report.html (plots in plots/). */
#include "common/log.h"
#include "common/opts.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "eval/report.h"
#include "eval/report_doc.h"
#include "train/metrics.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *exp, *out, *title, *conditions, *notes, *compare, *compare_intent;
    int max_values, bootstrap;
    long bootstrap_seed;
} report_opts;

#define F(f) OPT_FIELD(report_opts, f)
static const avm_optdef table[] = {
    {OPT_STR, "exp", F(exp), .meta = "EXP", .flags = OPT_REQ, .help = "experiment dir"},
    {OPT_STR, "out", F(out), .meta = "DIR", .help = "report dir (default: EXP/report)"},
    {OPT_STR, "title", F(title), .def = "avmask report", .meta = "TEXT", .help = "title of the report"},
    {OPT_STR, "conditions", F(conditions), .meta = "KEYS",
     .help = "condition keys to break down, e.g. snr,noise (default: every key with at\n"
             "most --max-values distinct values)"},
    {OPT_INT, "max-values", F(max_values), .def = "12", .lo = 1, .hi = 1000000, .help = "see --conditions"},
    {OPT_STR, "notes", F(notes), .meta = "FILE",
     .help = "Markdown appended as a section \"Notes\" (e.g. what an\n"
             "investigation tried and found; default: none)"},
    {OPT_TEXT, .help = "Training seeds: experiments <name> (seed 1) and <name>-s<N> (seed N) are one arm; a\n"
                       "model dir with >= 2 seeds gets %ERR mean +- sd over the seeds (table, error-bar plot)."},
    {OPT_STR, "compare", F(compare), .meta = "\"A,B C,D\"",
     .help = "paired comparisons A - B of groups <name>/<model dir>, e.g.\n"
             "av/ctc,audio/ctc: per test set and condition, a bootstrap\n"
             "95% interval over utterances (and seeds when >= 3); default:\n"
             "every two groups with >= 2 seeds and the same model dir\n"
             "(\"none\": no comparison); rows also in OUT/compare.tsv"},
    {OPT_STR, "compare-intent", F(compare_intent), .meta = "\"A,B C,D\"",
     .help = "the same for groups of intent results (avmask eval --unit=intent),\n"
             "in accuracy: A - B > 0 when A gets more intents right; rows also in\n"
             "OUT/compare_intent.tsv"},
    {OPT_INT, "bootstrap", F(bootstrap), .def = "2000", .lo = 1, .hi = 1000000, .help = "bootstrap replicates"},
    {OPT_INT, "bootstrap-seed", F(bootstrap_seed), .def = "1", .lo = 0, .hi = LONG_MAX,
     .help = "seed of the bootstrap's generator (output is deterministic)"},
    OPT_THREADS("accepted by every command; report runs on one core"),
    {.type = OPT_END},
};

static const avm_optspec report_optspec = {
    "report",
    "usage: avmask report --exp=EXP [--out=EXP/report] [--title=TEXT] [--conditions=KEYS]\n"
    "Writes OUT/report.md and OUT/report.html (+ OUT/plots/) summarising every\n"
    "experiment under EXP:\n"
    "  EXP/<name>/metrics.jsonl                  pretraining run\n"
    "  EXP/<name>/<sub>/metrics.jsonl            fine-tuning run (e.g. ctc)\n"
    "  EXP/<name>/<sub>/decode_<set>/eval.json   error rates from avmask eval\n"
    "Tables: %ERR of every model on every test set (best in bold), then each result with\n"
    "its S/D/I/N and error rate by condition. Plots (gnuplot): pretraining and fine-tuning\n"
    "loss (train and valid), overall error rate, error rate by each condition key.\n",
    table, NULL, NULL,
};

/* The training-seed sections: groups, the --compare spec, the bootstrap's settings; the
 * same for the intent results (their own view of the scan). */
typedef struct {
    const rep_seeds *z;
    const char *compare;
    int reps;
    uint64_t seed;
    avm_strbuf tsv;
    const rep_scan *si;
    const rep_seeds *zi;
    const char *compare_intent;
    avm_strbuf tsv_intent;
    const rep_scan *all;        /* every result: the TinyS2I section reads its own */
} seed_args;

static void runs_table(doc *d, const rep_scan *s) {
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    const char *head[] = {"run", "steps", "last train loss", "best valid loss"};
    for (int i = 0; i < 4; i++) doc_cell(d, 1, head[i]);
    doc_row_end(d);
    doc_md_rule(d, 4);
    for (int i = 0; i < s->nruns; i++) {
        const rep_run *r = &s->runs[i];
        char *name = *r->sub ? xasprintf("%s/%s", r->exp, r->sub) : xstrdup(r->exp);
        doc_row_begin(d);
        doc_cell(d, 0, name);
        doc_cellf(d, "%ld", r->steps);
        if (r->train.n) doc_cellf(d, "%.4f", r->train.y[r->train.n - 1]); else doc_cell(d, 0, "-");
        double best = INFINITY;
        for (int k = 0; k < r->valid.n; k++) if (r->valid.y[k] < best) best = r->valid.y[k];
        if (r->valid.n) doc_cellf(d, "%.4f", best); else doc_cell(d, 0, "-");
        doc_row_end(d);
        free(name);
    }
    sb_add(&d->html, "</table>\n");
}

/* Pretraining runs at their last validation: masked-audio loss with the video, with it
 * dropped (the exported branch's condition) and shuffled, and the video's gains over both. */
static void video_table(doc *d, const rep_scan *s) {
    const char *head[] = {"pretraining run", "kind", "step", "masked-audio loss: video", "video dropped",
                          "video shuffled", "video gain vs shuffled", "vs dropped"};
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    for (int i = 0; i < 8; i++) doc_cell(d, 1, head[i]);
    doc_row_end(d);
    doc_md_rule(d, 8);
    for (int i = 0; i < s->nruns; i++) {
        const rep_run *r = &s->runs[i];
        if (*r->sub || r->vstep < 0) continue;
        doc_row_begin(d);
        doc_cell(d, 0, r->exp);
        doc_cell(d, 0, r->kind ? r->kind : "-");
        doc_cellf(d, "%ld", r->vstep);
        doc_num_cell(d, "%.4f", r->va);
        doc_num_cell(d, "%.4f", r->va_novideo);
        doc_num_cell(d, "%.4f", r->va_shuffled);
        doc_num_cell(d, "%+.1f %%", 100 * video_gain(r->va, r->va_shuffled));
        doc_num_cell(d, "%+.1f %%", 100 * video_gain(r->va, r->va_novideo));
        doc_row_end(d);
    }
    sb_add(&d->html, "</table>\n");
}

static int has_pretraining(const rep_scan *s) {
    for (int i = 0; i < s->nruns; i++) if (!*s->runs[i].sub && s->runs[i].vstep >= 0) return 1;
    return 0;
}

static void figures(doc *d, const rep_plot *p, int n) {
    for (int i = 0; i < n; i++) {
        sb_printf(&d->md, "![%s](%s)\n\n", p[i].caption, p[i].file);
        sb_add(&d->html, "<figure><img src=\"");
        doc_html_esc(&d->html, p[i].file);
        sb_add(&d->html, "\" alt=\"");
        doc_html_esc(&d->html, p[i].caption);
        sb_add(&d->html, "\"><figcaption>");
        doc_html_esc(&d->html, p[i].caption);
        sb_add(&d->html, "</figcaption></figure>\n");
    }
}


static int write_doc(doc *d, const rep_scan *s, const char *title, const rep_plot *plots, int np,
                     const char *notes, seed_args *a) {
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    int nres = s->nres + a->si->nres;
    sb_printf(&d->md, "# %s\n\nExperiments under `%s`, %s: %d runs, %d results.\n", title, s->root, when,
              s->nruns, nres);
    sb_add(&d->html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    doc_html_esc(&d->html, title);
    sb_add(&d->html, "</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
                     "td,th{border:1px solid #999;padding:3px 8px;text-align:right}"
                     "img{max-width:100%}figure{margin:1em 0}</style></head><body>\n<h1>");
    doc_html_esc(&d->html, title);
    sb_add(&d->html, "</h1>\n<p>Experiments under <code>");
    doc_html_esc(&d->html, s->root);
    sb_printf(&d->html, "</code>, %s: %d runs, %d results.</p>\n", when, s->nruns, nres);
    if (s->nres) {
        doc_heading(d, "Error rate (%) by test set");
        report_summary_table(d, s, 0);
    }
    const rep_plot *loss = NULL, *err = NULL, *seeds = NULL;
    int nl = 0, ne = 0, nz = 0;
    for (int i = 0; i < np; i++) {
        if (strstr(plots[i].file, "_loss.") || strstr(plots[i].file, "_valid_err.")) { if (!nl++) loss = &plots[i]; }
        else if (!strncmp(plots[i].file, "plots/seeds_", 12)) { if (!nz++) seeds = &plots[i]; }
        else if (!ne++) err = &plots[i];
    }
    if (report_seeded(a->z)) {
        doc_heading(d, "Training seeds: error rate (%), mean ± standard deviation");
        doc_para(d, "Experiments <name> (seed 1) and <name>-s<N> (seed N) are one arm trained with different "
                    "seeds; each cell is the mean and sample standard deviation over the seeds of the model's "
                    "%ERR (a condition value pooled over each seed's test sets).");
        report_seeds_table(d, s, a->z, 0);
        figures(d, seeds, nz);
    }
    if (report_compare(d, s, a->z, a->compare, a->reps, a->seed, &a->tsv, 0) ||
        report_intent(d, a->si, a->zi, a->compare_intent, a->reps, a->seed, &a->tsv_intent))
        return -1;
    report_tinys2i(d, a->all);
    doc_heading(d, "Experiments");
    report_experiment_table(d, s, 0);
    if (s->nruns) {
        doc_heading(d, "Runs");
        runs_table(d, s);
    }
    if (has_pretraining(s)) {
        doc_heading(d, "Pretraining: does the video help predict the masked audio?");
        const char *what = "Validation loss on masked audio tokens (same masks) with the true video, with the "
                           "video dropped, and with another sample's video; a gain near 0 means the model does "
                           "not use the video.";
        sb_printf(&d->md, "%s\n\n", what);
        sb_printf(&d->html, "<p>%s</p>\n", what);
        video_table(d, s);
        report_gain_seeds(d, s);
    }
    if (nl) { doc_heading(d, "Loss curves"); figures(d, loss, nl); }
    if (ne) { doc_heading(d, "Error rates"); figures(d, err, ne); }
    if (notes) {   /* Markdown as it is; the HTML shows it as preformatted text */
        doc_heading(d, "Notes");
        sb_printf(&d->md, "%s\n", notes);
        sb_add(&d->html, "<pre style=\"white-space:pre-wrap\">");
        doc_html_esc(&d->html, notes);
        sb_add(&d->html, "</pre>\n");
    }
    sb_add(&d->html, "</body></html>\n");
    return 0;
}

/* OUT/name holds the rows of a comparison; without any it is removed (a stale one would lie). */
static void write_tsv(const char *out, const char *name, const avm_strbuf *b) {
    char *path = path_join(out, name);
    if (b->len ? write_file_atomic(path, b->s, b->len) : unlink(path) && errno != ENOENT)
        avm_die("report: %s: %s", path, b->len ? avm_error() : strerror(errno));
    free(path);
}

int cmd_report(int argc, char **argv) {
    avm_opts o;
    report_opts r;
    opts_parse(&o, &report_optspec, &r, argc, argv);
    const char *exp = r.exp, *title = r.title, *keys = r.conditions, *notes_file = r.notes;
    int max_values = r.max_values;
    seed_args a = {NULL, r.compare, r.bootstrap, (uint64_t)r.bootstrap_seed, {0}, NULL, NULL, r.compare_intent, {0}, NULL};
    char *out = opts_given(&o, "out") ? xstrdup(r.out) : path_join(exp, "report");
    opts_threads(&o);
    char *notes = notes_file ? read_file(notes_file, NULL) : NULL;
    if (notes_file && !notes) avm_die("report: --notes: %s", avm_error());
    if (mkdir_p(out)) avm_die("report: %s", avm_error());

    rep_scan all, s, si;   /* error-rate results and intent results, each in its own view */
    if (report_scan(&all, exp, out)) avm_die("report: %s", avm_error());
    all.keys = keys;
    all.max_values = max_values;
    report_view(&s, &all, 0);
    report_view(&si, &all, 1);
    rep_seeds z, zi;
    report_seeds(&z, &s);
    report_seeds(&zi, &si);
    a.z = &z;
    a.si = &si;
    a.zi = &zi;
    a.all = &all;
    if (report_compare_check(&s, &z, a.compare) || report_compare_check(&si, &zi, a.compare_intent))
        avm_die("report: %s", avm_error());
    rep_plot *plots;
    int np;
    if (report_plots(&s, &z, out, &plots, &np)) avm_die("report: %s", avm_error());
    doc d = {{0}, {0}};
    if (write_doc(&d, &s, title, plots, np, notes, &a)) avm_die("report: %s", avm_error());
    char *md = path_join(out, "report.md"), *html = path_join(out, "report.html");
    if (write_file_atomic(md, d.md.s, d.md.len) || write_file_atomic(html, d.html.s, d.html.len))
        avm_die("report: %s", avm_error());
    write_tsv(out, "compare.tsv", &a.tsv);
    write_tsv(out, "compare_intent.tsv", &a.tsv_intent);
    printf("report: %s and %s (%d runs, %d results, %d plots, gnuplot terminal %s)\n", md, html,
           all.nruns, all.nres, np, report_terminal());

    for (int i = 0; i < np; i++) { free(plots[i].file); free(plots[i].caption); }
    free(plots); free(md); free(html); free(out); free(notes);
    sb_free(&d.md); sb_free(&d.html); sb_free(&a.tsv); sb_free(&a.tsv_intent);
    report_seeds_free(&z);
    report_seeds_free(&zi);
    report_view_free(&s);
    report_view_free(&si);
    report_scan_free(&all);
    opts_free(&o);
    return 0;
}
