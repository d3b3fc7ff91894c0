/* The CTC baseline's matching: transcript -> TinyS2I decision (see ctcmenu.h). */
#include "eval/ctcmenu.h"
#include "common/log.h"
#include "common/util.h"
#include "data/datadir.h"
#include "train/edit_distance.h"
#include "train/tinys2i.h"
#include "train/units.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int words(const char *s, char ***w) { return units_split(UNITS_WORD, s, w); }

/* The classes of the intent list (command | title | other, as TinyS2I's). */
static int read_classes(cm_index *x, const char *path) {
    x->cls = xmalloc(((size_t)x->intents.n + 1) * sizeof *x->cls);
    for (int i = 0; i < x->intents.n; i++) {
        x->cls[i] = -1;
        for (int k = 0; k < TS_CLASSES; k++) if (!strcmp(x->intents.cls[i], ts_class_names[k])) x->cls[i] = k;
        if (x->cls[i] < 0)
            return avm_fail("%s:%d: intent '%s' has class '%s', not command, title or other", path, i + 1,
                            x->intents.name[i], x->intents.cls[i]);
    }
    return 0;
}

/* The last run of w equal to the title's words: e->t0, e->t1 (-1 if absent). */
static void title_span(cm_entry *e, const char *title, size_t len) {
    char *t = xasprintf("%.*s", (int)len, title), **tw;
    int nt = words(t, &tw);
    e->t0 = e->t1 = -1;
    for (int s = e->nw - nt; nt > 0 && s >= 0 && e->t0 < 0; s--) {
        int k = 0;
        while (k < nt && !strcmp(e->w[s + k], tw[k])) k++;
        if (k == nt) { e->t0 = s; e->t1 = s + nt; }
    }
    units_free_split(tw, nt);
    free(t);
}

static int word_cmp(const cm_entry *a, const cm_entry *b) {
    for (int k = 0; k < a->nw && k < b->nw; k++) {
        int c = strcmp(a->w[k], b->w[k]);
        if (c) return c;
    }
    return a->nw != b->nw ? (a->nw > b->nw) - (a->nw < b->nw) : (a->intent > b->intent) - (a->intent < b->intent);
}
static int by_words(const void *a, const void *b) { return word_cmp(a, b); }

/* Sorted, and each (transcript, intent) once with its count. */
static void merge(cm_index *x) {
    qsort(x->e, x->n, sizeof *x->e, by_words);
    int m = 0;
    for (int i = 0; i < x->n; i++) {
        if (m && !word_cmp(&x->e[m - 1], &x->e[i])) {
            x->e[m - 1].count++;
            units_free_split(x->e[i].w, x->e[i].nw);
        } else x->e[m++] = x->e[i];
    }
    x->n = m;
}

int cm_index_read(cm_index *x, const char *data, const char *intents_path) {
    memset(x, 0, sizeof *x);
    char *tp = path_join(data, "text"), *ip = path_join(data, "intent"), *sp = path_join(data, "slots");
    avm_kv text = {0}, slots = {0};
    int *label = NULL, have_slots = 0;
    int rc = intents_read(&x->intents, intents_path);
    if (!rc) rc = read_classes(x, intents_path);
    if (!rc) rc = kv_read(&text, tp, 1);
    if (!rc) {
        label = xmalloc(((size_t)text.n + 1) * sizeof *label);
        rc = intent_read(ip, &x->intents, text.keys, text.n, label);
    }
    if (!rc && text.n == 0) rc = avm_fail("%s: no transcripts", tp);
    if (!rc && file_exists(sp)) rc = kv_read(&slots, sp, 1), have_slots = !rc;
    if (!rc) {
        x->e = xcalloc((size_t)text.n, sizeof *x->e);
        for (int i = 0; i < text.n; i++) {
            cm_entry *e = &x->e[x->n++];
            e->nw = words(text.vals[i], &e->w);
            e->intent = label[i];
            e->count = 1;
            e->t0 = e->t1 = -1;
            const char *sl = have_slots ? kv_get(&slots, text.keys[i]) : NULL, *t;
            size_t n = sl && x->cls[label[i]] == TS_TITLE ? slots_title(sl, &t) : 0;
            if (n) title_span(e, t, n);
        }
        merge(x);
    }
    if (have_slots) kv_free(&slots);
    if (text.keys) kv_free(&text);
    free(label); free(tp); free(ip); free(sp);
    if (rc) cm_index_free(x);
    return rc;
}

