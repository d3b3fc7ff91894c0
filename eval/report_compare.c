/* `avmask report --compare`: paired comparisons of two seed groups on the same utterances,
 * from the per-utterance files of avmask eval, with bootstrap confidence intervals
 * (eval/bootstrap.h; the method in eval/README.md, "Paired comparison"). */
#include "eval/bootstrap.h"
#include "eval/report.h"
#include "eval/report_doc.h"
#include "eval/utts.h"
#include "common/log.h"
#include "common/util.h"
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {           /* the per-utterance files of the results, each read once */
    avm_utts *u;           /* [nres] */
    signed char *state;    /* 0: not read yet, 1: usable, -1: unusable (warned) */
} utt_cache;

static const avm_utts *cache_get(utt_cache *c, const rep_scan *s, int r) {
    if (c->state[r]) return c->state[r] > 0 ? &c->u[r] : NULL;
    c->state[r] = -1;
    const rep_result *res = &s->res[r];
    const char *f = json_str_or(res->j, "utts_file", NULL);
    if (!f) {
        avm_warn("report: %s names no per-utterance file (an older avmask eval): left out of paired comparisons", res->path);
        return NULL;
    }
    char *dir = xstrdup(res->path), *path = path_join(dirname(dir), f);
    free(dir);
    avm_utts *u = &c->u[r];
    if (utts_read(u, path)) {
        avm_warn("report: %s (left out of paired comparisons)", avm_error());
        utts_free(u);
        free(path);
        return NULL;
    }
    long e = 0, n = 0;
    for (int i = 0; i < u->n; i++) { e += u->err[i]; n += u->ref[i]; }
    const json_value *o = json_get(res->j, "overall");
    double je = json_num_or(o, "S", -1) + json_num_or(o, "D", -1) + json_num_or(o, "I", -1), jn = json_num_or(o, "N", -1);
    if (e != je || n != jn) {
        avm_warn("report: %s: %ld errors in %ld tokens, but %s has %.0f in %.0f (a stale file?): left out of paired "
                 "comparisons", path, e, n, res->path, je, jn);
        utts_free(u);
        free(path);
        return NULL;
    }
    free(path);
    c->state[r] = 1;
    return u;
}

typedef struct { double a, b; avm_boot bt; int nsets, k, nu, dropped; } cmp_row;

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;   /* a separator, so "ab"+"c" differs from "a"+"bc" */
}

/* Utterances of set j (with the column's condition value) scored in every one of the 2k
 * files: E_A - E_B per seed into d (utterance-major, k per utterance), N into n. */
static void gather(const avm_utts **fa, const avm_utts **fb, int k, const char *key, const char *val,
                   double **d, double **n, int *nu, int *dropped, double *ea, double *eb, double *nn) {
    const avm_utts *base = fa[0];
    int kc = key ? utts_key(base, key) : -1;
    if (key && kc < 0) return;
    int *ia = xmalloc(k * sizeof *ia), *ib = xmalloc(k * sizeof *ib);
    for (int u = 0; u < base->n; u++) {
        if (key && strcmp(base->val[(size_t)u * base->nkeys + kc], val)) continue;
        int ok = 1;
        for (int s = 0; s < k && ok; s++) {
            ia[s] = utts_find(fa[s], base->id[u]);
            ib[s] = utts_find(fb[s], base->id[u]);
            ok = ia[s] >= 0 && ib[s] >= 0 && fa[s]->ref[ia[s]] == base->ref[u] && fb[s]->ref[ib[s]] == base->ref[u];
        }
        if (!ok) { (*dropped)++; continue; }
        if ((*nu & (*nu - 1)) == 0) {
            *d = xrealloc(*d, (size_t)(*nu ? 2 * *nu : 1) * k * sizeof **d);
            *n = xrealloc(*n, (size_t)(*nu ? 2 * *nu : 1) * sizeof **n);
        }
        for (int s = 0; s < k; s++) {
            (*d)[(size_t)*nu * k + s] = (double)fa[s]->err[ia[s]] - fb[s]->err[ib[s]];
            ea[s] += fa[s]->err[ia[s]];
            eb[s] += fb[s]->err[ib[s]];
        }
        (*n)[(*nu)++] = base->ref[u];
        *nn += base->ref[u];
    }
    free(ia); free(ib);
}

