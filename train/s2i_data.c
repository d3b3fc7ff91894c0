/* S2I's labels: intents, the labelled fraction, transcripts and their frozen text embeddings,
 * and the targets of a global batch (see s2i.h). */
#include "train/s2i.h"
#include "common/crc32.h"
#include "common/log.h"
#include "common/util.h"
#include "train/seeding.h"
#include "train/trans.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The distinct (transcript, intent) pairs of the utterances: lb->sent, lb->scls and the
 * sentences in s (one per pair, in order of first appearance); counts c over every
 * utterance's transcript. */
typedef struct { const char *text; int32_t y; int idx; } pair;
static int by_pair(const void *a, const void *b) {
    const pair *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    if (!c) c = (x->y > y->y) - (x->y < y->y);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static void distinct(s2i_labels *lb, const char *const *text, avm_textset *s) {
    pair *p = xmalloc(((size_t)lb->n + 1) * sizeof *p);
    for (int i = 0; i < lb->n; i++) p[i] = (pair){text[i], lb->y[i], i};
    qsort(p, lb->n, sizeof *p, by_pair);
    int *first = xmalloc(((size_t)lb->n + 1) * sizeof *first);   /* utterance -> first utterance of its pair */
    for (int k = 0; k < lb->n; k++)
        first[p[k].idx] = k && !strcmp(p[k].text, p[k - 1].text) && p[k].y == p[k - 1].y ? first[p[k - 1].idx] : p[k].idx;
    lb->sent = xmalloc(((size_t)lb->n + 1) * sizeof *lb->sent);
    lb->scls = xmalloc(((size_t)lb->n + 1) * sizeof *lb->scls);
    lb->nsent = 0;
    for (int i = 0; i < lb->n; i++) {
        if (first[i] != i) { lb->sent[i] = lb->sent[first[i]]; continue; }
        lb->scls[lb->nsent] = lb->y[i];
        lb->sent[i] = lb->nsent++;
        textset_add(s, "", text[i]);
    }
    free(first);
    free(p);
}

/* Words of every utterance's transcript, those outside the vocabulary, cut transcripts. */
static avm_text_counts utterance_counts(const s2i_labels *lb, const avm_textset *s, const avm_vocab *v, int max_len) {
    avm_text_counts c = {0}, one;
    int32_t *ids = xmalloc((size_t)max_len * sizeof *ids);
    int *mult = xcalloc((size_t)lb->nsent + 1, sizeof *mult);
    for (int i = 0; i < lb->n; i++) mult[lb->sent[i]]++;
    for (int k = 0; k < s->n; k++) {
        memset(&one, 0, sizeof one);
        vocab_encode(v, s->text[k], max_len, ids, &one);
        c.words += one.words * mult[k];
        c.unk += one.unk * mult[k];
        c.sentences += one.sentences * mult[k];
        c.cut += one.cut * mult[k];
    }
    free(mult);
    free(ids);
    return c;
}

/* The text embeddings of the distinct transcripts of DATA/text. */
static void embed(s2i_labels *lb, const avm_feats *f, const char *data, avm_textenc *tm, const avm_vocab *v) {
    char *path = path_join(data, "text");
    avm_trans tr;
    if (trans_read(&tr, path)) avm_die("s2i: %s", avm_error());
    const char **text = xmalloc(((size_t)f->n + 1) * sizeof *text);
    int missing = 0;
    const char *first = NULL;
    for (int i = 0; i < f->n; i++) {
        int k = trans_find(&tr, f->e[i].utt_id);
        if (k < 0 && !missing++) first = f->e[i].utt_id;
        text[i] = k < 0 ? "" : tr.u[k].text;
    }
    if (missing) avm_die("s2i: %s: %d utterances of %s have no transcript (first: %s)", path, missing, f->dir, first);
    avm_textset s = {0};
    distinct(lb, text, &s);
    for (int i = 0; i < f->n; i++) {   /* the fingerprint: what the run trains toward */
        const char *parts[6] = {f->e[i].utt_id, " ", "", " ", text[i], "\n"};
        char y[16];
        snprintf(y, sizeof y, "%d", lb->y[i]);
        parts[2] = y;
        for (int j = 0; j < 6; j++) lb->crc = crc32_update(lb->crc, parts[j], strlen(parts[j]));
    }
    textset_encode(&s, v, tm->cfg.max_len);
    lb->counts = utterance_counts(lb, &s, v, tm->cfg.max_len);
    lb->max_len = tm->cfg.max_len;
    lb->text_path = path;
    lb->e = tm->cfg.d;
    lb->temb = xmalloc(((size_t)s.n * lb->e + 1) * sizeof *lb->temb);
    if (tl_embed_sentences(tm, &s, 4096, lb->temb)) avm_die("s2i: %s", avm_error());
    textset_free(&s);
    free(text);
    trans_free(&tr);
}

void s2i_labels_log(const s2i_labels *lb, const char *what) {
    const avm_text_counts *c = &lb->counts;
    if (!lb->temb) return;
    avm_info("s2i: %s transcripts (%s): %ld utterances, %d distinct, %ld words, %ld (%.2f %%) outside the text "
             "encoder's vocabulary mapped to <unk>, %ld cut at max_len %d", what, lb->text_path, c->sentences,
             lb->nsent, c->words, c->unk, c->words ? 100.0 * c->unk / c->words : 0.0, c->cut, lb->max_len);
}

void s2i_labels_read(s2i_labels *lb, const avm_feats *f, const char *data, const avm_intents *in, avm_textenc *tm,
                     const avm_vocab *v) {
    memset(lb, 0, sizeof *lb);
    lb->n = f->n;
    lb->nused = f->n;
    lb->y = xmalloc(((size_t)f->n + 1) * sizeof *lb->y);
    char **utts = xmalloc(((size_t)f->n + 1) * sizeof *utts);
    int *lab = xmalloc(((size_t)f->n + 1) * sizeof *lab);
    for (int i = 0; i < f->n; i++) utts[i] = f->e[i].utt_id;
    char *path = path_join(data, "intent");
    int rc = intent_read(path, in, utts, f->n, lab);
    free(path); free(utts);
    if (rc) { free(lab); avm_die("s2i: %s", avm_error()); }   /* freed first: no leak reported at exit */
    for (int i = 0; i < f->n; i++) lb->y[i] = lab[i];
    free(lab);
    if (tm) { embed(lb, f, data, tm, v); return; }
    for (int i = 0; i < f->n; i++) {   /* without text: the fingerprint of the intents alone */
        char line[64];
        int k = snprintf(line, sizeof line, " %d\n", lb->y[i]);
        lb->crc = crc32_update(lb->crc, f->e[i].utt_id, strlen(f->e[i].utt_id));
        lb->crc = crc32_update(lb->crc, line, (size_t)k);
    }
}

void s2i_labels_subset(s2i_labels *lb, int K, double fraction, uint64_t seed) {
    lb->use = xcalloc((size_t)lb->n + 1, 1);
    int *rows = xmalloc(((size_t)lb->n + 1) * sizeof *rows);
    lb->nused = 0;
    for (int k = 0; k < K; k++) {
        int nk = 0;
        for (int i = 0; i < lb->n; i++) if (lb->y[i] == k) rows[nk++] = i;
        if (!nk) continue;
        long keep = lround(fraction * nk);
        if (keep < 1) keep = 1;
        avm_rng r;
        train_rng(&r, seed, SEED_LABELS, k, 0);
        rng_shuffle(&r, rows, nk);
        for (long j = 0; j < keep; j++) lb->use[rows[j]] = 1;
        lb->nused += (int)keep;
    }
    free(rows);
}

void s2i_labels_free(s2i_labels *lb) {
    free(lb->y); free(lb->sent); free(lb->temb); free(lb->scls); free(lb->use); free(lb->text_path);
    memset(lb, 0, sizeof *lb);
}

#define GROW(k, ptr, n) ((ptr) = xgrow((ptr), &b->cap[k], (n) * sizeof *(ptr)))

void s2i_target_make(s2i_target *t, s2i_tbuf *b, const s2i_labels *lb, const avm_batch_data *d, const int *g,
                     int gn) {
    memset(t, 0, sizeof *t);
    GROW(0, b->y, (size_t)d->B + 1);
    for (int i = 0; i < d->B; i++) b->y[i] = lb->y[d->utt[i]];
    t->y = b->y;
    t->denom = gn;
    if (!lb->temb) return;
    /* the pool: the distinct transcripts of the global batch in order of first appearance */
    GROW(1, b->pos, (size_t)d->B + 1);
    GROW(2, b->cls, (size_t)gn + 1);
    GROW(3, b->map, (size_t)lb->nsent + 1);
    GROW(4, b->pool, (size_t)gn * lb->e + 1);
    for (int j = 0; j < gn; j++) b->map[lb->sent[g[j]]] = -1;
    int P = 0;
    for (int j = 0; j < gn; j++) {
        int s = lb->sent[g[j]];
        if (b->map[s] >= 0) continue;
        b->map[s] = P;
        b->cls[P] = lb->scls[s];
        memcpy(b->pool + (size_t)P * lb->e, lb->temb + (size_t)s * lb->e, (size_t)lb->e * sizeof(float));
        P++;
    }
    for (int i = 0; i < d->B; i++) b->pos[i] = b->map[lb->sent[d->utt[i]]];
    t->pos = b->pos;
    t->pool = b->pool;
    t->pool_cls = b->cls;
    t->P = P;
}

void s2i_target_negatives(s2i_target *t, s2i_tbuf *b, const avm_batch_data *d, uint64_t seed, long step) {
    GROW(5, b->neg, (size_t)d->B + 1);
    for (int i = 0; i < d->B; i++) {
        int other = 0;
        for (int j = 0; j < t->P; j++) other += t->pool_cls[j] != t->y[i];
        b->neg[i] = -1;
        if (!other) continue;
        avm_rng r;
        train_rng(&r, seed, SEED_NEGATIVE, step, d->gidx[i]);
        int k = (int)rng_below(&r, (uint32_t)other);
        for (int j = 0; j < t->P; j++)
            if (t->pool_cls[j] != t->y[i] && k-- == 0) { b->neg[i] = j; break; }
    }
    t->neg = b->neg;
}

void s2i_tbuf_free(s2i_tbuf *b) {
    free(b->y); free(b->pos); free(b->cls); free(b->map); free(b->pool); free(b->neg);
    memset(b, 0, sizeof *b);
}
