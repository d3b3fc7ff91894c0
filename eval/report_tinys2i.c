/* `avmask report`: the section of TinyS2I results (eval.json "task": "tinys2i", written by
 * avmask eval --unit=tinys2i) of both systems, TinyS2I and its CTC baseline (decode.json
 * "decoder": "tinys2i" | "ctc+menu"): one row per result with its menu, decisions, commands,
 * deferral, titles, the model's size and the latency decode measured; then one row per
 * system with its titles by menu size beside its size and latency; then, for results scored
 * with conditions (eval --by), one table per condition key. */
#include "eval/report_doc.h"
#include "common/util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *system_name(const json_value *j) {
    return strcmp(json_str_or(j, "decode.decoder", "tinys2i"), "ctc+menu") ? "TinyS2I" : "CTC + edit distance";
}

/* N of a result's menu file ".../menuN" (0: unknown). */
static int menu_size(const json_value *j) {
    const char *m = json_str_or(j, "decode.menu", ""), *b = strrchr(m, '/');
    b = b ? b + 1 : m;
    return strncmp(b, "menu", 4) ? 0 : atoi(b + 4);
}

/* One number cell per key of j (NULL-ended): counts without decimals, milliseconds with two,
 * percentages with one. */
static void cells(doc *d, const json_value *j, const char *const *keys) {
    for (; *keys; keys++) {
        const char *k = *keys;
        doc_num_cell(d, strstr(k, "parameter") ? "%.0f" : strstr(k, "ms_") ? "%.2f" : "%.1f", json_num_or(j, k, NAN));
    }
}

static int by_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

/* One row per model dir: titles right at each menu size; commands, deferral of its smallest
 * menu (the decision does not depend on the menu); size; latency at its largest menu. */
static void by_menu(doc *d, const rep_scan *all) {
    int *sz = xmalloc(((size_t)all->nres + 1) * sizeof *sz), ns = 0;
    for (int i = 0; i < all->nres; i++) {
        int n = all->res[i].intent == 2 ? menu_size(all->res[i].j) : 0, seen = 0;
        for (int k = 0; k < ns; k++) seen |= sz[k] == n;
        if (n && !seen) sz[ns++] = n;
    }
    qsort(sz, ns, sizeof *sz, by_int);
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    doc_cell(d, 1, "system");
    doc_cell(d, 1, "model");
    for (int k = 0; k < ns; k++) {
        char h[32];
        snprintf(h, sizeof h, "titles, menu %d", sz[k]);
        doc_cell(d, 1, h);
    }
    static const char *tail[] = {"commands", "defer P", "defer R", "parameters", "bytes", "ms / utt (largest menu)"};
    for (int k = 0; k < 6; k++) doc_cell(d, 1, tail[k]);
    doc_row_end(d);
    doc_md_rule(d, ns + 8);
    char **done = xcalloc((size_t)all->nres + 1, sizeof *done);
    for (int i = 0, nd = 0; i < all->nres; i++) {
        if (all->res[i].intent != 2) continue;
        char *name = report_model_name(all, &all->res[i]);
        int seen = 0;
        for (int k = 0; k < nd; k++) seen |= !strcmp(done[k], name);
        if (seen) { free(name); continue; }
        done[nd++] = name;
        const json_value *small = NULL, *large = NULL, **at = xcalloc((size_t)ns + 1, sizeof *at);
        for (int r = i; r < all->nres; r++) {
            char *other = all->res[r].intent == 2 ? report_model_name(all, &all->res[r]) : NULL;
            int n = other && !strcmp(other, name) ? menu_size(all->res[r].j) : 0;
            for (int k = 0; k < ns && n; k++) if (sz[k] == n) at[k] = all->res[r].j;
            free(other);
        }
        for (int k = 0; k < ns; k++) if (at[k]) { large = at[k]; if (!small) small = at[k]; }
        if (!small) small = large = all->res[i].j;
        doc_row_begin(d);
        doc_cell(d, 0, system_name(small));
        doc_cell(d, 0, name);
        for (int k = 0; k < ns; k++) doc_num_cell(d, "%.1f", at[k] ? json_num_or(at[k], "title.acc", NAN) : NAN);
        cells(d, small, (const char *const[]){"command.acc", "defer.precision", "defer.recall", "decode.parameters",
                                              "decode.parameter_bytes", NULL});
        cells(d, large, (const char *const[]){"decode.ms_per_utterance", NULL});
        doc_row_end(d);
        free(at);
    }
    sb_add(&d->html, "</table>\n");
    sb_add(&d->md, "\n");
    for (int k = 0; k < all->nres; k++) free(done[k]);
    free(done); free(sz);
}

/* One table per condition key of the TinyS2I results (eval --by): a row per result, a cell
 * per value with its decisions right and its title match (%). */
