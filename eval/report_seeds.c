/* `avmask report`: training seeds. Sibling experiments <name> (seed 1) and <name>-s<N>
 * (seed N >= 2) are one arm; their results in the same model dir form a group, shown as
 * %ERR mean ± sample standard deviation over the seeds per test set and condition value. */
#include "eval/report.h"
#include "eval/report_doc.h"
#include "common/log.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int report_seed_of(const char *exp, char **base) {
    const char *p = strrchr(exp, '-');
    if (p && p > exp && p[1] == 's' && p[2] >= '1' && p[2] <= '9' && strspn(p + 2, "0123456789") == strlen(p + 2) &&
        strlen(p + 2) < 9 && atoi(p + 2) >= 2) {
        *base = strndup(exp, p - exp);
        return atoi(p + 2);
    }
    *base = xstrdup(exp);
    return 1;
}

/* The model dir of a result: its directory inside the experiment, without decode_<set>. */
static char *model_of(const rep_result *r) {
    const char *slash = strrchr(r->sub, '/');
    return slash ? strndup(r->sub, slash - r->sub) : xstrdup("");
}

int report_group_find(const rep_seeds *z, const char *name) {
    for (int g = 0; g < z->ng; g++) if (!strcmp(z->g[g].name, name)) return g;
    return -1;
}

static int set_index(const rep_seeds *z, const char *set) {
    for (int j = 0; j < z->nsets; j++) if (!strcmp(z->sets[j], set)) return j;
    return -1;
}

