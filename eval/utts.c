/* Per-utterance error counts of `avmask eval` (format in utts.h). */
#include "eval/utts.h"
#include "common/log.h"
#include "common/util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *json_sibling(const char *json_path, const char *ext) {
    size_t n = strlen(json_path);
    if (n > 5 && !strcmp(json_path + n - 5, ".json")) return xasprintf("%.*s%s", (int)(n - 5), json_path, ext);
    return xasprintf("%s%s", json_path, ext);
}

char *utts_path(const char *json_path) { return json_sibling(json_path, ".utts.tsv"); }

void utts_write_header(avm_strbuf *b, const char *const *keys, int nkeys) {
    sb_add(b, "utt\tS\tD\tI\tN");
    for (int k = 0; k < nkeys; k++) sb_printf(b, "\t%s", keys[k]);
    sb_add(b, "\n");
}

void utts_write_line(avm_strbuf *b, const char *id, const avm_errs *e, const char *const *vals, int nkeys) {
    sb_printf(b, "%s\t%ld\t%ld\t%ld\t%ld", id, e->s, e->d, e->i, e->n);
    for (int k = 0; k < nkeys; k++) sb_printf(b, "\t%s", vals[k]);
    sb_add(b, "\n");
}

/* Splits s in place on tabs into f (grown to fit); the number of fields. */
static int split_tabs(char *s, char ***f, int *cap) {
    int n = 1;
    for (const char *p = s; (p = strchr(p, '\t')); p++) n++;
    if (n > *cap) *f = xrealloc(*f, (*cap = n) * sizeof **f);
    for (int i = 0; i < n; i++) {
        (*f)[i] = s;
        char *t = strchr(s, '\t');
        if (t) { *t = 0; s = t + 1; }
    }
    return n;
}

static int count(const char *s, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < 0) return -1;
    *out = v;
    return 0;
}

static const avm_utts *sort_ctx;
static int by_id(const void *a, const void *b) {
    return strcmp(sort_ctx->id[*(const int *)a], sort_ctx->id[*(const int *)b]);
}

/* Puts the utterances in id order (the permutation applied to every column). */
static int sort_utts(avm_utts *u) {
    int *p = xmalloc((u->n + 1) * sizeof *p);
    for (int i = 0; i < u->n; i++) p[i] = i;
    sort_ctx = u;
    qsort(p, u->n, sizeof *p, by_id);
    char **id = xmalloc((u->n + 1) * sizeof *id), **val = xmalloc(((size_t)u->n * u->nkeys + 1) * sizeof *val);
    long *err = xmalloc((u->n + 1) * sizeof *err), *ref = xmalloc((u->n + 1) * sizeof *ref);
    for (int i = 0; i < u->n; i++) {
        id[i] = u->id[p[i]]; err[i] = u->err[p[i]]; ref[i] = u->ref[p[i]];
        for (int k = 0; k < u->nkeys; k++) val[(size_t)i * u->nkeys + k] = u->val[(size_t)p[i] * u->nkeys + k];
    }
    free(u->id); free(u->err); free(u->ref); free(u->val); free(p);
    u->id = id; u->err = err; u->ref = ref; u->val = val;
    for (int i = 1; i < u->n; i++)
        if (!strcmp(id[i - 1], id[i])) return avm_fail("%s: utterance '%s' repeated", u->path, id[i]);
    return 0;
}

int utts_read(avm_utts *u, const char *path) {
    memset(u, 0, sizeof *u);
    u->path = xstrdup(path);
    avm_lines l;
    if (lines_open(&l, path)) return -1;
    char *line, **f = NULL;
    int cap = 0, rc = 0;
    while (!rc && (line = lines_next(&l))) {
        int nf = split_tabs(line, &f, &cap);
        if (l.lineno == 1) {
            if (nf < 5 || strcmp(f[0], "utt") || strcmp(f[1], "S") || strcmp(f[2], "D") || strcmp(f[3], "I") ||
                strcmp(f[4], "N")) {
                rc = avm_fail("%s:1: not a per-utterance file of avmask eval (header 'utt S D I N ...')", path);
                break;
            }
            u->nkeys = nf - 5;
            u->keys = xmalloc((u->nkeys + 1) * sizeof *u->keys);
            for (int k = 0; k < u->nkeys; k++) u->keys[k] = xstrdup(f[5 + k]);
            continue;
        }
        long c[4];
        if (nf != 5 + u->nkeys) { rc = avm_fail("%s:%d: %d columns, the header has %d", path, l.lineno, nf, 5 + u->nkeys); break; }
        for (int k = 0; k < 4 && !rc; k++)
            if (count(f[1 + k], &c[k])) rc = avm_fail("%s:%d: '%s' is not a count", path, l.lineno, f[1 + k]);
        if (!rc && c[0] + c[1] > c[3]) rc = avm_fail("%s:%d: S + D exceeds N", path, l.lineno);
        if (rc) break;
        if ((u->n & (u->n - 1)) == 0) {   /* grow at powers of two */
            size_t m = u->n ? 2 * (size_t)u->n : 1;
            u->id = xrealloc(u->id, m * sizeof *u->id);
            u->err = xrealloc(u->err, m * sizeof *u->err);
            u->ref = xrealloc(u->ref, m * sizeof *u->ref);
            u->val = xrealloc(u->val, (m * u->nkeys + 1) * sizeof *u->val);
        }
        u->id[u->n] = xstrdup(f[0]);
        u->err[u->n] = c[0] + c[1] + c[2];
        u->ref[u->n] = c[3];
        for (int k = 0; k < u->nkeys; k++) u->val[(size_t)u->n * u->nkeys + k] = xstrdup(f[5 + k]);
        u->n++;
    }
    free(f);
    if (lines_close(&l) && !rc) rc = -1;
    if (!rc && !u->keys) rc = avm_fail("%s: empty (no header line)", path);
    if (!rc) rc = sort_utts(u);
    return rc;
}

void utts_free(avm_utts *u) {
    for (int i = 0; i < u->n; i++) {
        free(u->id[i]);
        for (int k = 0; k < u->nkeys; k++) free(u->val[(size_t)i * u->nkeys + k]);
    }
    for (int k = 0; k < u->nkeys; k++) free(u->keys[k]);
    free(u->id); free(u->err); free(u->ref); free(u->val); free(u->keys); free(u->path);
    memset(u, 0, sizeof *u);
}

int utts_find(const avm_utts *u, const char *id) {
    int lo = 0, hi = u->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(u->id[mid], id);
        if (!c) return mid;
        if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

int utts_key(const avm_utts *u, const char *key) {
    for (int k = 0; k < u->nkeys; k++) if (!strcmp(u->keys[k], key)) return k;
    return -1;
}