/* One row: A - B in column c over the seeds both have (with every set the column needs). */
static void compare_row(const rep_scan *s, const rep_seeds *z, utt_cache *cache, const rep_group *A,
                        const rep_group *B, int c, int reps, uint64_t seed, cmp_row *out) {
    memset(out, 0, sizeof *out);
    int nj = 0, *J = xmalloc((z->nsets + 1) * sizeof *J);
    for (int j = 0; j < z->nsets; j++) {   /* the sets the column draws on */
        int use = z->ckey[c] ? 0 : j == c;
        for (int i = 0; z->ckey[c] && i < A->nseeds + B->nseeds && !use; i++) {
            const rep_group *G = i < A->nseeds ? A : B;
            int r = G->res[(size_t)(i < A->nseeds ? i : i - A->nseeds) * z->nsets + j];
            use = r >= 0 && report_cond(&s->res[r], z->ckey[c], z->cval[c]);
        }
        if (use) J[nj++] = j;
    }
    int *sa = xmalloc((A->nseeds + 1) * sizeof *sa), *sb = xmalloc((A->nseeds + 1) * sizeof *sb), k = 0;
    for (int ia = 0; ia < A->nseeds && nj; ia++)   /* seeds matched by number */
        for (int ib = 0; ib < B->nseeds; ib++) {
            if (A->seed[ia] != B->seed[ib]) continue;
            int ok = 1;
            for (int x = 0; x < nj && ok; x++) {
                int ra = A->res[(size_t)ia * z->nsets + J[x]], rb = B->res[(size_t)ib * z->nsets + J[x]];
                ok = ra >= 0 && rb >= 0 && cache_get(cache, s, ra) && cache_get(cache, s, rb);
            }
            if (ok) { sa[k] = ia; sb[k++] = ib; }
        }
    double *du = NULL, *n = NULL, nn = 0;
    double *ea = xcalloc(k + 1, sizeof *ea), *eb = xcalloc(k + 1, sizeof *eb);
    const avm_utts **fa = xmalloc((k + 1) * sizeof *fa), **fb = xmalloc((k + 1) * sizeof *fb);
    for (int x = 0; x < nj && k; x++) {
        for (int i = 0; i < k; i++) {
            fa[i] = &cache->u[A->res[(size_t)sa[i] * z->nsets + J[x]]];
            fb[i] = &cache->u[B->res[(size_t)sb[i] * z->nsets + J[x]]];
        }
        gather(fa, fb, k, z->ckey[c], z->cval[c], &du, &n, &out->nu, &out->dropped, ea, eb, &nn);
    }
    out->k = k;
    out->nsets = nj;
    out->a = out->b = out->bt.diff = out->bt.lo = out->bt.hi = NAN;
    if (k && nn > 0) {
        double *d = xmalloc((size_t)k * out->nu * sizeof *d);   /* seed-major for boot_paired */
        for (int u = 0; u < out->nu; u++)
            for (int i = 0; i < k; i++) d[(size_t)i * out->nu + u] = du[(size_t)u * k + i];
        out->a = out->b = 0;
        for (int i = 0; i < k; i++) { out->a += 100 * ea[i] / nn / k; out->b += 100 * eb[i] / nn / k; }
        uint64_t stream = fnv1a(fnv1a(fnv1a(14695981039346656037ULL, A->name), B->name), z->cval[c]);
        if (z->ckey[c]) stream = fnv1a(stream, z->ckey[c]);
        boot_paired(d, n, k, out->nu, reps, k >= 3, seed, stream, &out->bt);
        free(d);
    }
    free(J); free(sa); free(sb); free(du); free(n); free(ea); free(eb); free(fa); free(fb);
}

