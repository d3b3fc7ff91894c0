/* avmask eval --unit=intent: the one-intent-per-line check and the confusion matrix (see
 * eval_intent.h). */
#include "eval/eval_intent.h"
#include "common/log.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

int intent_file_check(const avm_trans *t) {
    for (int i = 0; i < t->n; i++)
        if (t->u[i].n != 1)
            return avm_fail("%s:%d: expected '<utt-id> <intent>' (one intent), found %d tokens", t->path,
                            t->u[i].lineno, t->u[i].n);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int find(const intent_confusion *c, const char *s) {
    char *const *p = bsearch(&s, c->label, c->n, sizeof *c->label, cmp_str);
    return p ? (int)(p - c->label) : -1;
}

void intent_confusion_build(intent_confusion *c, const avm_trans *ref, const avm_trans *hyp) {
    memset(c, 0, sizeof *c);
    char **all = xmalloc(((size_t)ref->n + hyp->n + 1) * sizeof *all);
    int n = 0;
    for (int i = 0; i < ref->n; i++) all[n++] = ref->u[i].tok[0];
    for (int i = 0; i < hyp->n; i++) all[n++] = hyp->u[i].tok[0];
    qsort(all, n, sizeof *all, cmp_str);
    c->label = xmalloc(((size_t)n + 1) * sizeof *c->label);
    for (int i = 0; i < n; i++)
        if (!c->n || strcmp(c->label[c->n - 1], all[i])) c->label[c->n++] = xstrdup(all[i]);
    free(all);
    c->m = xcalloc((size_t)c->n * (c->n + 1) + 1, sizeof *c->m);
    for (int i = 0; i < ref->n; i++) {
        int h = trans_find(hyp, ref->u[i].id);
        int col = h < 0 ? c->n : find(c, hyp->u[h].tok[0]);
        c->m[(size_t)find(c, ref->u[i].tok[0]) * (c->n + 1) + col]++;
    }
}

void intent_confusion_text(avm_strbuf *t, const intent_confusion *c) {
    int w = 6;
    for (int i = 0; i < c->n; i++) if ((int)strlen(c->label[i]) > w) w = (int)strlen(c->label[i]);
    sb_printf(t, "\nconfusions (reference -> hypothesis):\n  %-*s %6s %7s  most frequent errors\n", w, "intent", "utts",
              "%ACC");
    long *r = xmalloc(((size_t)c->n + 1) * sizeof *r);
    for (int i = 0; i < c->n; i++) {
        memcpy(r, c->m + (size_t)i * (c->n + 1), ((size_t)c->n + 1) * sizeof *r);
        long tot = 0;
        for (int j = 0; j <= c->n; j++) tot += r[j];
        if (!tot) continue;
        sb_printf(t, "  %-*s %6ld %7.2f ", w, c->label[i], tot, 100.0 * r[i] / tot);
        r[i] = 0;
        for (int k = 0; k < 3; k++) {   /* the three largest off-diagonal cells, first of equals */
            int best = 0;
            for (int j = 1; j <= c->n; j++) if (r[j] > r[best]) best = j;
            if (!r[best]) break;
            sb_printf(t, " %s %ld", best == c->n ? "<none>" : c->label[best], r[best]);
            r[best] = 0;
        }
        sb_add(t, "\n");
    }
    free(r);
}

void intent_confusion_json(avm_jw *w, const intent_confusion *c) {
    jw_obj_begin(w);
    jw_key(w, "labels"); jw_arr_begin(w);
    for (int i = 0; i < c->n; i++) jw_str(w, c->label[i]);
    jw_arr_end(w);
    jw_key(w, "hyp_labels"); jw_arr_begin(w);
    for (int i = 0; i < c->n; i++) jw_str(w, c->label[i]);
    jw_str(w, "<none>");
    jw_arr_end(w);
    jw_key(w, "matrix"); jw_arr_begin(w);
    for (int i = 0; i < c->n; i++) {
        jw_arr_begin(w);
        for (int j = 0; j <= c->n; j++) jw_int(w, c->m[(size_t)i * (c->n + 1) + j]);
        jw_arr_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

void intent_confusion_free(intent_confusion *c) {
    for (int i = 0; i < c->n; i++) free(c->label[i]);
    free(c->label);
    free(c->m);
    memset(c, 0, sizeof *c);
}
