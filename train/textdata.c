/* Sentences, batches and BERT's masking for the text encoder (see textdata.h). */
#include "train/textdata.h"
#include "common/util.h"
#include "models/textenc.h"
#include "train/batch.h"
#include "train/seeding.h"
#include "train/trans.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void add(avm_textset *s, char *id, char *text) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->id = xrealloc(s->id, s->cap * sizeof *s->id);
        s->text = xrealloc(s->text, s->cap * sizeof *s->text);
    }
    s->id[s->n] = id;
    s->text[s->n++] = text;
}

void textset_add(avm_textset *s, const char *id, const char *text) { add(s, xstrdup(id), xstrdup(text)); }

static int read_kaldi(avm_textset *s, const char *path) {
    avm_trans t;
    if (trans_read(&t, path)) return -1;
    int rc = 0;
    for (int i = 0; i < t.n && !rc; i++)
        if (!utf8_valid(t.u[i].text)) rc = avm_fail("%s:%d: not valid UTF-8", path, t.u[i].lineno);
    for (int i = 0; i < t.n && !rc; i++) add(s, xstrdup(t.u[i].id), xstrdup(t.u[i].text));
    trans_free(&t);
    return rc;
}

int textset_read(avm_textset *s, const char *path, avm_text_format f, int keep_blank) {
    if (f == TEXT_KALDI) return read_kaldi(s, path);
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    char *line;
    int rc = 0;
    while (!rc && (line = lines_next(&r))) {
        if (!utf8_valid(line)) { rc = avm_fail("%s:%d: not valid UTF-8", path, r.lineno); break; }
        if (!keep_blank && !line[strspn(line, " \t\r")]) continue;
        add(s, xasprintf("%d", r.lineno), xstrdup(line));
    }
    if (lines_close(&r) && !rc) rc = -1;
    return rc;
}

void textset_encode(avm_textset *s, const avm_vocab *v, int max_len) {
    s->ids = xmalloc((s->n ? s->n : 1) * sizeof *s->ids);
    s->len = xmalloc((s->n ? s->n : 1) * sizeof *s->len);
    int32_t *buf = xmalloc(max_len * sizeof *buf);
    memset(&s->counts, 0, sizeof s->counts);
    for (int i = 0; i < s->n; i++) {
        s->len[i] = vocab_encode(v, s->text[i], max_len, buf, &s->counts);
        s->ids[i] = xmalloc(s->len[i] * sizeof **s->ids);
        memcpy(s->ids[i], buf, s->len[i] * sizeof *buf);
    }
    free(buf);
}

void textset_free(avm_textset *s) {
    for (int i = 0; i < s->n; i++) {
        free(s->id[i]);
        free(s->text[i]);
        if (s->ids) free(s->ids[i]);
    }
    free(s->id); free(s->text); free(s->ids); free(s->len);
    memset(s, 0, sizeof *s);
}

void textloader_open(avm_textloader *L, const avm_textset *s, long budget, uint64_t seed, int shuffle) {
    memset(L, 0, sizeof *L);
    L->set = s;
    L->budget = budget;
    L->seed = seed;
    L->shuffle = shuffle;
    L->order = xmalloc((s->n + 1) * sizeof *L->order);
    L->bstart = xmalloc((s->n + 2) * sizeof *L->bstart);
}

void textloader_close(avm_textloader *L) {
    free(L->order);
    free(L->bstart);
    memset(L, 0, sizeof *L);
}

int textloader_plan(avm_textloader *L, long epoch) {
    L->nbatch = batch_plan(L->set->len, L->set->n, L->budget, L->seed, epoch, L->shuffle, L->order, L->bstart);
    return L->nbatch;
}

int textloader_get(avm_textloader *L, int b, int rank, int world, avm_textbatch *out) {
    if (b < 0 || b >= L->nbatch) return avm_fail("text batch %d outside the epoch's %d", b, L->nbatch);
    int g0 = L->bstart[b], gn = L->bstart[b + 1] - g0;
    int lo = (int)((long)gn * rank / world), hi = (int)((long)gn * (rank + 1) / world), B = hi - lo, T = 1;
    for (int k = 0; k < B; k++) {
        int l = L->set->len[L->order[g0 + lo + k]];
        if (l > T) T = l;
    }
    if (B > out->cap_b) {
        out->cap_b = B;
        out->len = xrealloc(out->len, B * sizeof *out->len);
        out->sent = xrealloc(out->sent, B * sizeof *out->sent);
        out->gidx = xrealloc(out->gidx, B * sizeof *out->gidx);
    }
    if ((size_t)B * T > out->cap_bt) {
        out->cap_bt = (size_t)B * T;
        out->ids = xrealloc(out->ids, out->cap_bt * sizeof *out->ids);
    }
    out->B = B;
    out->T = T;
    out->global_B = gn;
    for (int k = 0; k < B; k++) {
        int i = L->order[g0 + lo + k];
        out->sent[k] = i;
        out->gidx[k] = lo + k;
        out->len[k] = L->set->len[i];
        int32_t *row = out->ids + (size_t)k * T;
        memcpy(row, L->set->ids[i], out->len[k] * sizeof *row);
        for (int t = out->len[k]; t < T; t++) row[t] = AVM_TEXT_PAD;
    }
    return 0;
}

void textbatch_free(avm_textbatch *b) {
    free(b->ids); free(b->len); free(b->sent); free(b->gidx);
    memset(b, 0, sizeof *b);
}

int text_mask(const avm_textbatch *b, uint64_t seed, int64_t key, int vocab, double p, int32_t *inp, int32_t *tgt) {
    int chosen = 0, *pos = xmalloc(b->T * sizeof *pos);
    for (int k = 0; k < b->B; k++) {
        const int32_t *row = b->ids + (size_t)k * b->T;
        int32_t *in = inp + (size_t)k * b->T, *tg = tgt + (size_t)k * b->T;
        memcpy(in, row, b->T * sizeof *in);
        for (int t = 0; t < b->T; t++) tg[t] = -1;
        int words = 0;   /* the candidates: word positions after <cls>, not <unk> */
        for (int t = 1; t < b->len[k]; t++)
            if (row[t] != AVM_TEXT_UNK) pos[words++] = t;
        if (words < 1) continue;
        int m = (int)lround(p * words);
        if (m < 1) m = 1;
        avm_rng r;
        train_rng(&r, seed, SEED_MASK_TEXT, key, b->gidx[k]);
        for (int j = 0; j < m; j++) {   /* a partial Fisher-Yates shuffle: m distinct positions */
            int s = j + (int)rng_below(&r, (uint32_t)(words - j)), t = pos[s];
            pos[s] = pos[j];
            pos[j] = t;
            tg[t] = row[t];
            double u = rng_uniform(&r);
            if (u < 0.8) in[t] = AVM_TEXT_MASK;
            else if (u < 0.9) in[t] = AVM_TEXT_SPECIALS + (int32_t)rng_below(&r, (uint32_t)(vocab - AVM_TEXT_SPECIALS));
        }
        chosen += m;
    }
    free(pos);
    return chosen;
}
