/* units.txt vocabularies (see units.h). */
#include "train/units.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/crc32.h"
#include "common/util.h"
#include "train/trans.h"
#include <stdlib.h>
#include <string.h>

int units_kind_parse(const char *s, avm_unit_kind *k) {
    if (!strcmp(s, "char")) *k = UNITS_CHAR;
    else if (!strcmp(s, "phone")) *k = UNITS_PHONE;
    else if (!strcmp(s, "word")) *k = UNITS_WORD;
    else return avm_fail("unknown unit kind '%s' (char, phone or word)", s);
    return 0;
}

const char *units_source(avm_unit_kind k) { return k == UNITS_PHONE ? "phones" : "text"; }

/* Bytes in the UTF-8 character starting at s (1 for a stray continuation byte). */
static int utf8_len(const unsigned char *s) {
    int n = *s < 0x80 ? 1 : (*s >> 5) == 6 ? 2 : (*s >> 4) == 14 ? 3 : (*s >> 3) == 30 ? 4 : 1;
    for (int i = 1; i < n; i++) if ((s[i] & 0xC0) != 0x80) return 1;
    return n;
}

int units_split(avm_unit_kind k, const char *text, char ***syms) {
    size_t len = strlen(text);
    char **out = xmalloc((2 * len + 1) * sizeof *out);
    int n = 0;
    const char *s = text;
    while (*s) {
        if (*s == ' ' || *s == '\t') { s++; continue; }
        if (k == UNITS_CHAR) {
            if (n && s > text && (s[-1] == ' ' || s[-1] == '\t')) out[n++] = xstrdup(UNITS_SPACE_SYM);
            int c = utf8_len((const unsigned char *)s);
            out[n++] = strndup(s, c);
            s += c;
        } else {
            const char *e = s;
            while (*e && *e != ' ' && *e != '\t') e++;
            out[n++] = strndup(s, e - s);
            s = e;
        }
    }
    *syms = out;
    return n;
}

void units_free_split(char **syms, int n) {
    for (int i = 0; i < n; i++) free(syms[i]);
    free(syms);
}

static const avm_units *sort_ctx;
static int by_sym(const void *a, const void *b) {
    return strcmp(sort_ctx->sym[*(const int *)a], sort_ctx->sym[*(const int *)b]);
}

/* Builds the lookup order; fails on a repeated symbol. */
static int units_index(avm_units *u, const char *path) {
    u->order = xmalloc((u->n ? u->n : 1) * sizeof *u->order);
    for (int i = 0; i < u->n; i++) u->order[i] = i;
    sort_ctx = u;
    qsort(u->order, u->n, sizeof *u->order, by_sym);
    for (int i = 1; i < u->n; i++)
        if (!strcmp(u->sym[u->order[i]], u->sym[u->order[i - 1]]))
            return avm_fail("%s: unit '%s' listed twice", path, u->sym[u->order[i]]);
    return 0;
}

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int units_build(avm_units *u, const char *data_dir, avm_unit_kind k) {
    memset(u, 0, sizeof *u);
    char *path = path_join(data_dir, units_source(k));
    avm_trans t;
    if (trans_read(&t, path)) { free(path); return -1; }
    int cap = 64, n = 0;
    char **all = xmalloc(cap * sizeof *all);
    for (int i = 0; i < t.n; i++) {
        char **s;
        int m = units_split(k, t.u[i].text, &s);
        for (int j = 0; j < m; j++) {
            if (n == cap) all = xrealloc(all, (cap *= 2) * sizeof *all);
            all[n++] = s[j];
        }
        free(s);
    }
    trans_free(&t);
    qsort(all, n, sizeof *all, by_str);
    u->sym = xmalloc((n + 2) * sizeof *u->sym);
    u->sym[0] = xstrdup("<blank>");
    u->sym[1] = xstrdup("<unk>");
    u->n = 2;
    for (int i = 0; i < n; i++) {
        int special = !strcmp(all[i], "<blank>") || !strcmp(all[i], "<unk>");
        if (special || (u->n > 2 && !strcmp(all[i], u->sym[u->n - 1]))) free(all[i]);
        else u->sym[u->n++] = all[i];
    }
    free(all);
    int rc = units_index(u, path);
    free(path);
    return rc;
}