void cm_index_free(cm_index *x) {
    for (int i = 0; i < x->n; i++) units_free_split(x->e[i].w, x->e[i].nw);
    free(x->e);
    free(x->cls);
    if (x->intents.name) intents_free(&x->intents);
    memset(x, 0, sizeof *x);
}

static int dist(char *const *a, int na, char *const *b, int nb, char *ops) {
    avm_errs r = {0};
    edit_align((const char *const *)a, na, (const char *const *)b, nb, &r, ops);
    return (int)(r.s + r.d + r.i);
}

double cm_char_dist(const char *a, const char *b) {
    char **ca, **cb;
    int na = units_split(UNITS_CHAR, a, &ca), nb = units_split(UNITS_CHAR, b, &cb);
    int m = na > nb ? na : nb;
    double r = m ? (double)dist(ca, na, cb, nb, NULL) / m : 0;
    units_free_split(ca, na);
    units_free_split(cb, nb);
    return r;
}

/* The intent of the nearest transcripts (votes by training utterances), and *carrier the
 * first nearest entry with a title span (-1: none). */
static void nearest(const cm_index *x, char *const *w, int nw, cm_decision *d, int *carrier) {
    int *votes = xcalloc((size_t)x->intents.n, sizeof *votes), best = INT_MAX, bt = INT_MAX;
    *carrier = -1;
    for (int i = 0; i < x->n; i++) {
        const cm_entry *e = &x->e[i];
        int k = dist(e->w, e->nw, w, nw, NULL);
        if (k < best) { best = k; memset(votes, 0, (size_t)x->intents.n * sizeof *votes); }
        if (k == best) votes[e->intent] += e->count;
        if (e->t0 >= 0 && k < bt) { bt = k; *carrier = i; }
    }
    d->dist = best;
    d->intent = 0;
    for (int k = 1; k < x->intents.n; k++) if (votes[k] > votes[d->intent]) d->intent = k;
    d->cls = x->cls[d->intent];
    free(votes);
}

/* The words of w aligned to the carrier entry's title span (see ctcmenu.h); NULL if none. */
static char *rest(const cm_entry *e, char *const *w, int nw) {
    char *ops = xmalloc((size_t)e->nw + nw + 1);
    dist(e->w, e->nw, w, nw, ops);
    size_t cap = 1;
    for (int j = 0; j < nw; j++) cap += strlen(w[j]) + 1;
    char *q = xcalloc(cap, 1);
    for (int k = 0, r = 0, h = 0; ops[k] && k < e->nw + nw; k++) {
        char op = ops[k];
        int in = op == 'I' ? r >= e->t0 && r <= e->t1 : op != 'D' && r >= e->t0 && r < e->t1;
        if (in) { if (*q) strcat(q, " "); strcat(q, w[h]); }
        r += op != 'I';
        h += op != 'D';
    }
    free(ops);
    if (!*q) { free(q); return NULL; }
    return q;
}

void cm_decide(const cm_index *x, const char *transcript, const avm_menu *menu, cm_query q, cm_decision *d) {
    memset(d, 0, sizeof *d);
    d->cls = d->intent = d->title = d->dist = -1;
    char **w;
    int nw = words(transcript, &w), carrier = -1;
    if (nw > 0) nearest(x, w, nw, d, &carrier);
    if (menu) {
        if (q == CM_QUERY_REST && carrier >= 0) d->query = rest(&x->e[carrier], w, nw);
        if (!d->query) d->query = xstrdup(transcript);
        for (int k = 0; k < menu->n; k++) {
            double c = cm_char_dist(d->query, menu->title[k]);
            if (d->title < 0 || c < d->title_dist) { d->title = k; d->title_dist = c; }
        }
    }
    units_free_split(w, nw);
}

char *cm_hyp(const cm_index *x, const cm_decision *d, const avm_menu *menu) {
    if (d->cls == TS_COMMAND) return xasprintf("command %s", x->intents.name[d->intent]);
    if (d->cls == TS_TITLE) return xasprintf("play %s", menu && d->title >= 0 ? menu->title[d->title] : "-");
    return xstrdup("defer");
}

void cm_decision_free(cm_decision *d) {
    free(d->query);
    d->query = NULL;
}