static int cmp_group(const void *a, const void *b) {
    return strcmp(((const rep_group *)a)->name, ((const rep_group *)b)->name);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

double report_seed_err(const rep_scan *s, const rep_seeds *z, const rep_group *g, int i, int c) {
    const int *res = g->res + (size_t)i * z->nsets;
    if (!z->ckey[c]) {
        int k = res[c];
        const json_value *v = k < 0 ? NULL : json_path(s->res[k].j, "overall.err");
        return v && v->type == JSON_NUM ? v->num : NAN;
    }
    double e = 0, n = 0;
    int any = 0;
    for (int j = 0; j < z->nsets; j++) {
        const json_value *v = res[j] < 0 ? NULL : report_cond(&s->res[res[j]], z->ckey[c], z->cval[c]);
        for (int o = 0; res[j] < 0 && o < g->nseeds; o++) {   /* another seed pools a set this one lacks */
            int r = g->res[(size_t)o * z->nsets + j];
            if (r >= 0 && report_cond(&s->res[r], z->ckey[c], z->cval[c])) return NAN;
        }
        if (!v) continue;
        any = 1;
        e += json_num_or(v, "S", 0) + json_num_or(v, "D", 0) + json_num_or(v, "I", 0);
        n += json_num_or(v, "N", 0);
    }
    return any && n > 0 ? 100 * e / n : NAN;
}

static void columns(rep_seeds *z, const rep_scan *s) {
    z->nsets = report_test_sets(s, &z->sets);
    const char **keys;
    int nk = report_cond_keys(s, &keys);
    z->ncols = z->nsets;
    z->ckey = xmalloc((z->nsets + 1) * sizeof *z->ckey);
    z->cval = xmalloc((z->nsets + 1) * sizeof *z->cval);
    for (int j = 0; j < z->nsets; j++) { z->ckey[j] = NULL; z->cval[j] = z->sets[j]; }
    for (int k = 0; k < nk; k++) {
        const char **vals;
        int nv = report_cond_values(s, keys[k], &vals);
        z->ckey = xrealloc(z->ckey, (z->ncols + nv + 1) * sizeof *z->ckey);
        z->cval = xrealloc(z->cval, (z->ncols + nv + 1) * sizeof *z->cval);
        for (int v = 0; v < nv; v++) { z->ckey[z->ncols] = keys[k]; z->cval[z->ncols++] = vals[v]; }
        free(vals);
    }
    free(keys);
}

static void warn_missing(rep_seeds *z, const rep_group *g) {
    for (int j = 0; j < z->nsets; j++) {
        int have = 0;
        for (int i = 0; i < g->nseeds; i++) have += g->res[(size_t)i * z->nsets + j] >= 0;
        for (int i = 0; have && have < g->nseeds && i < g->nseeds; i++) {
            if (g->res[(size_t)i * z->nsets + j] >= 0) continue;
            char *exp = g->seed[i] == 1 ? xstrdup(g->base) : xasprintf("%s-s%d", g->base, g->seed[i]);
            char *w = xasprintf("%s: seed %d (%s%s%s) has no result for test set %s: its mean is over %d of %d seeds",
                                g->name, g->seed[i], exp, *g->model ? "/" : "", g->model, z->sets[j], have, g->nseeds);
            avm_warn("report: %s", w);
            z->warn = xrealloc(z->warn, (z->nwarn + 1) * sizeof *z->warn);
            z->warn[z->nwarn++] = w;
            free(exp);
        }
    }
}

void report_seeds(rep_seeds *z, const rep_scan *s) {
    memset(z, 0, sizeof *z);
    columns(z, s);
    int *sd = xmalloc((s->nres + 1) * sizeof *sd);
    char **rname = xmalloc((s->nres + 1) * sizeof *rname);
    for (int r = 0; r < s->nres; r++) {   /* the groups and their seeds */
        char *base, *model = model_of(&s->res[r]);
        sd[r] = report_seed_of(s->res[r].exp, &base);
        char *name = *model ? xasprintf("%s/%s", base, model) : xstrdup(base);
        int g = report_group_find(z, name);
        rname[r] = name;
        if (g < 0) {
            z->g = xrealloc(z->g, (z->ng + 1) * sizeof *z->g);
            z->g[g = z->ng++] = (rep_group){base, model, xstrdup(name), 0, NULL, NULL, NULL};
        } else {
            free(base); free(model);
        }
        rep_group *G = &z->g[g];
        int known = 0;
        for (int i = 0; i < G->nseeds; i++) known |= G->seed[i] == sd[r];
        if (!known) {
            G->seed = xrealloc(G->seed, (G->nseeds + 1) * sizeof *G->seed);
            G->seed[G->nseeds++] = sd[r];
        }
    }
    if (z->ng) qsort(z->g, z->ng, sizeof *z->g, cmp_group);
    for (int g = 0; g < z->ng; g++) {
        rep_group *G = &z->g[g];
        qsort(G->seed, G->nseeds, sizeof *G->seed, cmp_int);
        G->res = xmalloc(((size_t)G->nseeds * z->nsets + 1) * sizeof *G->res);
        for (size_t k = 0; k < (size_t)G->nseeds * z->nsets; k++) G->res[k] = -1;
    }
    for (int r = 0; r < s->nres; r++) {   /* each result in its group's seed x set table */
        rep_group *G = &z->g[report_group_find(z, rname[r])];
        int i = 0;
        while (G->seed[i] != sd[r]) i++;
        G->res[(size_t)i * z->nsets + set_index(z, s->res[r].set)] = r;
        free(rname[r]);
    }
    for (int g = 0; g < z->ng; g++) {
        rep_group *G = &z->g[g];
        G->stat = xmalloc((z->ncols + 1) * sizeof *G->stat);
        for (int c = 0; c < z->ncols; c++) {
            double sum = 0, ss = 0;
            int n = 0;
            for (int i = 0; i < G->nseeds; i++) {
                double e = report_seed_err(s, z, G, i, c);
                if (isfinite(e)) { sum += e; n++; }
            }
            double mean = n ? sum / n : NAN;
            for (int i = 0; i < G->nseeds; i++) {
                double e = report_seed_err(s, z, G, i, c);
                if (isfinite(e)) ss += (e - mean) * (e - mean);
            }
            G->stat[c] = (rep_stat){mean, n > 1 ? sqrt(ss / (n - 1)) : NAN, n};
        }
        if (G->nseeds > 1) warn_missing(z, G);
    }
    free(rname);
    free(sd);
}

int report_seeded(const rep_seeds *z) {
    for (int g = 0; g < z->ng; g++) if (z->g[g].nseeds > 1) return 1;
    return 0;
}

void report_seeds_free(rep_seeds *z) {
    for (int g = 0; g < z->ng; g++) {
        rep_group *G = &z->g[g];
        free(G->base); free(G->model); free(G->name); free(G->seed); free(G->res); free(G->stat);
    }
    for (int i = 0; i < z->nwarn; i++) free(z->warn[i]);
    free(z->g); free(z->warn); free(z->sets); free(z->ckey); free(z->cval);
    memset(z, 0, sizeof *z);
}

/* One row per group with at least two seeds: %ERR (acc: 100 - %ERR, intent accuracy) mean
 * ± sd per test set and condition value; "(n=K)" when only K of the group's seeds have that
 * column. */
void report_seeds_table(doc *d, const rep_scan *s, const rep_seeds *z, int acc) {
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    doc_cell(d, 1, "model");
    if (!acc) doc_cell(d, 1, "pretraining");   /* intent results: S2I arms, no pretraining experiments */
    doc_cell(d, 1, "seeds");
    for (int c = 0; c < z->ncols; c++) {
        char *h = z->ckey[c] ? xasprintf("%s=%s", z->ckey[c], z->cval[c]) : xstrdup(z->cval[c]);
        doc_cell(d, 1, h);
        free(h);
    }
    doc_row_end(d);
    doc_md_rule(d, z->ncols + 3 - acc);
    for (int g = 0; g < z->ng; g++) {
        const rep_group *G = &z->g[g];
        if (G->nseeds < 2) continue;
        doc_row_begin(d);
        doc_cell(d, 0, G->name);
        if (!acc) doc_cell(d, 0, report_kind(s, G->base));
        avm_strbuf b = {0};
        for (int i = 0; i < G->nseeds; i++) sb_printf(&b, "%s%d", i ? "," : "", G->seed[i]);
        doc_cell(d, 0, b.s);
        sb_free(&b);
        for (int c = 0; c < z->ncols; c++) {
            const rep_stat *t = &G->stat[c];
            double mean = acc ? 100 - t->mean : t->mean;
            if (!t->n) doc_cell(d, 0, "-");
            else if (t->n == 1) doc_cellf(d, "%.2f (n=1)", mean);
            else if (t->n < G->nseeds) doc_cellf(d, "%.2f ± %.2f (n=%d)", mean, t->sd, t->n);
            else doc_cellf(d, "%.2f ± %.2f", mean, t->sd);
        }
        doc_row_end(d);
    }
    sb_add(&d->html, "</table>\n");
    sb_add(&d->md, "\n");
    for (int i = 0; i < z->nwarn; i++) {
        char *w = xasprintf("Missing: %s.", z->warn[i]);
        doc_para(d, w);
        free(w);
    }
}
