/* Templates are rendered left to right: words are copied, "$slot" is replaced by the
 * value chosen for that slot occurrence, and "slot=value" is added to the slots line. */
#include "data/synth/synth_slu_text.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

#define MAX_SLOTS 8   /* slots in one template */

/* Slot of a "$name" token: -1 for title, else an index into slu_slots(); -2 unknown. */
static int slot_kind(const char *tok, size_t len) {
    if (len == 5 && !strncmp(tok, "title", 5)) return -1;
    const slu_slot *s = slu_slots();
    for (int i = 0; s[i].name; i++)
        if (strlen(s[i].name) == len && !strncmp(s[i].name, tok, len)) return i;
    return -2;
}

static int count(const char *const *v) {
    int n = 0;
    while (v[n]) n++;
    return n;
}

/* The slots of a template in order: kind[] (slot_kind) and the number of values of each. */
static int slot_refs(const char *t, int ntitles, int *kind, int *nval) {
    int n = 0;
    for (const char *p = t; (p = strchr(p, '$')); p++) {
        size_t len = strcspn(p + 1, " ");
        int k = slot_kind(p + 1, len);
        if (k == -2 || n == MAX_SLOTS) avm_die("synth-slu: bad slot in template '%s'", t);   /* a bug in the table */
        kind[n] = k;
        nval[n++] = k == -1 ? ntitles : count(slu_slots()[k].values);
    }
    return n;
}

static const char *template_of(const slu_intent *in, int unseen, int tmpl) {
    return (unseen ? in->unseen : in->seen)[tmpl];
}

/* Renders template (intent, unseen, tmpl) with value val[k] for its k-th slot. */
static void render(int intent, int unseen, int tmpl, const int *val, char *const *titles, slu_command *c) {
    int n;
    const slu_intent *in = slu_intents(&n) + intent;
    const char *t = template_of(in, unseen, tmpl);
    c->intent = intent;
    c->unseen = unseen;
    c->tmpl = tmpl;
    c->title = -1;
    c->text.len = c->slots.len = 0;
    sb_add(&c->text, "");
    sb_add(&c->slots, "");
    int k = 0;
    for (const char *p = t; *p;) {
        if (*p != '$') {
            const char *e = strchr(p, '$');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            sb_printf(&c->text, "%.*s", (int)len, p);
            p += len;
            continue;
        }
        size_t len = strcspn(p + 1, " ");
        int kind = slot_kind(p + 1, len);
        const char *v = kind == -1 ? titles[val[k]] : slu_slots()[kind].values[val[k]];
        if (kind == -1) c->title = val[k];
        sb_add(&c->text, v);
        sb_printf(&c->slots, "%s%.*s=%s", c->slots.len ? ";" : "", (int)len, p + 1, v);
        p += 1 + len;
        k++;
    }
    if (!c->slots.len) sb_add(&c->slots, "-");
}

void slu_draw(avm_rng *r, char *const *titles, int ntitles, double p_unseen, slu_command *c) {
    int n;
    const slu_intent *in = slu_intents(&n);
    double total = 0, x;
    for (int i = 0; i < n; i++) total += in[i].weight;
    x = rng_uniform(r) * total;
    int intent = 0;
    while (intent < n - 1 && x >= in[intent].weight) x -= in[intent++].weight;
    int unseen = rng_uniform(r) < p_unseen && in[intent].unseen[0];
    int tmpl = (int)rng_below(r, (uint32_t)count(unseen ? in[intent].unseen : in[intent].seen));
    int kind[MAX_SLOTS], nval[MAX_SLOTS], val[MAX_SLOTS];
    int ns = slot_refs(template_of(&in[intent], unseen, tmpl), ntitles, kind, nval);
    for (int k = 0; k < ns; k++) val[k] = (int)rng_below(r, (uint32_t)nval[k]);
    render(intent, unseen, tmpl, val, titles, c);
}

void slu_enumerate(char *const *titles, int ntitles, void (*fn)(void *ctx, const slu_command *c), void *ctx) {
    int n;
    const slu_intent *in = slu_intents(&n);
    slu_command c = {0};
    for (int i = 0; i < n; i++)
        for (int unseen = 0; unseen < 2; unseen++)
            for (int t = 0; (unseen ? in[i].unseen : in[i].seen)[t]; t++) {
                int kind[MAX_SLOTS], nval[MAX_SLOTS], val[MAX_SLOTS] = {0};
                int ns = slot_refs(template_of(&in[i], unseen, t), ntitles, kind, nval), k;
                int empty = 0;
                for (k = 0; k < ns; k++) empty |= nval[k] == 0;
                if (empty) continue;
                do {   /* odometer, the last slot fastest */
                    render(i, unseen, t, val, titles, &c);
                    fn(ctx, &c);
                    for (k = ns - 1; k >= 0 && ++val[k] == nval[k]; k--) val[k] = 0;
                } while (k >= 0);
            }
    slu_command_free(&c);
}

void slu_command_free(slu_command *c) {
    sb_free(&c->text);
    sb_free(&c->slots);
    memset(c, 0, sizeof *c);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds the words of s (not "$slot" tokens) to the list. */
static void add_words(const char *s, char ***w, int *n, int *cap) {
    for (const char *p = s; *p;) {
        p += strspn(p, " ");
        size_t len = strcspn(p, " ");
        if (len && *p != '$') {
            if (*n == *cap) *w = xrealloc(*w, (size_t)(*cap = *cap ? 2 * *cap : 256) * sizeof **w);
            (*w)[(*n)++] = strndup(p, len);
        }
        p += len;
    }
}

const char *const *slu_words(int *nw) {
    static char **w;
    static int n;
    if (!w) {
        int ni, cap = 0;
        const slu_intent *in = slu_intents(&ni);
        for (int i = 0; i < ni; i++)
            for (int u = 0; u < 2; u++)
                for (const char *const *t = u ? in[i].unseen : in[i].seen; *t; t++) add_words(*t, &w, &n, &cap);
        for (const slu_slot *s = slu_slots(); s->name; s++)
            for (const char *const *v = s->values; *v; v++) add_words(*v, &w, &n, &cap);
        qsort(w, (size_t)n, sizeof *w, cmp_str);
        int m = 0;
        for (int i = 0; i < n; i++)
            if (m && !strcmp(w[m - 1], w[i])) free(w[i]);
            else w[m++] = w[i];
        n = m;
    }
    *nw = n;
    return (const char *const *)w;
}