static void by_condition(doc *d, const rep_scan *all) {
    rep_scan v;
    report_view(&v, all, 2);
    const char **keys;
    int nk = report_cond_keys(&v, &keys);
    for (int k = 0; k < nk; k++) {
        const char **vals;
        int nv = report_cond_values(&v, keys[k], &vals);
        char *p = xasprintf("By %s: decisions right / title match (%%) for each value.", keys[k]);
        doc_para(d, p);
        free(p);
        sb_add(&d->html, "<table>\n");
        doc_row_begin(d);
        doc_cell(d, 1, "system");
        doc_cell(d, 1, "model");
        doc_cell(d, 1, "menu");
        for (int i = 0; i < nv; i++) doc_cell(d, 1, vals[i]);
        doc_row_end(d);
        doc_md_rule(d, nv + 3);
        for (int r = 0; r < v.nres; r++) {
            const json_value *j = v.res[r].j;
            const char *menu = json_str_or(j, "decode.menu", "-"), *base = strrchr(menu, '/');
            char *name = report_model_name(&v, &v.res[r]);
            doc_row_begin(d);
            doc_cell(d, 0, system_name(j));
            doc_cell(d, 0, name);
            doc_cell(d, 0, base ? base + 1 : menu);
            for (int i = 0; i < nv; i++) {
                const json_value *c = report_cond(&v.res[r], keys[k], vals[i]);
                double n = c ? json_num_or(c, "title_match.N", 0) : 0;
                if (!c) doc_cell(d, 0, "-");
                else if (n > 0) doc_cellf(d, "%.1f / %.1f", json_num_or(c, "decision.acc", NAN), json_num_or(c, "title_match.acc", NAN));
                else doc_cellf(d, "%.1f / -", json_num_or(c, "decision.acc", NAN));   /* no title utterance */
            }
            doc_row_end(d);
            free(name);
        }
        sb_add(&d->html, "</table>\n");
        sb_add(&d->md, "\n");
        free(vals);
    }
    free(keys);
    report_view_free(&v);
}

void report_tinys2i(doc *d, const rep_scan *all) {
    int n = 0;
    for (int i = 0; i < all->nres; i++) n += all->res[i].intent == 2;
    if (!n) return;
    doc_heading(d, "TinyS2I: decisions, commands and titles of unseen menus");
    doc_para(d, "avmask tinys2i models, and TinyS2I's CTC baseline (an avmask finetune model on characters whose "
                "transcript takes the intent of the nearest training transcript and the menu title of least "
                "normalised character edit distance, docs/slu.md), decoded with avmask decode --menu and scored "
                "with avmask eval --unit=tinys2i (%): decisions right (command, play, defer); commands right; "
                "deferral precision and recall; titles right (decision play and the right menu title); title match "
                "(the menu's top-1 title whatever the decision, chance 100 / menu size). Size: parameters and their "
                "float32 bytes; latency: milliseconds per utterance at decode (features in memory to decision, one "
                "utterance at a time), on the CPU named below the tables.");
    static const char *head[] = {"system", "model", "set", "menu", "decisions", "commands", "defer P", "defer R",
                                 "titles", "title match", "parameters", "bytes", "ms / utt"};
    const int nh = (int)(sizeof head / sizeof *head);
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    for (int k = 0; k < nh; k++) doc_cell(d, 1, head[k]);
    doc_row_end(d);
    doc_md_rule(d, nh);
    const char *sys = NULL;
    for (int i = 0; i < all->nres; i++) {
        const rep_result *r = &all->res[i];
        if (r->intent != 2) continue;
        const json_value *j = r->j;
        const char *menu = json_str_or(j, "decode.menu", "-"), *base = strrchr(menu, '/');
        doc_row_begin(d);
        doc_cell(d, 0, system_name(j));
        doc_cellf(d, "%s%s%s", r->exp, *r->sub ? "/" : "", r->sub);
        doc_cell(d, 0, r->set);
        doc_cell(d, 0, base ? base + 1 : menu);
        cells(d, j, (const char *const[]){"decision.acc", "command.acc", "defer.precision", "defer.recall", "title.acc",
                                          "title_match.acc", "decode.parameters", "decode.parameter_bytes",
                                          "decode.ms_per_utterance", NULL});
        doc_row_end(d);
        if (!sys) sys = json_str_or(j, "decode.system", NULL);
    }
    sb_add(&d->html, "</table>\n");
    sb_add(&d->md, "\n");
    doc_para(d, "Titles right (%) by menu size, one row per system, with its commands and deferral (of its "
                "smallest menu; the decision does not depend on the menu), size and latency (at its largest menu):");
    by_menu(d, all);
    by_condition(d, all);
    if (sys) {
        char *line = xasprintf("Latency measured on: %s.", sys);
        doc_para(d, line);
        free(line);
    }
}
