#include "common/json.h"
#include "common/util.h"
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

void jw_init(avm_jw *w, avm_strbuf *b) {
    memset(w, 0, sizeof *w);
    w->b = b;
}

/* Called before every value or key: a comma unless first in its container. */
static void sep(avm_jw *w) {
    if (w->need_comma[w->depth]) sb_add(w->b, ",");
    w->need_comma[w->depth] = 1;
}

static void open_(avm_jw *w, const char *c) {
    sep(w);
    sb_add(w->b, c);
    if (w->depth < 31) w->depth++;
    w->need_comma[w->depth] = 0;
}

static void close_(avm_jw *w, const char *c) {
    sb_add(w->b, c);
    if (w->depth > 0) w->depth--;
}

void jw_obj_begin(avm_jw *w) { open_(w, "{"); }
void jw_obj_end(avm_jw *w) { close_(w, "}"); }
void jw_arr_begin(avm_jw *w) { open_(w, "["); }
void jw_arr_end(avm_jw *w) { close_(w, "]"); }

static void put_str(avm_strbuf *b, const char *s) {
    sb_add(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { char e[3] = {'\\', (char)c, 0}; sb_add(b, e); }
        else if (c == '\n') sb_add(b, "\\n");
        else if (c == '\t') sb_add(b, "\\t");
        else if (c < 0x20) sb_printf(b, "\\u%04x", c);
        else sb_addn(b, (const char *)&c, 1);
    }
    sb_add(b, "\"");
}

void jw_key(avm_jw *w, const char *k) {
    sep(w);
    put_str(w->b, k);
    sb_add(w->b, ":");
    w->need_comma[w->depth] = 0;   /* the value follows without a comma */
}

static void after_value(avm_jw *w) { w->need_comma[w->depth] = 1; }
void jw_str(avm_jw *w, const char *s) { sep(w); put_str(w->b, s); after_value(w); }
void jw_num(avm_jw *w, double v) {
    sep(w);
    if (isfinite(v)) sb_printf(w->b, "%.9g", v); else sb_add(w->b, "null");
    after_value(w);
}
void jw_int(avm_jw *w, long long v) { sep(w); sb_printf(w->b, "%lld", v); after_value(w); }
void jw_bool(avm_jw *w, int v) { sep(w); sb_add(w->b, v ? "true" : "false"); after_value(w); }
void jw_null(avm_jw *w) { sep(w); sb_add(w->b, "null"); after_value(w); }

/* ---- reader ---- */

typedef struct { const char *s, *p; int err; } parser;

static void ws(parser *ps) { while (isspace((unsigned char)*ps->p)) ps->p++; }

static json_value *fail(parser *ps, const char *what) {
    if (!ps->err) avm_fail("offset %ld: %s", (long)(ps->p - ps->s), what);
    ps->err = 1;
    return NULL;
}

static json_value *value(parser *ps, int depth);

/* Four hex digits after "\u"; -1 if they are not. */
static int hex4(parser *ps, unsigned *cp) {
    *cp = 0;
    for (int i = 0; i < 4; i++) {
        char h = *ps->p;
        if (!isxdigit((unsigned char)h)) return -1;
        ps->p++;
        *cp = *cp * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
    }
    return 0;
}

/* A \u escape (after the 'u') as UTF-8 into b: a surrogate pair becomes one 4-byte
 * character; a lone surrogate (not a character) and \u0000 (a NUL would cut the C
 * string) are refused. */
static int unicode_escape(parser *ps, avm_strbuf *b) {
    unsigned cp, lo;
    if (hex4(ps, &cp)) return fail(ps, "bad \\u escape"), -1;
    if (cp == 0) return fail(ps, "\\u0000 in a string (NUL bytes are not supported)"), -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(ps, "unpaired surrogate in a \\u escape"), -1;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (ps->p[0] != '\\' || ps->p[1] != 'u') return fail(ps, "unpaired surrogate in a \\u escape"), -1;
        ps->p += 2;
        if (hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) return fail(ps, "unpaired surrogate in a \\u escape"), -1;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    char u[4];
    int n = 0;
    if (cp < 0x80) u[n++] = (char)cp;
    else if (cp < 0x800) { u[n++] = (char)(0xC0 | cp >> 6); u[n++] = (char)(0x80 | (cp & 63)); }
    else if (cp < 0x10000) {
        u[n++] = (char)(0xE0 | cp >> 12); u[n++] = (char)(0x80 | (cp >> 6 & 63)); u[n++] = (char)(0x80 | (cp & 63));
    } else {
        u[n++] = (char)(0xF0 | cp >> 18); u[n++] = (char)(0x80 | (cp >> 12 & 63));
        u[n++] = (char)(0x80 | (cp >> 6 & 63)); u[n++] = (char)(0x80 | (cp & 63));
    }
    sb_addn(b, u, (size_t)n);
    return 0;
}