static int kind_rank(const char *kind) {
    return !strcmp(kind, "audio-visual") ? 0 : !strcmp(kind, "audio-only") ? 1 : !strcmp(kind, "none") ? 2 : 3;
}

static void add_pair(int **p, int *np, int a, int b) {
    *p = xrealloc(*p, (size_t)(*np + 1) * 2 * sizeof **p);
    (*p)[2 * *np] = a;
    (*p)[2 * *np + 1] = b;
    (*np)++;
}

/* Pairs of group indices from spec "A,B C,D" (pairs separated by blanks or ';'); spec NULL:
 * every two groups with >= 2 seeds and the same model dir, audio-visual before audio-only
 * before none (then by name) as A. 0, or -1 + avm_fail naming a group that does not exist. */
static int parse_pairs(const rep_scan *s, const rep_seeds *z, const char *spec, int **p, int *np) {
    *p = NULL;
    *np = 0;
    if (!spec) {
        for (int a = 0; a < z->ng; a++)
            for (int b = 0; b < z->ng; b++) {
                const rep_group *A = &z->g[a], *B = &z->g[b];
                int ra = kind_rank(report_kind(s, A->base)), rb = kind_rank(report_kind(s, B->base));
                if (a != b && A->nseeds > 1 && B->nseeds > 1 && !strcmp(A->model, B->model) &&
                    (ra < rb || (ra == rb && strcmp(A->name, B->name) < 0)))
                    add_pair(p, np, a, b);
            }
        return 0;
    }
    char *buf = xstrdup(spec), *save = NULL;
    for (char *t = strtok_r(buf, " \t;", &save); t; t = strtok_r(NULL, " \t;", &save)) {
        char *comma = strchr(t, ',');
        if (!comma || strchr(comma + 1, ',')) {
            avm_fail("--compare: '%s' is not a pair A,B of groups (e.g. av/ctc,audio/ctc)", t);
            free(buf);
            return -1;
        }
        *comma = 0;
        int g[2] = {report_group_find(z, t), report_group_find(z, comma + 1)};
        for (int i = 0; i < 2; i++)
            if (g[i] < 0) {
                avm_strbuf names = {0};
                for (int k = 0; k < z->ng && k < 12; k++) sb_printf(&names, "%s%s", k ? " " : "", z->g[k].name);
                avm_fail("--compare: no group '%s' under the experiment dir (groups: %s%s)", i ? comma + 1 : t,
                         names.s ? names.s : "none", z->ng > 12 ? " ..." : "");
                sb_free(&names);
                free(buf);
                return -1;
            }
        if (g[0] == g[1]) {
            avm_fail("--compare: '%s' compared with itself", t);
            free(buf);
            return -1;
        }
        add_pair(p, np, g[0], g[1]);
    }
    free(buf);
    return 0;
}

int report_compare_check(const rep_scan *s, const rep_seeds *z, const char *spec) {
    int *p, np;
    if (spec && !strcmp(spec, "none")) return 0;
    int rc = parse_pairs(s, z, spec, &p, &np);
    free(p);
    return rc;
}

/* In accuracy terms (acc): A - B of 100 - %ERR is minus the error-rate difference, its
 * interval the error rate's mirrored. */
static void to_accuracy(cmp_row *r) {
    double lo = r->bt.lo;
    r->a = 100 - r->a;
    r->b = 100 - r->b;
    r->bt.diff = -r->bt.diff;
    r->bt.lo = -r->bt.hi;
    r->bt.hi = -lo;
}

