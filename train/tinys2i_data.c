/* TinyS2I's labels: each utterance's class, command and title, the distinct titles encoded
 * with the title encoder's vocabulary, and the targets of a global batch (see tinys2i.h). */
#include "train/tinys2i.h"
#include "common/crc32.h"
#include "common/util.h"
#include "data/datadir.h"
#include "train/seeding.h"
#include <stdlib.h>
#include <string.h>

/* The value of "title=" in a slots line, copied; NULL if none. */
static char *title_slot(const char *slots) {
    const char *t;
    size_t n = slots_title(slots, &t);
    return n ? xasprintf("%.*s", (int)n, t) : NULL;
}

typedef struct { const char *s; int i; } str_idx;
static int by_str(const void *a, const void *b) {
    const str_idx *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

char *ts_title_text(const char *title, int chars) {
    if (!chars) return xstrdup(title);
    size_t n = strlen(title);
    char *o = xmalloc(4 * n + 2), *w = o;
    for (const unsigned char *p = (const unsigned char *)title; *p; p++) {
        if (*p == ' ' || *p == '\t') {
            if (w > o && w[-1] != '|') { if (w[-1] != ' ') *w++ = ' '; *w++ = '|'; }
            continue;
        }
        if ((*p & 0xC0) != 0x80 && w > o && w[-1] != ' ') *w++ = ' ';   /* a new character */
        *w++ = (char)*p;
    }
    while (w > o && (w[-1] == '|' || w[-1] == ' ')) w--;   /* no separator at the end */
    *w = 0;
    return o;
}

/* The titles of the title utterances: lb->title and the distinct ones (sorted) in lb->titles,
 * as the title encoder reads them (ts_title_text). */
static void read_titles(ts_labels *lb, const avm_feats *f, const char *data, int chars) {
    char *path = path_join(data, "slots");
    avm_kv kv;
    if (kv_read(&kv, path, 0)) avm_die("tinys2i: %s", avm_error());
    char **t = xcalloc((size_t)lb->n + 1, sizeof *t);
    str_idx *si = xmalloc(((size_t)lb->n + 1) * sizeof *si);
    int nt = 0;
    for (int i = 0; i < lb->n; i++) {
        lb->title[i] = -1;
        if (lb->cls[i] != TS_TITLE) continue;
        const char *v = kv_get(&kv, f->e[i].utt_id);
        char *raw = v ? title_slot(v) : NULL;
        if (!raw)
            avm_die("tinys2i: %s: utterance %s (intent of class title) has no 'title=' slot", path, f->e[i].utt_id);
        t[i] = ts_title_text(raw, chars);
        free(raw);
        si[nt++] = (str_idx){t[i], i};
    }
    qsort(si, nt, sizeof *si, by_str);
    for (int k = 0; k < nt; k++) {
        if (!k || strcmp(si[k].s, si[k - 1].s)) textset_add(&lb->titles, "", si[k].s);
        lb->title[si[k].i] = lb->titles.n - 1;
    }
    for (int i = 0; i < lb->n; i++) free(t[i]);
    free(t);
    free(si);
    kv_free(&kv);
    free(path);
}

void ts_labels_read(ts_labels *lb, const avm_feats *f, const char *data, const ts_model *m) {
    memset(lb, 0, sizeof *lb);
    int n = lb->n = f->n;
    lb->cls = xmalloc(((size_t)n + 1) * sizeof *lb->cls);
    lb->cmd = xmalloc(((size_t)n + 1) * sizeof *lb->cmd);
    lb->title = xmalloc(((size_t)n + 1) * sizeof *lb->title);
    char **utts = xmalloc(((size_t)n + 1) * sizeof *utts);
    int *lab = xmalloc(((size_t)n + 1) * sizeof *lab);
    for (int i = 0; i < n; i++) utts[i] = f->e[i].utt_id;
    char *path = path_join(data, "intent");
    int rc = intent_read(path, &m->intents, utts, n, lab);
    free(path);
    if (rc) { free(utts); free(lab); avm_die("tinys2i: %s", avm_error()); }   /* freed first: no leak reported */
    for (int i = 0; i < n; i++) {
        const char *c = m->intents.cls[lab[i]];
        lb->cls[i] = !strcmp(c, "command") ? TS_COMMAND : !strcmp(c, "title") ? TS_TITLE : TS_OTHER;
        lb->cmd[i] = -1;
        for (int k = 0; k < m->head.Kc; k++) if (m->cmd_intent[k] == lab[i]) lb->cmd[i] = k;
        lb->count[lb->cls[i]]++;
    }
    read_titles(lb, f, data, m->title_chars);
    for (int i = 0; i < n; i++) {   /* the fingerprint: what the run trains toward */
        const char *tt = lb->title[i] >= 0 ? lb->titles.text[lb->title[i]] : "-";
        const char *parts[6] = {utts[i], " ", m->intents.name[lab[i]], " ", tt, "\n"};
        for (int j = 0; j < 6; j++) lb->crc = crc32_update(lb->crc, parts[j], strlen(parts[j]));
    }
    free(lab); free(utts);
}

void ts_labels_free(ts_labels *lb) {
    free(lb->cls); free(lb->cmd); free(lb->title);
    textset_free(&lb->titles);
    memset(lb, 0, sizeof *lb);
}

#define GROW(k, ptr, n) ((ptr) = xgrow((ptr), &b->cap[k], (n) * sizeof *(ptr)))

void ts_target_make(ts_target *t, ts_tbuf *b, const ts_labels *lb, const avm_batch_data *d, const int *g, int gn,
                    uint64_t seed, long step) {
    memset(t, 0, sizeof *t);
    int B = d->B;
    GROW(0, b->cls, (size_t)B + 1);
    GROW(1, b->cmd, (size_t)B + 1);
    GROW(2, b->pos, (size_t)B + 1);
    GROW(3, b->neg, (size_t)B + 1);
    GROW(4, b->map, (size_t)lb->titles.n + 1);
    GROW(5, b->len, (size_t)gn + 1);
    t->n = gn;
    for (int j = 0; j < gn; j++) {
        t->ncmd += lb->cls[g[j]] == TS_COMMAND;
        t->ntitle += lb->cls[g[j]] == TS_TITLE;
        if (lb->title[g[j]] >= 0) b->map[lb->title[g[j]]] = -1;
    }
    /* the pool: the global batch's distinct titles in order of first appearance */
    int P = 0, T = 1;
    for (int j = 0; j < gn; j++) {
        int s = lb->title[g[j]];
        if (s < 0 || b->map[s] >= 0) continue;
        b->map[s] = P;
        b->len[P] = lb->titles.len[s];
        if (b->len[P] > T) T = b->len[P];
        P++;
    }
    GROW(6, b->ids, (size_t)P * T + 1);
    memset(b->ids, 0, ((size_t)P * T + 1) * sizeof *b->ids);
    for (int j = 0; j < gn; j++) {
        int s = lb->title[g[j]];
        if (s >= 0) memcpy(b->ids + (size_t)b->map[s] * T, lb->titles.ids[s], (size_t)lb->titles.len[s] * sizeof(int32_t));
    }
    for (int i = 0; i < B; i++) {
        int u = d->utt[i], s = lb->title[u];
        b->cls[i] = lb->cls[u];
        b->cmd[i] = lb->cmd[u];
        b->pos[i] = s < 0 ? -1 : b->map[s];
        b->neg[i] = -1;
        if (s < 0 || P < 2) continue;
        avm_rng r;   /* another title of the global batch, uniformly */
        train_rng(&r, seed, SEED_NEGATIVE, step, d->gidx[i]);
        int k = (int)rng_below(&r, (uint32_t)(P - 1));
        b->neg[i] = k < b->pos[i] ? k : k + 1;
    }
    t->cls = b->cls; t->cmd = b->cmd; t->pos = b->pos; t->neg = b->neg;
    t->ids = b->ids; t->len = b->len; t->P = P; t->T = T;
}

void ts_tbuf_free(ts_tbuf *b) {
    free(b->cls); free(b->cmd); free(b->ids); free(b->pos); free(b->neg); free(b->len); free(b->map);
    memset(b, 0, sizeof *b);
}