static char *string(parser *ps) {
    if (*ps->p != '"') { fail(ps, "expected a string"); return NULL; }
    ps->p++;
    avm_strbuf b = {0};
    sb_add(&b, "");
    while (*ps->p && *ps->p != '"') {
        char c = *ps->p++;
        if ((unsigned char)c < 0x20) { sb_free(&b); fail(ps, "control character in a string (JSON needs \\u escapes)"); return NULL; }
        if (c != '\\') { sb_addn(&b, &c, 1); continue; }
        c = *ps->p++;
        switch (c) {
        case 'n': sb_add(&b, "\n"); break;
        case 't': sb_add(&b, "\t"); break;
        case 'r': sb_add(&b, "\r"); break;
        case 'b': sb_add(&b, "\b"); break;
        case 'f': sb_add(&b, "\f"); break;
        case 'u':
            if (unicode_escape(ps, &b)) { sb_free(&b); return NULL; }
            break;
        case '"': case '\\': case '/': sb_addn(&b, &c, 1); break;
        default: sb_free(&b); fail(ps, "bad escape"); return NULL;
        }
    }
    if (*ps->p != '"') { sb_free(&b); fail(ps, "unterminated string"); return NULL; }
    ps->p++;
    return b.s;
}

static json_value *node(json_type t) {
    json_value *v = xcalloc(1, sizeof *v);
    v->type = t;
    return v;
}

static void push(json_value *v, char *key, json_value *item) {
    v->items = xrealloc(v->items, (size_t)(v->n + 1) * sizeof *v->items);
    if (v->type == JSON_OBJ) {
        v->keys = xrealloc(v->keys, (size_t)(v->n + 1) * sizeof *v->keys);
        v->keys[v->n] = key;
    }
    v->items[v->n++] = item;
}