int report_compare(doc *d, const rep_scan *s, const rep_seeds *z, const char *spec, int reps, uint64_t seed,
                   avm_strbuf *tsv, int acc) {
    int *p, np;
    if (spec && !strcmp(spec, "none")) return 0;
    if (parse_pairs(s, z, spec, &p, &np)) { free(p); return -1; }
    if (!np) return 0;
    utt_cache cache = {xcalloc(s->nres + 1, sizeof *cache.u), xcalloc(s->nres + 1, 1)};
    const char *m = acc ? "intent accuracy" : "%ERR", *sm = acc ? "%ACC" : "%ERR";
    doc_heading(d, acc ? "Intent accuracy, paired comparisons: A - B, 95 % bootstrap interval"
                       : "Paired comparisons: A - B, 95 % bootstrap interval");
    char *what = xasprintf(
        "Difference of %s between two models on the same utterances, training seeds matched by number: "
        "A - B is the mean over the seeds of %s(A) - %s(B), each %s over the utterances "
        "both decoded. The interval holds the middle 95 %% of %d bootstrap replicates (generator seed %llu) that "
        "resample the utterances, and with 3 or more seeds also the seeds. %s",
        m, sm, sm, acc ? "100 (correct) / (utterances)" : "100 sum E / sum N", reps, (unsigned long long)seed,
        acc ? "Positive: A gets more intents right." : "Negative: A makes fewer errors.");
    doc_para(d, what);
    free(what);
    const char *head[] = {"A", "B", "test set / condition", "seeds", "utterances", "resampled", acc ? "%ACC A" : "%ERR A",
                          acc ? "%ACC B" : "%ERR B", "A - B", "95 % interval", "excludes 0"};
    sb_add(&d->html, "<table>\n");
    doc_row_begin(d);
    for (int i = 0; i < 11; i++) doc_cell(d, 1, head[i]);
    doc_row_end(d);
    doc_md_rule(d, 11);
    sb_printf(tsv, "a\tb\tcolumn\tseeds\tutts\tresampled\t%s\t%s\tdiff\tlo\thi\texcludes_zero\n",
              acc ? "acc_a" : "err_a", acc ? "acc_b" : "err_b");
    for (int x = 0; x < np; x++) {
        const rep_group *A = &z->g[p[2 * x]], *B = &z->g[p[2 * x + 1]];
        for (int c = 0; c < z->ncols; c++) {
            cmp_row r;
            compare_row(s, z, &cache, A, B, c, reps, seed, &r);
            if (!r.nsets) continue;
            if (acc) to_accuracy(&r);
            char *col = z->ckey[c] ? xasprintf("%s=%s", z->ckey[c], z->cval[c]) : xstrdup(z->cval[c]);
            if (r.dropped)
                avm_warn("report: %s vs %s, %s: %d utterances not scored with the same reference in every file, left out",
                         A->name, B->name, col, r.dropped);
            const char *how = r.k >= 3 ? "seeds, utterances" : "utterances";
            const char *ex = isnan(r.bt.lo) ? "-" : r.bt.lo > 0 || r.bt.hi < 0 ? "yes" : "no";
            doc_row_begin(d);
            doc_cell(d, 0, A->name);
            doc_cell(d, 0, B->name);
            doc_cell(d, 0, col);
            doc_cellf(d, "%d", r.k);
            doc_cellf(d, "%d", r.nu);
            doc_cell(d, 0, r.k ? how : "-");
            doc_num_cell(d, "%.2f", r.a);
            doc_num_cell(d, "%.2f", r.b);
            doc_num_cell(d, "%+.2f", r.bt.diff);
            if (isnan(r.bt.lo)) doc_cell(d, 0, "-");
            else doc_cellf(d, "[%+.2f, %+.2f]", r.bt.lo, r.bt.hi);
            doc_cell(d, 0, ex);
            doc_row_end(d);
            sb_printf(tsv, "%s\t%s\t%s\t%d\t%d\t%s\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%s\n", A->name, B->name, col, r.k,
                      r.nu, r.k ? how : "-", r.a, r.b, r.bt.diff, r.bt.lo, r.bt.hi, ex);
            free(col);
        }
    }
    sb_add(&d->html, "</table>\n");
    for (int r = 0; r < s->nres; r++) if (cache.state[r] > 0) utts_free(&cache.u[r]);
    free(cache.u); free(cache.state); free(p);
    return 0;
}
