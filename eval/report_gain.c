/* `avmask report`: the video-gain diagnostics of pretraining runs over training seeds.
 * Sibling pretraining runs <name>, <name>-s<N> (report_seed_of) at the same last
 * validation step form a group; each figure is the mean ± sample sd over the seeds, a
 * gain being computed per seed and then averaged. */
#include "eval/report_doc.h"
#include "common/util.h"
#include "train/metrics.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { G_VIDEO, G_DROPPED, G_SHUFFLED, G_GAIN_SH, G_GAIN_DR, G_N };

typedef struct {
    char *base;
    const char *kind;     /* report_kind */
    long step;            /* -1: the seeds stopped at different steps */
    int n;
    double v[G_N][64];    /* per seed */
} gain_group;

static void values(const rep_run *r, double *v) {
    v[G_VIDEO] = r->va;
    v[G_DROPPED] = r->va_novideo;
    v[G_SHUFFLED] = r->va_shuffled;
    v[G_GAIN_SH] = 100 * video_gain(r->va, r->va_shuffled);
    v[G_GAIN_DR] = 100 * video_gain(r->va, r->va_novideo);
}

/* Groups the pretraining runs (experiment roots with a validation); returns the count. */
static int collect(const rep_scan *s, gain_group *g, int cap) {
    int ng = 0;
    for (int i = 0; i < s->nruns; i++) {
        const rep_run *r = &s->runs[i];
        if (*r->sub || r->vstep < 0) continue;
        char *base;
        report_seed_of(r->exp, &base);
        int k = 0;
        while (k < ng && strcmp(g[k].base, base)) k++;
        if (k == ng) {
            if (ng == cap) { free(base); continue; }
            g[ng++] = (gain_group){.base = base, .kind = report_kind(s, r->exp), .step = r->vstep};
        } else {
            free(base);
        }
        gain_group *G = &g[k];
        if (G->step != r->vstep) G->step = -1;
        if (G->n == 64) continue;
        double v[G_N];
        values(r, v);
        for (int c = 0; c < G_N; c++) G->v[c][G->n] = v[c];
        G->n++;
    }
    return ng;
}

/* "mean ± sd" of x [n], the mean with fmt, the sd with sdfmt; "-" when a value is missing. */
static void stat_cell(doc *d, const char *fmt, const char *sdfmt, const double *x, int n) {
    double m = 0, ss = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    if (!isfinite(m)) { doc_cell(d, 0, "-"); return; }
    char *a = xasprintf(fmt, m), *b = xasprintf(sdfmt, sqrt(ss / (n - 1)));
    doc_cellf(d, "%s ± %s", a, b);
    free(a); free(b);
}

int report_gain_seeds(doc *d, const rep_scan *s) {
    gain_group g[256];
    int ng = collect(s, g, 256), shown = 0;
    for (int k = 0; k < ng; k++) shown += g[k].n >= 2;
    if (shown) {
        sb_add(&d->md, "\n");   /* a paragraph, not a row of the table above */
        doc_para(d, "Over training seeds (mean ± sample standard deviation; a gain is computed per seed, "
                    "then averaged; a group whose seeds stopped at different steps shows no figures):");
        const char *head[] = {"pretraining", "kind", "seeds", "step", "masked-audio loss: video", "video dropped",
                              "video shuffled", "video gain vs shuffled (%)", "vs dropped (%)"};
        sb_add(&d->html, "<table>\n");
        doc_row_begin(d);
        for (int i = 0; i < 9; i++) doc_cell(d, 1, head[i]);
        doc_row_end(d);
        doc_md_rule(d, 9);
        for (int k = 0; k < ng; k++) {
            const gain_group *G = &g[k];
            if (G->n < 2) continue;
            doc_row_begin(d);
            doc_cell(d, 0, G->base);
            doc_cell(d, 0, G->kind);
            doc_cellf(d, "%d", G->n);
            if (G->step < 0) {
                doc_cell(d, 0, "differ");
                for (int c = 0; c < G_N; c++) doc_cell(d, 0, "-");
            } else {
                doc_cellf(d, "%ld", G->step);
                for (int c = 0; c < G_N; c++) stat_cell(d, c < G_GAIN_SH ? "%.4f" : "%+.1f", c < G_GAIN_SH ? "%.4f" : "%.1f", G->v[c], G->n);
            }
            doc_row_end(d);
        }
        sb_add(&d->html, "</table>\n");
    }
    for (int k = 0; k < ng; k++) free(g[k].base);
    return shown;
}
