/* The text tokenizer and word vocabulary (see vocab.h). */
#include "train/vocab.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "models/textenc.h"
#include "train/units.h"
#include <stdlib.h>
#include <string.h>

static const char *const specials[AVM_TEXT_SPECIALS] = {"<pad>", "<unk>", "<mask>", "<cls>"};

static int is_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static int is_punct(unsigned char c) { return c > ' ' && c < 0x7f && !is_alnum(c); }
static int is_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

int vocab_split(const char *line, char ***toks) {
    size_t len = strlen(line);
    char **out = xmalloc((len + 1) * sizeof *out);
    int n = 0;
    const unsigned char *s = (const unsigned char *)line;
    while (*s) {
        if (is_blank(*s)) { s++; continue; }
        if (is_punct(*s) && *s != '\'') { out[n++] = strndup((const char *)s++, 1); continue; }
        if (*s == '\'') { out[n++] = xstrdup("'"); s++; continue; }   /* not between two alphanumerics */
        const unsigned char *e = s;
        while (*e && !is_blank(*e) && (!is_punct(*e) || (*e == '\'' && is_alnum(e[-1]) && is_alnum(e[1])))) e++;
        char *w = strndup((const char *)s, e - s);
        for (char *c = w; *c; c++) if (*c >= 'A' && *c <= 'Z') *c += 'a' - 'A';
        out[n++] = w;
        s = e;
    }
    *toks = out;
    return n;
}

void vocab_free_split(char **toks, int n) {
    for (int i = 0; i < n; i++) free(toks[i]);
    free(toks);
}

/* ---- a string -> int hash table (FNV-1a, linear probing), over a vocabulary's words ---- */
static uint32_t hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot of tok in a table of cap (a power of two) slots holding ids into words. */
static int find_slot(const int *slot, int cap, char *const *words, const char *tok) {
    int i = (int)(hash(tok) & (uint32_t)(cap - 1));
    while (slot[i] >= 0 && strcmp(words[slot[i]], tok)) i = (i + 1) & (cap - 1);
    return i;
}

static void index_words(avm_vocab *v) {
    free(v->slot);
    v->cap = 16;
    while (v->cap < 2 * v->n) v->cap *= 2;
    v->slot = xmalloc(v->cap * sizeof *v->slot);
    for (int i = 0; i < v->cap; i++) v->slot[i] = -1;
    for (int id = 0; id < v->n; id++) v->slot[find_slot(v->slot, v->cap, v->word, v->word[id])] = id;
}

int vocab_id(const avm_vocab *v, const char *tok) { return v->slot[find_slot(v->slot, v->cap, v->word, tok)]; }

/* ---- building ---- */
typedef struct { char **word; long *count; int n, cap_w; int *slot, cap; } counter;

static void count_word(counter *c, char *w) {
    if (2 * (c->n + 1) > c->cap) {   /* grow and rehash */
        c->cap = c->cap ? 2 * c->cap : 1024;
        free(c->slot);
        c->slot = xmalloc(c->cap * sizeof *c->slot);
        for (int i = 0; i < c->cap; i++) c->slot[i] = -1;
        for (int k = 0; k < c->n; k++) c->slot[find_slot(c->slot, c->cap, c->word, c->word[k])] = k;
    }
    int i = find_slot(c->slot, c->cap, c->word, w);
    if (c->slot[i] >= 0) { c->count[c->slot[i]]++; free(w); return; }
    if (c->n == c->cap_w) {
        c->cap_w = c->cap_w ? 2 * c->cap_w : 1024;
        c->word = xrealloc(c->word, c->cap_w * sizeof *c->word);
        c->count = xrealloc(c->count, c->cap_w * sizeof *c->count);
    }
    c->word[c->n] = w;
    c->count[c->n] = 1;
    c->slot[i] = c->n++;
}

static const counter *sort_ctx;
/* most frequent first, ties in byte order */
static int by_count(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    if (sort_ctx->count[i] != sort_ctx->count[j]) return sort_ctx->count[i] > sort_ctx->count[j] ? -1 : 1;
    return strcmp(sort_ctx->word[i], sort_ctx->word[j]);
}

