/* `avmask report`: the section of intent results (eval.json "task": "intent", written by
 * avmask eval --unit=intent): accuracy by test set, the training seeds' mean ± sd, paired
 * comparisons with bootstrap intervals (the seed and comparison code of the error rates,
 * in accuracy terms), every result by condition, and each group's most frequent confusions. */
#include "eval/report.h"
#include "eval/report_doc.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

typedef struct { const char *ref, *hyp; double n; } cell;

/* Adds the off-diagonal cells of result r's confusion matrix to the list; *total gets its
 * utterances. */
static void add_confusions(const rep_result *r, cell **c, int *nc, double *total) {
    const json_value *cf = json_get(r->j, "confusion"), *lab = cf ? json_get(cf, "labels") : NULL;
    const json_value *hl = cf ? json_get(cf, "hyp_labels") : NULL, *m = cf ? json_get(cf, "matrix") : NULL;
    if (!lab || !hl || !m || lab->type != JSON_ARR || hl->type != JSON_ARR || m->type != JSON_ARR || m->n != lab->n)
        return;
    for (int i = 0; i < m->n; i++) {
        const json_value *row = m->items[i];
        if (row->type != JSON_ARR || row->n != hl->n || lab->items[i]->type != JSON_STR) continue;
        for (int j = 0; j < row->n; j++) {
            double v = row->items[j]->type == JSON_NUM ? row->items[j]->num : 0;
            *total += v;
            const char *ref = lab->items[i]->str, *hyp = hl->items[j]->type == JSON_STR ? hl->items[j]->str : "?";
            if (!v || !strcmp(ref, hyp)) continue;
            int k = 0;
            while (k < *nc && (strcmp((*c)[k].ref, ref) || strcmp((*c)[k].hyp, hyp))) k++;
            if (k == *nc) {
                *c = xrealloc(*c, (size_t)(*nc + 1) * sizeof **c);
                (*c)[(*nc)++] = (cell){ref, hyp, 0};
            }
            (*c)[k].n += v;
        }
    }
}

static int by_count(const void *a, const void *b) {
    const cell *x = a, *y = b;
    if (x->n != y->n) return x->n < y->n ? 1 : -1;
    int c = strcmp(x->ref, y->ref);
    return c ? c : strcmp(x->hyp, y->hyp);
}

/* One row per group: its five most frequent confusions over every seed and test set. */
static void confusion_table(doc *d, const rep_scan *s, const rep_seeds *z) {
    doc_heading(d, "Most frequent intent confusions");
    doc_para(d, "Per model (its seeds and test sets pooled): reference intent -> hypothesis, the number of "
                "utterances and their share of all the model's utterances (<none>: no hypothesis).");
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    const char *head[] = {"model", "utterances", "1", "2", "3", "4", "5"};
    for (int i = 0; i < 7; i++) doc_cell(d, 1, head[i]);
    doc_row_end(d);
    doc_md_rule(d, 7);
    for (int g = 0; g < z->ng; g++) {
        const rep_group *G = &z->g[g];
        cell *c = NULL;
        int nc = 0;
        double total = 0;
        for (size_t k = 0; k < (size_t)G->nseeds * z->nsets; k++)
            if (G->res[k] >= 0) add_confusions(&s->res[G->res[k]], &c, &nc, &total);
        if (nc > 1) qsort(c, nc, sizeof *c, by_count);
        doc_row_begin(d);
        doc_cell(d, 0, G->name);
        doc_cellf(d, "%.0f", total);
        for (int k = 0; k < 5; k++)
            if (k < nc) doc_cellf(d, "%s -> %s: %.0f (%.1f %%)", c[k].ref, c[k].hyp, c[k].n, 100 * c[k].n / total);
            else doc_cell(d, 0, "-");
        doc_row_end(d);
        free(c);
    }
    sb_add(&d->html, "</table>\n");
}

int report_intent(doc *d, const rep_scan *s, const rep_seeds *z, const char *spec, int reps, uint64_t seed,
                  avm_strbuf *tsv) {
    if (!s->nres) return 0;
    doc_heading(d, "Intent accuracy (%) by test set");
    doc_para(d, "Intent classifiers (avmask s2i) decoded with avmask decode and scored with avmask eval "
                "--unit=intent: the share of utterances whose intent is right (100 - %ERR of one-intent "
                "transcripts); the best of each column in bold.");
    report_summary_table(d, s, 1);
    if (report_seeded(z)) {
        doc_heading(d, "Intent accuracy (%), training seeds: mean ± standard deviation");
        doc_para(d, "Experiments <name> (seed 1) and <name>-s<N> (seed N) are one arm trained with different "
                    "seeds; each cell is the mean and sample standard deviation over the seeds of the model's "
                    "accuracy (a condition value pooled over each seed's test sets).");
        report_seeds_table(d, s, z, 1);
    }
    if (report_compare(d, s, z, spec, reps, seed, tsv, 1)) return -1;
    doc_heading(d, "Intent results by condition");
    report_experiment_table(d, s, 1);
    confusion_table(d, s, z);
    return 0;
}