int symtab_read(const char *path, const char *what, char ***sym, int *n) {
    *sym = NULL;
    *n = 0;
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    char *line, *f[3];
    int cap = 0, rc = 0;
    while (!rc && (line = lines_next(&r))) {
        if (!utf8_valid(line)) {   /* symbols go into hypotheses and JSON reports, both UTF-8 */
            rc = avm_fail("%s:%d: not valid UTF-8", path, r.lineno);
            break;
        }
        int nf = split_ws(line, f, 3);
        if (nf == 0) continue;
        char *end;
        long id = nf == 2 ? strtol(f[1], &end, 10) : -1;
        if (nf != 2 || *end || id != *n) {
            rc = avm_fail("%s:%d: expected '<%s> %d'", path, r.lineno, what, *n);
            break;
        }
        if (*n == cap) *sym = xrealloc(*sym, (cap = cap ? 2 * cap : 64) * sizeof **sym);
        (*sym)[(*n)++] = xstrdup(f[0]);
    }
    if (lines_close(&r) && !rc) rc = -1;
    if (rc) {
        for (int i = 0; i < *n; i++) free((*sym)[i]);
        free(*sym);
        *sym = NULL;
        *n = 0;
    }
    return rc;
}

/* The text of a symbol table: "<symbol> <id>" lines in id order. */
static void symtab_text(char *const *sym, int n, avm_strbuf *b) {
    for (int i = 0; i < n; i++) sb_printf(b, "%s %d\n", sym[i], i);
}

int symtab_write(char *const *sym, int n, const char *path) {
    avm_strbuf b = {0};
    symtab_text(sym, n, &b);
    int rc = write_file_atomic(path, b.s ? b.s : "", b.len);
    sb_free(&b);
    return rc;
}

uint32_t symtab_crc(char *const *sym, int n) {
    avm_strbuf b = {0};
    symtab_text(sym, n, &b);
    uint32_t c = crc32_update(0, b.s ? b.s : "", b.len);
    sb_free(&b);
    return c;
}

int units_read(avm_units *u, const char *path) {
    memset(u, 0, sizeof *u);
    int rc = symtab_read(path, "unit", &u->sym, &u->n);
    if (!rc && (u->n < 2 || strcmp(u->sym[0], "<blank>") || strcmp(u->sym[1], "<unk>")))
        rc = avm_fail("%s: must start with '<blank> 0' and '<unk> 1'", path);
    if (!rc) rc = units_index(u, path);
    if (rc) units_free(u);
    return rc;
}

int units_write(const avm_units *u, const char *path) { return symtab_write(u->sym, u->n, path); }

uint32_t units_crc(const avm_units *u) { return symtab_crc(u->sym, u->n); }

void units_free(avm_units *u) {
    for (int i = 0; i < u->n; i++) free(u->sym[i]);
    free(u->sym);
    free(u->order);
    memset(u, 0, sizeof *u);
}

int units_id(const avm_units *u, const char *sym) {
    int lo = 0, hi = u->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(u->sym[u->order[mid]], sym);
        if (!c) return u->order[mid];
        if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

int units_encode(const avm_units *u, avm_unit_kind k, const char *utt, const char *text,
                 int strict, int **ids, int *n) {
    char **s;
    int m = units_split(k, text, &s), rc = 0;
    *ids = xmalloc((m ? m : 1) * sizeof **ids);
    for (int i = 0; i < m && !rc; i++) {
        int id = units_id(u, s[i]);
        if (id < 0 && strict) rc = avm_fail("%s: unit '%s' is not in the units", utt, s[i]);
        (*ids)[i] = id < 0 ? UNITS_UNK : id;
    }
    units_free_split(s, m);
    if (rc) { free(*ids); *ids = NULL; m = 0; }
    *n = m;
    return rc;
}

char *units_decode(const avm_units *u, avm_unit_kind k, const int *ids, int n) {
    avm_strbuf b = {0};
    sb_add(&b, "");
    for (int i = 0; i < n; i++) {
        if (ids[i] <= UNITS_BLANK || ids[i] >= u->n) continue;
        const char *s = u->sym[ids[i]];
        if (k == UNITS_CHAR) {
            if (strcmp(s, UNITS_SPACE_SYM)) sb_add(&b, s);
            else if (b.len && b.s[b.len - 1] != ' ') sb_add(&b, " ");
        } else {
            if (b.len) sb_add(&b, " ");
            sb_add(&b, s);
        }
    }
    while (b.len && b.s[b.len - 1] == ' ') b.s[--b.len] = 0;
    return b.s;
}