int vocab_build(avm_vocab *v, char *const *lines, int n, int min_count, int max_size) {
    memset(v, 0, sizeof *v);
    if (max_size <= AVM_TEXT_SPECIALS) return avm_fail("vocabulary: max size %d leaves no room for a word", max_size);
    counter c = {0};
    for (int i = 0; i < n; i++) {
        char **t;
        int m = vocab_split(lines[i], &t);
        for (int k = 0; k < m; k++) count_word(&c, t[k]);
        free(t);
    }
    int *order = xmalloc((c.n + 1) * sizeof *order), kept = 0;
    for (int k = 0; k < c.n; k++) if (c.count[k] >= min_count) order[kept++] = k;
    sort_ctx = &c;
    qsort(order, kept, sizeof *order, by_count);
    if (kept > max_size - AVM_TEXT_SPECIALS) kept = max_size - AVM_TEXT_SPECIALS;
    v->word = xmalloc((kept + AVM_TEXT_SPECIALS) * sizeof *v->word);
    for (int k = 0; k < AVM_TEXT_SPECIALS; k++) v->word[v->n++] = xstrdup(specials[k]);
    for (int k = 0; k < kept; k++) { v->word[v->n++] = c.word[order[k]]; c.word[order[k]] = NULL; }
    for (int k = 0; k < c.n; k++) free(c.word[k]);
    free(c.word); free(c.count); free(c.slot); free(order);
    if (!kept) { vocab_free(v); return avm_fail("vocabulary: no word occurs %d times or more in %d sentences", min_count, n); }
    index_words(v);
    return 0;
}

int vocab_read(avm_vocab *v, const char *path) {
    memset(v, 0, sizeof *v);
    int rc = symtab_read(path, "token", &v->word, &v->n);
    for (int id = 0; !rc && id < AVM_TEXT_SPECIALS; id++)
        if (id >= v->n || strcmp(v->word[id], specials[id]))
            rc = avm_fail("%s: id %d must be %s", path, id, specials[id]);
    if (!rc && v->n <= AVM_TEXT_SPECIALS) rc = avm_fail("%s: no word after the %d special tokens", path, AVM_TEXT_SPECIALS);
    if (!rc) {
        index_words(v);
        for (int id = 0; id < v->n && !rc; id++)
            if (vocab_id(v, v->word[id]) != id) rc = avm_fail("%s: token '%s' listed twice", path, v->word[id]);
    }
    if (rc) vocab_free(v);
    return rc;
}

int vocab_write(const avm_vocab *v, const char *path) { return symtab_write(v->word, v->n, path); }

void vocab_free(avm_vocab *v) {
    for (int i = 0; i < v->n; i++) free(v->word[i]);
    free(v->word);
    free(v->slot);
    memset(v, 0, sizeof *v);
}

uint32_t vocab_crc(const avm_vocab *v) { return symtab_crc(v->word, v->n); }

int vocab_encode(const avm_vocab *v, const char *line, int max_len, int32_t *ids, avm_text_counts *c) {
    char **t;
    int m = vocab_split(line, &t), n = 0;
    ids[n++] = AVM_TEXT_CLS;
    long unk = 0;
    for (int k = 0; k < m && n < max_len; k++) {
        int id = vocab_id(v, t[k]);
        unk += id < 0;
        ids[n++] = id < 0 ? AVM_TEXT_UNK : id;
    }
    if (c) {
        c->words += n - 1;
        c->unk += unk;
        c->sentences++;
        c->cut += m > n - 1;
    }
    vocab_free_split(t, m);
    return n;
}

char *vocab_decode(const avm_vocab *v, const int32_t *ids, int n) {
    avm_strbuf b = {0};
    sb_add(&b, "");
    for (int i = 0; i < n; i++) {
        if (ids[i] == AVM_TEXT_CLS || ids[i] == AVM_TEXT_PAD || ids[i] < 0 || ids[i] >= v->n) continue;
        if (b.len) sb_add(&b, " ");
        sb_add(&b, v->word[ids[i]]);
    }
    return b.s;
}
