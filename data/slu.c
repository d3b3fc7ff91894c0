/* Readers of the intent list, intent files and menu files, with file:line errors. Intent
 * and menu files are sorted "<utt-id> <value>" tables (kv_read), so line i + 1 holds
 * entry i and a missing utterance belongs at its insertion point. */
#include "data/slu.h"
#include "data/datadir.h"
#include "common/util.h"
#include "common/strbuf.h"
#include <stdlib.h>
#include <string.h>

int intents_read(avm_intents *l, const char *path) {
    memset(l, 0, sizeof *l);
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    int cap = 0, rc = 0;
    char *line, *f[3];
    while ((line = lines_next(&r))) {
        int nf = split_ws(line, f, 3);
        if (nf == 0) { rc = avm_fail("%s:%d: empty line", path, r.lineno); break; }
        if (nf > 2) { rc = avm_fail("%s:%d: expected '<intent> [<class>]'", path, r.lineno); break; }
        if (intents_find(l, f[0]) >= 0) { rc = avm_fail("%s:%d: intent '%s' is listed twice", path, r.lineno, f[0]); break; }
        if (l->n == cap) {
            cap = cap ? 2 * cap : 32;
            l->name = xrealloc(l->name, (size_t)cap * sizeof *l->name);
            l->cls = xrealloc(l->cls, (size_t)cap * sizeof *l->cls);
        }
        l->name[l->n] = xstrdup(f[0]);
        l->cls[l->n++] = xstrdup(nf == 2 ? f[1] : "");
    }
    if (lines_close(&r) && !rc) rc = -1;
    if (!rc && l->n == 0) rc = avm_fail("%s: no intents", path);
    if (rc) intents_free(l);
    return rc;
}

int intents_write(const avm_intents *l, const char *path) {
    avm_strbuf b = {0};
    for (int i = 0; i < l->n; i++) sb_printf(&b, "%s%s%s\n", l->name[i], *l->cls[i] ? " " : "", l->cls[i]);
    int rc = write_file_atomic(path, b.s ? b.s : "", b.len);
    sb_free(&b);
    return rc;
}

int intents_find(const avm_intents *l, const char *name) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->name[i], name)) return i;
    return -1;
}

void intents_free(avm_intents *l) {
    for (int i = 0; i < l->n; i++) { free(l->name[i]); free(l->cls[i]); }
    free(l->name);
    free(l->cls);
    memset(l, 0, sizeof *l);
}

/* Index of the first key >= id (binary search over the sorted keys). */
static int lower_bound(const avm_kv *kv, const char *id) {
    int lo = 0, hi = kv->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strcmp(kv->keys[mid], id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

int intent_read(const char *path, const avm_intents *l, char *const *utts, int n, int *label) {
    avm_kv kv;
    if (kv_read(&kv, path, 1)) return -1;
    int *lab = xmalloc(((size_t)kv.n + 1) * sizeof *lab), rc = 0;
    for (int i = 0; i < kv.n && !rc; i++) {
        if (!kv.vals[i][0] || strpbrk(kv.vals[i], " \t"))
            rc = avm_fail("%s:%d: expected '<utt-id> <intent>' (one intent)", path, i + 1);
        else if ((lab[i] = intents_find(l, kv.vals[i])) < 0)
            rc = avm_fail("%s:%d: unknown intent '%s' (not in the intent list)", path, i + 1, kv.vals[i]);
    }
    for (int u = 0; u < n && !rc; u++) {
        int k = lower_bound(&kv, utts[u]);
        if (k == kv.n || strcmp(kv.keys[k], utts[u]))
            rc = avm_fail("%s:%d: no intent for utterance '%s' (every utterance of the data dir needs one)", path,
                          k + 1, utts[u]);
        else
            label[u] = lab[k];
    }
    free(lab);
    kv_free(&kv);
    return rc;
}

/* Splits a menu in place into trimmed titles. */
static int split_menu(const char *path, int lineno, char *s, avm_menu *m) {
    int cap = 0;
    for (char *p = s;;) {
        char *bar = strchr(p, '|'), *e = bar ? bar : p + strlen(p);
        while (p < e && (*p == ' ' || *p == '\t')) p++;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t')) e--;
        if (e == p) return avm_fail("%s:%d: empty title (title %d of the menu)", path, lineno, m->n + 1);
        char *t = strndup(p, (size_t)(e - p));
        for (int i = 0; i < m->n; i++)
            if (!strcmp(m->title[i], t)) {
                int rc = avm_fail("%s:%d: title '%s' appears twice in the menu", path, lineno, t);
                free(t);
                return rc;
            }
        if (m->n == cap) m->title = xrealloc(m->title, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *m->title);
        m->title[m->n++] = t;
        if (!bar) return 0;
        p = bar + 1;
    }
}

int menus_read(avm_menus *m, const char *path) {
    memset(m, 0, sizeof *m);
    avm_kv kv;
    if (kv_read(&kv, path, 1)) return -1;
    m->m = xcalloc((size_t)kv.n + 1, sizeof *m->m);
    int rc = 0;
    for (int i = 0; i < kv.n && !rc; i++) {
        avm_menu *e = &m->m[m->n++];
        e->utt = xstrdup(kv.keys[i]);
        rc = !kv.vals[i][0] ? avm_fail("%s:%d: empty menu (no titles after the utt-id)", path, i + 1)
                            : split_menu(path, i + 1, kv.vals[i], e);
    }
    kv_free(&kv);
    if (rc) menus_free(m);
    return rc;
}

size_t slots_title(const char *slots, const char **t) {
    for (const char *p = slots; p && *p;) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 6 && !strncmp(p, "title=", 6)) { *t = p + 6; return n - 6; }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

const avm_menu *menus_find(const avm_menus *m, const char *utt) {
    int lo = 0, hi = m->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = strcmp(m->m[mid].utt, utt);
        if (c == 0) return &m->m[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

void menus_free(avm_menus *m) {
    for (int i = 0; i < m->n; i++) {
        for (int j = 0; j < m->m[i].n; j++) free(m->m[i].title[j]);
        free(m->m[i].title);
        free(m->m[i].utt);
    }
    free(m->m);
    memset(m, 0, sizeof *m);
}
