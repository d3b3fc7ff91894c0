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
    const char *exp, *out, *title, *conditions, *notes, *compare;
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

/* The training-seed sections: groups, the --compare spec, the bootstrap's settings. */
typedef struct {
    const rep_seeds *z;
    const char *compare;
    int reps;
    uint64_t seed;
    avm_strbuf tsv;
} seed_args;

static void rate_cell(doc *d, const json_value *e) {
    const json_value *v = e ? json_get(e, "err") : NULL;
    if (!e) doc_cell(d, 0, "-");
    else if (!v || v->type != JSON_NUM) doc_cell(d, 0, "n/a");
    else doc_cellf(d, "%.2f", v->num);
}

/* Distinct experiment names over runs and results, sorted. */
static int experiments(const rep_scan *s, const char ***names) {
    int n = 0;
    *names = xmalloc((s->nruns + s->nres + 1) * sizeof **names);
    for (int i = 0; i < s->nruns + s->nres; i++) {
        const char *e = i < s->nruns ? s->runs[i].exp : s->res[i - s->nruns].exp;
        int seen = 0;
        for (int k = 0; k < n; k++) seen |= !strcmp((*names)[k], e);
        if (!seen) (*names)[n++] = e;
    }
    for (int i = 1; i < n; i++)   /* few names: insertion sort */
        for (int k = i; k > 0 && strcmp((*names)[k - 1], (*names)[k]) > 0; k--) {
            const char *t = (*names)[k]; (*names)[k] = (*names)[k - 1]; (*names)[k - 1] = t;
        }
    return n;
}

static void experiment_table(doc *d, const rep_scan *s) {
    const char **keys, **names;
    int nk = report_cond_keys(s, &keys), ne = experiments(s, &names), ncol = 11;
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    const char *head[] = {"experiment", "pretraining", "pretrain steps", "fine-tuning", "ft steps",
                          "test set", "%ERR", "S", "D", "I", "N"};
    for (int i = 0; i < 11; i++) doc_cell(d, 1, head[i]);
    for (int k = 0; k < nk; k++) {
        const char **vals;
        int nv = report_cond_values(s, keys[k], &vals);
        for (int v = 0; v < nv; v++) {
            char *h = xasprintf("%s=%s", keys[k], vals[v]);
            doc_cell(d, 1, h);
            free(h);
        }
        ncol += nv;
        free(vals);
    }
    doc_row_end(d);
    doc_md_rule(d, ncol);
    for (int e = 0; e < ne; e++) {
        int pre = report_find_run(s, names[e], ""), any = 0;
        for (int i = 0; i <= s->nres; i++) {
            const rep_result *r = i < s->nres ? &s->res[i] : NULL;
            if (r ? strcmp(r->exp, names[e]) : any) continue;   /* r == NULL: row without results */
            any = 1;
            doc_row_begin(d);
            doc_cell(d, 0, names[e]);
            doc_cell(d, 0, report_kind(s, names[e]));
            if (pre >= 0) doc_cellf(d, "%ld", s->runs[pre].steps); else doc_cell(d, 0, "-");
            const rep_run *ft = r && r->run >= 0 && *s->runs[r->run].sub ? &s->runs[r->run] : NULL;
            doc_cell(d, 0, ft ? ft->sub : "-");
            if (ft) doc_cellf(d, "%ld", ft->steps); else doc_cell(d, 0, "-");
            doc_cell(d, 0, r ? r->set : "-");
            const json_value *o = r ? json_get(r->j, "overall") : NULL;
            rate_cell(d, o);
            const char *cnt[] = {"S", "D", "I", "N"};
            for (int c = 0; c < 4; c++)
                if (o) doc_cellf(d, "%.0f", json_num_or(o, cnt[c], 0)); else doc_cell(d, 0, "-");
            for (int k = 0; k < nk; k++) {
                const char **vals;
                int nv = report_cond_values(s, keys[k], &vals);
                for (int v = 0; v < nv; v++) rate_cell(d, r ? report_cond(r, keys[k], vals[v]) : NULL);
                free(vals);
            }
            doc_row_end(d);
        }
    }
    sb_add(&d->html, "</table>\n");
    free(keys);
    free(names);
}

static double result_err(const rep_result *r) {
    const json_value *o = json_get(r->j, "overall"), *v = o ? json_get(o, "err") : NULL;
    return v && v->type == JSON_NUM ? v->num : NAN;
}

/* The headline: one row per model, one %ERR column per test set; the lowest error of each
 * column in bold. */
static void summary_table(doc *d, const rep_scan *s) {
    const char **sets;
    int ns = report_test_sets(s, &sets);
    double *best = xmalloc(ns * sizeof *best);
    char **model = xmalloc(s->nres * sizeof *model);
    for (int i = 0; i < s->nres; i++) model[i] = report_model_name(s, &s->res[i]);
    for (int k = 0; k < ns; k++) {
        best[k] = INFINITY;
        for (int i = 0; i < s->nres; i++)
            if (!strcmp(s->res[i].set, sets[k]) && result_err(&s->res[i]) < best[k]) best[k] = result_err(&s->res[i]);
    }
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    doc_cell(d, 1, "model");
    doc_cell(d, 1, "pretraining");
    for (int k = 0; k < ns; k++) doc_cell(d, 1, sets[k]);
    doc_row_end(d);
    doc_md_rule(d, ns + 2);
    for (int i = 0; i < s->nres; i++) {
        int first = 1;
        for (int j = 0; j < i; j++) first &= strcmp(model[j], model[i]) != 0;
        if (!first) continue;
        doc_row_begin(d);
        doc_cell(d, 0, model[i]);
        doc_cell(d, 0, report_kind(s, s->res[i].exp));
        for (int k = 0; k < ns; k++) {
            double e = NAN;
            for (int j = i; j < s->nres; j++)
                if (!strcmp(model[j], model[i]) && !strcmp(s->res[j].set, sets[k])) e = result_err(&s->res[j]);
            if (isnan(e)) doc_cell(d, 0, "-");
            else if (e == best[k]) { sb_printf(&d->md, " **%.2f** |", e); sb_printf(&d->html, "<td><b>%.2f</b></td>", e); }
            else doc_cellf(d, "%.2f", e);
        }
        doc_row_end(d);
    }
    sb_add(&d->html, "</table>\n");
    for (int i = 0; i < s->nres; i++) free(model[i]);
    free(model);
    free(best);
    free(sets);
}

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