static json_value *container(parser *ps, int depth, int obj) {
    json_value *v = node(obj ? JSON_OBJ : JSON_ARR);
    ps->p++;
    ws(ps);
    if (*ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
    for (;;) {
        char *key = NULL;
        ws(ps);
        if (obj) {
            if (!(key = string(ps))) break;
            ws(ps);
            if (*ps->p != ':') { free(key); fail(ps, "expected ':'"); break; }
            ps->p++;
        }
        json_value *item = value(ps, depth + 1);
        if (!item) { free(key); break; }
        push(v, key, item);
        ws(ps);
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
        fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    json_free(v);
    return NULL;
}

/* Length of the JSON number at s (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), 0 if
 * there is none: strtod alone would also take hex, nan, inf, '+1' and '.5'. */
static size_t number_len(const char *s) {
    const char *p = s;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (isdigit((unsigned char)*p)) while (isdigit((unsigned char)*p)) p++;
    else return 0;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        if (*++p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    return (size_t)(p - s);
}

static json_value *number(parser *ps) {
    size_t n = number_len(ps->p);
    if (!n) return fail(ps, "unexpected character (not a JSON value)");
    if (isalnum((unsigned char)ps->p[n]) || ps->p[n] == '.') return fail(ps, "malformed number");
    char *end;
    double d = strtod(ps->p, &end);
    if (end != ps->p + n) return fail(ps, "malformed number");
    if (!isfinite(d)) return fail(ps, "number out of range");
    ps->p += n;
    json_value *v = node(JSON_NUM);
    v->num = d;
    return v;
}

static json_value *value(parser *ps, int depth) {
    if (depth > 64) return fail(ps, "nested too deeply");
    ws(ps);
    char c = *ps->p;
    if (c == '{' || c == '[') return container(ps, depth, c == '{');
    if (c == '"') {
        char *s = string(ps);
        if (!s) return NULL;
        json_value *v = node(JSON_STR);
        v->str = s;
        return v;
    }
    if (!strncmp(ps->p, "true", 4)) { ps->p += 4; json_value *v = node(JSON_BOOL); v->num = 1; return v; }
    if (!strncmp(ps->p, "false", 5)) { ps->p += 5; return node(JSON_BOOL); }
    if (!strncmp(ps->p, "null", 4)) { ps->p += 4; return node(JSON_NULL); }
    return number(ps);
}

json_value *json_parse(const char *text) {
    parser ps = {text, text, 0};
    json_value *v = value(&ps, 0);
    if (!v) return NULL;
    ws(&ps);
    if (*ps.p) { json_free(v); fail(&ps, "trailing characters"); return NULL; }
    return v;
}

void json_free(json_value *v) {
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

json_value *json_get(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJ) return NULL;
    for (int i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return obj->items[i];
    return NULL;
}

json_value *json_path(const json_value *v, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_value *cur = (json_value *)v;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && cur; k = strtok_r(NULL, ".", &save))
        cur = json_get(cur, k);
    return cur;
}

double json_num_or(const json_value *obj, const char *path, double def) {
    json_value *v = json_path(obj, path);
    return v && (v->type == JSON_NUM || v->type == JSON_BOOL) ? v->num : def;
}

int json_int_range(const json_value *obj, const char *path, long long lo, long long hi,
                   long long def, long long *out) {
    const json_value *v = json_path(obj, path);
    if (!v) {
        if (def == JSON_REQUIRED) return avm_fail("'%s' missing", path);
        *out = def;
        return 0;
    }
    if (v->type != JSON_NUM) return avm_fail("'%s' is not a number", path);
    /* compare as doubles before converting: out-of-range casts are undefined */
    if (!(v->num >= (double)lo && v->num <= (double)hi) || v->num != floor(v->num))
        return avm_fail("'%s' is %.10g, not an integer in [%lld, %lld]", path, v->num, lo, hi);
    *out = (long long)v->num;
    return 0;
}

const char *json_str_or(const json_value *obj, const char *path, const char *def) {
    json_value *v = json_path(obj, path);
    return v && v->type == JSON_STR ? v->str : def;
}

void jw_value(avm_jw *w, const json_value *v) {
    switch (v->type) {
    case JSON_NULL: jw_null(w); break;
    case JSON_BOOL: jw_bool(w, v->num != 0); break;
    case JSON_NUM: jw_num(w, v->num); break;
    case JSON_STR: jw_str(w, v->str); break;
    case JSON_ARR:
        jw_arr_begin(w);
        for (int i = 0; i < v->n; i++) jw_value(w, v->items[i]);
        jw_arr_end(w);
        break;
    case JSON_OBJ:
        jw_obj_begin(w);
        for (int i = 0; i < v->n; i++) { jw_key(w, v->keys[i]); jw_value(w, v->items[i]); }
        jw_obj_end(w);
        break;
    }
}

/* Naming the first difference of two settings (json.h). */
char *json_text(const json_value *v) {
    if (!v) return xstrdup("absent");
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_value(&w, v);
    return b.s;
}

int json_first_diff(const json_value *a, const json_value *b, const char *name, char *key, size_t cap) {
    char *ta = json_text(a), *tb = json_text(b);
    int differ = strcmp(ta, tb) != 0;
    free(ta); free(tb);
    if (!differ) return 0;
    if (a && b && a->type == JSON_OBJ && b->type == JSON_OBJ) {   /* name the inner key */
        for (int pass = 0; pass < 2; pass++) {
            const json_value *x = pass ? b : a, *y = pass ? a : b;
            for (int i = 0; i < x->n; i++) {
                char sub[128];
                snprintf(sub, sizeof sub, "%s.%s", name, x->keys[i]);
                if (json_first_diff(pass ? json_get(y, x->keys[i]) : x->items[i],
                                    pass ? x->items[i] : json_get(y, x->keys[i]), sub, key, cap))
                    return 1;
            }
        }
    }
    snprintf(key, cap, "%s", name);
    return 1;
}
