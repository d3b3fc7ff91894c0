/* `avmask report`: the result tables, in error rates or (intent results) accuracies. */
#include "eval/report.h"
#include "eval/report_doc.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void rate_cell(doc *d, const json_value *e, int acc) {
    const json_value *v = e ? json_get(e, "err") : NULL;
    if (!e) doc_cell(d, 0, "-");
    else if (!v || v->type != JSON_NUM) doc_cell(d, 0, "n/a");
    else doc_cellf(d, "%.2f", acc ? 100 - v->num : v->num);
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

void report_experiment_table(doc *d, const rep_scan *s, int acc) {
    const char **keys, **names;
    int nk = report_cond_keys(s, &keys), ne = experiments(s, &names), ncol = acc ? 9 : 11;
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    /* intent results: no pretraining columns (an S2I arm is no pretraining experiment) */
    const char *head[] = {"experiment", "pretraining", "pretrain steps", acc ? "training run" : "fine-tuning",
                          acc ? "steps" : "ft steps", "test set", acc ? "%ACC" : "%ERR", "S", "D", "I", "N"};
    doc_cell(d, 1, head[0]);
    for (int i = acc ? 3 : 1; i < 11; i++) doc_cell(d, 1, head[i]);
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
            if (r ? strcmp(r->exp, names[e]) : any || acc) continue;   /* r == NULL: row without results */
            any = 1;
            doc_row_begin(d);
            doc_cell(d, 0, names[e]);
            if (!acc) {
                doc_cell(d, 0, report_kind(s, names[e]));
                if (pre >= 0) doc_cellf(d, "%ld", s->runs[pre].steps); else doc_cell(d, 0, "-");
            }
            const rep_run *ft = r && r->run >= 0 && *s->runs[r->run].sub ? &s->runs[r->run] : NULL;
            doc_cell(d, 0, ft ? ft->sub : "-");
            if (ft) doc_cellf(d, "%ld", ft->steps); else doc_cell(d, 0, "-");
            doc_cell(d, 0, r ? r->set : "-");
            const json_value *o = r ? json_get(r->j, "overall") : NULL;
            rate_cell(d, o, acc);
            const char *cnt[] = {"S", "D", "I", "N"};
            for (int c = 0; c < 4; c++)
                if (o) doc_cellf(d, "%.0f", json_num_or(o, cnt[c], 0)); else doc_cell(d, 0, "-");
            for (int k = 0; k < nk; k++) {
                const char **vals;
                int nv = report_cond_values(s, keys[k], &vals);
                for (int v = 0; v < nv; v++) rate_cell(d, r ? report_cond(r, keys[k], vals[v]) : NULL, acc);
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
void report_summary_table(doc *d, const rep_scan *s, int acc) {
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
    if (!acc) doc_cell(d, 1, "pretraining");
    for (int k = 0; k < ns; k++) doc_cell(d, 1, sets[k]);
    doc_row_end(d);
    doc_md_rule(d, ns + 2 - acc);
    for (int i = 0; i < s->nres; i++) {
        int first = 1;
        for (int j = 0; j < i; j++) first &= strcmp(model[j], model[i]) != 0;
        if (!first) continue;
        doc_row_begin(d);
        doc_cell(d, 0, model[i]);
        if (!acc) doc_cell(d, 0, report_kind(s, s->res[i].exp));
        for (int k = 0; k < ns; k++) {
            double e = NAN;
            for (int j = i; j < s->nres; j++)
                if (!strcmp(model[j], model[i]) && !strcmp(s->res[j].set, sets[k])) e = result_err(&s->res[j]);
            double v = acc ? 100 - e : e;
            if (isnan(e)) doc_cell(d, 0, "-");
            else if (e == best[k]) { sb_printf(&d->md, " **%.2f** |", v); sb_printf(&d->html, "<td><b>%.2f</b></td>", v); }
            else doc_cellf(d, "%.2f", v);
        }
        doc_row_end(d);
    }
    sb_add(&d->html, "</table>\n");
    for (int i = 0; i < s->nres; i++) free(model[i]);
    free(model);
    free(best);
    free(sets);
}