static int seeded(const rep_seeds *z) {
    for (int g = 0; g < z->ng; g++) if (z->g[g].nseeds > 1) return 1;
    return 0;
}

static int write_doc(doc *d, const rep_scan *s, const char *title, const rep_plot *plots, int np,
                     const char *notes, seed_args *a) {
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    sb_printf(&d->md, "# %s\n\nExperiments under `%s`, %s: %d runs, %d results.\n", title, s->root, when,
              s->nruns, s->nres);
    sb_add(&d->html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    doc_html_esc(&d->html, title);
    sb_add(&d->html, "</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
                     "td,th{border:1px solid #999;padding:3px 8px;text-align:right}"
                     "img{max-width:100%}figure{margin:1em 0}</style></head><body>\n<h1>");
    doc_html_esc(&d->html, title);
    sb_add(&d->html, "</h1>\n<p>Experiments under <code>");
    doc_html_esc(&d->html, s->root);
    sb_printf(&d->html, "</code>, %s: %d runs, %d results.</p>\n", when, s->nruns, s->nres);
    if (s->nres) {
        doc_heading(d, "Error rate (%) by test set");
        summary_table(d, s);
    }
    const rep_plot *loss = NULL, *err = NULL, *seeds = NULL;
    int nl = 0, ne = 0, nz = 0;
    for (int i = 0; i < np; i++) {
        if (strstr(plots[i].file, "_loss.") || strstr(plots[i].file, "_valid_err.")) { if (!nl++) loss = &plots[i]; }
        else if (!strncmp(plots[i].file, "plots/seeds_", 12)) { if (!nz++) seeds = &plots[i]; }
        else if (!ne++) err = &plots[i];
    }
    if (seeded(a->z)) {
        doc_heading(d, "Training seeds: error rate (%), mean ± standard deviation");
        doc_para(d, "Experiments <name> (seed 1) and <name>-s<N> (seed N) are one arm trained with different "
                    "seeds; each cell is the mean and sample standard deviation over the seeds of the model's "
                    "%ERR (a condition value pooled over each seed's test sets).");
        report_seeds_table(d, s, a->z);
        figures(d, seeds, nz);
    }
    if (report_compare(d, s, a->z, a->compare, a->reps, a->seed, &a->tsv)) return -1;
    doc_heading(d, "Experiments");
    experiment_table(d, s);
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

int cmd_report(int argc, char **argv) {
    avm_opts o;
    report_opts r;
    opts_parse(&o, &report_optspec, &r, argc, argv);
    const char *exp = r.exp, *title = r.title, *keys = r.conditions, *notes_file = r.notes;
    int max_values = r.max_values;
    seed_args a = {NULL, r.compare, r.bootstrap, (uint64_t)r.bootstrap_seed, {0}};
    char *out = opts_given(&o, "out") ? xstrdup(r.out) : path_join(exp, "report");
    opts_threads(&o);
    char *notes = notes_file ? read_file(notes_file, NULL) : NULL;
    if (notes_file && !notes) avm_die("report: --notes: %s", avm_error());
    if (mkdir_p(out)) avm_die("report: %s", avm_error());

    rep_scan s;
    if (report_scan(&s, exp, out)) avm_die("report: %s", avm_error());
    s.keys = keys;
    s.max_values = max_values;
    rep_seeds z;
    report_seeds(&z, &s);
    a.z = &z;
    if (report_compare_check(&s, &z, a.compare)) avm_die("report: %s", avm_error());
    rep_plot *plots;
    int np;
    if (report_plots(&s, &z, out, &plots, &np)) avm_die("report: %s", avm_error());
    doc d = {{0}, {0}};
    if (write_doc(&d, &s, title, plots, np, notes, &a)) avm_die("report: %s", avm_error());
    char *md = path_join(out, "report.md"), *html = path_join(out, "report.html"), *tsv = path_join(out, "compare.tsv");
    if (write_file_atomic(md, d.md.s, d.md.len) || write_file_atomic(html, d.html.s, d.html.len) ||
        (a.tsv.len && write_file_atomic(tsv, a.tsv.s, a.tsv.len)))
        avm_die("report: %s", avm_error());
    if (!a.tsv.len && unlink(tsv) && errno != ENOENT) avm_die("report: %s: %s", tsv, strerror(errno));
    printf("report: %s and %s (%d runs, %d results, %d plots, gnuplot terminal %s)\n", md, html,
           s.nruns, s.nres, np, report_terminal());

    for (int i = 0; i < np; i++) { free(plots[i].file); free(plots[i].caption); }
    free(plots); free(md); free(html); free(tsv); free(out); free(notes);
    sb_free(&d.md); sb_free(&d.html); sb_free(&a.tsv);
    report_seeds_free(&z);
    report_scan_free(&s);
    opts_free(&o);
    return 0;
}
