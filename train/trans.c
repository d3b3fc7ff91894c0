/* Transcript tables (see trans.h). */
#include "train/trans.h"
#include "common/log.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

static int by_id(const void *a, const void *b) {
    return strcmp(((const avm_trans_utt *)a)->id, ((const avm_trans_utt *)b)->id);
}

/* Fills u from one non-blank line: id, trimmed text, tokens. */
static void parse_line(avm_trans_utt *u, char *line, int lineno) {
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    char *e = s;
    while (*e && *e != ' ' && *e != '\t') e++;
    u->id = strndup(s, e - s);
    while (*e == ' ' || *e == '\t') e++;
    u->text = xstrdup(e);
    size_t len = strlen(u->text);
    while (len && (u->text[len - 1] == ' ' || u->text[len - 1] == '\t')) u->text[--len] = 0;
    /* tokens point into a second copy so that text stays whole */
    char *copy = xstrdup(u->text);
    u->tok = xmalloc((len / 2 + 2) * sizeof *u->tok);
    u->n = split_ws(copy, u->tok, (int)(len / 2 + 1));
    if (u->n == 0) free(copy);   /* tok[0] owns copy otherwise */
    u->lineno = lineno;
}

int trans_read(avm_trans *t, const char *path) {
    memset(t, 0, sizeof *t);
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    int cap = 0;
    char *line;
    while ((line = lines_next(&r))) {
        if (line[strspn(line, " \t")] == 0) continue;
        if (t->n == cap) t->u = xrealloc(t->u, (cap = cap ? 2 * cap : 256) * sizeof *t->u);
        parse_line(&t->u[t->n++], line, r.lineno);
    }
    int bad = lines_close(&r);
    t->path = xstrdup(path);
    if (bad) { trans_free(t); return -1; }
    qsort(t->u, t->n, sizeof *t->u, by_id);
    for (int i = 1; i < t->n; i++)
        if (!strcmp(t->u[i].id, t->u[i - 1].id)) {
            int a = t->u[i - 1].lineno, b = t->u[i].lineno;
            int rc = avm_fail("%s:%d: utterance '%s' repeated (first at line %d)", path,
                              a > b ? a : b, t->u[i].id, a < b ? a : b);
            trans_free(t);
            return rc;
        }
    return 0;
}

void trans_free(avm_trans *t) {
    for (int i = 0; i < t->n; i++) {
        if (t->u[i].n) free(t->u[i].tok[0]);
        free(t->u[i].tok);
        free(t->u[i].id);
        free(t->u[i].text);
    }
    free(t->u);
    free(t->path);
    memset(t, 0, sizeof *t);
}

int trans_find(const avm_trans *t, const char *id) {
    int lo = 0, hi = t->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(t->u[mid].id, id);
        if (!c) return mid;
        if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

void trans_set_tokens(avm_trans_utt *u, char *const *syms, int n) {
    size_t len = 1;
    for (int k = 0; k < n; k++) len += strlen(syms[k]) + 1;
    if (u->n) free(u->tok[0]);
    free(u->tok);
    u->tok = xmalloc((n + 1) * sizeof *u->tok);
    char *buf = n ? xmalloc(len) : NULL;
    for (int k = 0; k < n; k++) {
        u->tok[k] = buf;
        buf = stpcpy(buf, syms[k]) + 1;
    }
    u->n = n;
}
