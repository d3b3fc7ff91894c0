/* Options: the command line and --config files into a list of key/value pairs, then every
 * pair through the command's table (opts.h) into its struct. */
#include "common/opts.h"
#include "common/log.h"
#include "common/util.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int n);   /* from libopenblas; avoids including cblas here */

/* val NULL: given without '=' (a flag) */
static void set(avm_opts *o, const char *key, size_t klen, const char *val) {
    o->seq++;
    for (int i = 0; i < o->n; i++)
        if (strlen(o->v[i].key) == klen && !strncmp(o->v[i].key, key, klen)) {
            free(o->v[i].val);
            o->v[i].val = val ? xstrdup(val) : NULL;
            o->v[i].seq = o->seq;
            return;
        }
    if (o->n == o->cap) o->v = xrealloc(o->v, (o->cap = o->cap ? 2 * o->cap : 16) * sizeof *o->v);
    o->v[o->n].key = strndup(key, klen);
    o->v[o->n].val = val ? xstrdup(val) : NULL;
    o->v[o->n].seq = o->seq;
    o->n++;
}

/* "key=value" or "flag" (without the leading dashes) */
static int set_arg(avm_opts *o, const char *s) {
    const char *eq = strchr(s, '=');
    size_t klen = eq ? (size_t)(eq - s) : strlen(s);
    if (klen == 0) return -1;
    for (size_t i = 0; i < klen; i++)
        if (!(s[i] == '-' || s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))) return -1;
    set(o, s, klen, eq ? eq + 1 : NULL);
    return 0;
}

int opts_read_config(avm_opts *o, const char *path) {
    avm_lines r;
    if (lines_open(&r, path)) return -1;
    char *line;
    int rc = 0;
    while (!rc && (line = lines_next(&r))) {
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char *s = line, *e = line + strlen(line);
        while (*s == ' ' || *s == '\t') s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
        if (!*s) continue;
        if (s[0] == '-' && s[1] == '-') s += 2;
        if (!strncmp(s, "config=", 7)) rc = avm_fail("%s:%d: nested --config is not supported", path, r.lineno);
        else if (set_arg(o, s)) rc = avm_fail("%s:%d: malformed option '%s'", path, r.lineno, line);
    }
    if (lines_close(&r) && !rc) rc = -1;
    return rc;
}

/* The row called (or aliased) name, or NULL. */
static const avm_optdef *row_of(const avm_optspec *s, const char *name) {
    for (const avm_optdef *r = s->opt; r->type != OPT_END; r++)
        if (r->type != OPT_TEXT && (!strcmp(r->name, name) || (r->alias && !strcmp(r->alias, name)))) return r;
    return NULL;
}

/* Index of the word s[0..len) among "a|b|c", or -1. */
static int value_index(const char *values, const char *s, size_t len) {
    const char *p = values;
    for (int i = 0;; i++) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == len && !strncmp(p, s, len)) return i;
        if (!e) return -1;
        p = e + 1;
    }
}

/* "a, b or c" for "a|b|c" (into buf). */
static const char *values_text(const char *values, char *buf, size_t cap) {
    const char *last = strrchr(values, '|');
    size_t k = 0;
    for (const char *p = values; *p && k + 5 < cap; p++) {
        if (*p != '|') { buf[k++] = *p; continue; }
        const char *sep = p == last ? " or " : ", ";
        while (*sep && k + 1 < cap) buf[k++] = *sep++;
    }
    buf[k] = 0;
    return buf;
}

static int parse_bool(const char *v) {
    if (!v || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) return 1;
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) return 0;
    return -1;
}

static void put(const avm_opts *o, const avm_optdef *r, void *dst, const void *v, size_t n) {
    if (!r->size) return;
    if (r->size != n)
        avm_die("%s: option table: the field of --%s has %zu bytes, its type stores %zu", o->cmd, r->name, r->size, n);
    memcpy((char *)dst + r->off, v, n);
}

/* INT: into an int or a 64-bit field, by its size. */
static void put_int(const avm_opts *o, const avm_optdef *r, void *dst, const char *key, const char *val, long v) {
    if (r->size == sizeof(int)) {
        if (v < INT_MIN || v > INT_MAX) avm_die("%s: --%s=%s is out of range [%d, %d]", o->cmd, key, val, INT_MIN, INT_MAX);
        int i = (int)v;
        put(o, r, dst, &i, sizeof i);
    } else {
        int64_t l = v;
        put(o, r, dst, &l, sizeof l);
    }
}

static void parse_int(const avm_opts *o, const avm_optdef *r, void *dst, const char *key, const char *val) {
    long v = LONG_MAX;
    if (!r->values || strcmp(val, r->values)) {
        char *end;
        errno = 0;
        v = strtol(val, &end, 10);
        if (errno || end == val || *end)
            avm_die("%s: --%s=%s is not an integer%s%s", o->cmd, key, val, r->values ? " or " : "",
                    r->values ? r->values : "");
        if ((r->lo || r->hi) && (v < r->lo || v > r->hi))
            avm_die("%s: --%s=%s is out of range [%ld, %ld]", o->cmd, key, val, r->lo, r->hi);
    }
    put_int(o, r, dst, key, val, v);
}

static void parse_num(const avm_opts *o, const avm_optdef *r, void *dst, const char *key, const char *val) {
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end || !isfinite(v)) avm_die("%s: --%s=%s is not a number", o->cmd, key, val);
    int lo_open = r->flags & OPT_MIN_OPEN, hi_open = r->flags & OPT_MAX_OPEN;
    int below = lo_open ? v <= r->min : v < r->min, above = hi_open ? v >= r->max : v > r->max;
    if ((r->min || r->max) && (below || above))
        avm_die("%s: --%s=%s is out of range %c%g, %g%c", o->cmd, key, val, lo_open ? '(' : '[', r->min, r->max,
                hi_open ? ')' : ']');
    if (r->size == sizeof(float)) {
        float f = (float)v;
        put(o, r, dst, &f, sizeof f);
    } else {
        put(o, r, dst, &v, sizeof v);
    }
}

/* LIST: comma-separated, no empty item, each among r->values if it names any. */
static void check_list(const avm_opts *o, const avm_optdef *r, const char *key, const char *val) {
    char buf[256];
    for (const char *p = val;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!n) avm_die("%s: --%s=%s has an empty item", o->cmd, key, val);
        if (r->values && value_index(r->values, p, n) < 0)
            avm_die("%s: --%s: '%.*s' is not one of %s", o->cmd, key, (int)n, p, values_text(r->values, buf, sizeof buf));
        if (!e) return;
        p = e + 1;
    }
}

/* One value (given as --key=val, or the row's default) into dst. */
static void parse_value(const avm_opts *o, const avm_optdef *r, void *dst, const char *key, const char *val) {
    char buf[256];
    if (!val && r->type != OPT_FLAG) avm_die("%s: --%s needs a value (--%s=...; see --help)", o->cmd, key, key);
    switch (r->type) {
    case OPT_FLAG: {
        int b = parse_bool(val);
        if (b < 0) avm_die("%s: --%s=%s is not a boolean (use true or false)", o->cmd, key, val);
        put(o, r, dst, &b, sizeof b);
        break;
    }
    case OPT_INT: parse_int(o, r, dst, key, val); break;
    case OPT_NUM: parse_num(o, r, dst, key, val); break;
    case OPT_ENUM: {
        if (!r->values) avm_die("%s: option table: --%s lists no values", o->cmd, r->name);
        int i = value_index(r->values, val, strlen(val));
        if (i < 0) avm_die("%s: --%s=%s: expected %s", o->cmd, key, val, values_text(r->values, buf, sizeof buf));
        if (r->size == sizeof(int)) put(o, r, dst, &i, sizeof i);
        else put(o, r, dst, &val, sizeof val);
        break;
    }
    case OPT_LIST: check_list(o, r, key, val); /* fall through */
    case OPT_STR: put(o, r, dst, &val, sizeof val); break;
    default: avm_die("%s: option table: --%s has no type", o->cmd, r->name);
    }
}

/* The latest-set value given for row r (NULL: not given); *given says whether it was. */
static const char *given_value(const avm_opts *o, const avm_optdef *r, int *given) {
    const avm_opt *best = NULL;
    for (int i = 0; i < o->n; i++)
        if (row_of(o->spec, o->v[i].key) == r && (!best || o->v[i].seq > best->seq)) best = &o->v[i];
    *given = best != NULL;
    return best ? best->val : NULL;
}

/* Name of mode i of "a|b|c" into buf. */
static const char *mode_name(const char *modes, int i, char *buf, size_t cap) {
    const char *p = modes;
    while (i-- > 0 && p) p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL;
    if (!p) return NULL;
    size_t n = strcspn(p, "|");
    snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
    return buf;
}

/* Mode i > 0 is on when its flag is given true; at most one. */
static void choose_mode(avm_opts *o) {
    char a[64], b[64];
    const char *m;
    for (int i = 1; o->spec->modes && (m = mode_name(o->spec->modes, i, a, sizeof a)); i++) {
        const avm_optdef *r = row_of(o->spec, m);
        if (!r || r->type != OPT_FLAG) avm_die("%s: option table: mode %s has no flag --%s", o->cmd, m, m);
        int given;
        const char *v = given_value(o, r, &given);
        if (!given || parse_bool(v) != 1) continue;
        if (o->mode) avm_die("%s: --%s and --%s exclude each other", o->cmd, mode_name(o->spec->modes, o->mode, b, sizeof b), m);
        o->mode = i;
    }
}

/* "--apply or --merge" (the flags of the modes in mask), or the name of mode 0. */
static void mode_list(const avm_optspec *s, unsigned mask, char *buf, size_t cap) {
    char name[64];
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < 32 && mode_name(s->modes, i, name, sizeof name); i++)
        if (mask & (1u << i))
            k += snprintf(buf + k, k < cap ? cap - k : 0, "%s%s%s", k ? " or " : "", i ? "--" : "", name);
}

/* Given options must apply in the mode; required ones of the mode must be given. */
static void check_mode(const avm_opts *o) {
    char b[64], list[256];
    unsigned bit = 1u << o->mode;
    for (int i = 0; i < o->n; i++) {
        const avm_optdef *r = row_of(o->spec, o->v[i].key);
        if (!r->modes || (r->modes & bit)) continue;
        if (o->mode) avm_die("%s: --%s does not go with --%s", o->cmd, o->v[i].key, mode_name(o->spec->modes, o->mode, b, sizeof b));
        mode_list(o->spec, r->modes, list, sizeof list);
        avm_die("%s: --%s needs %s", o->cmd, o->v[i].key, list);
    }
    for (const avm_optdef *r = o->spec->opt; r->type != OPT_END; r++) {
        if (!(r->flags & OPT_REQ) || (r->modes && !(r->modes & bit))) continue;
        int given;
        const char *v = given_value(o, r, &given);
        if (!given || (v && !v[0])) avm_die("%s: --%s is required (see --help)", o->cmd, r->name);
    }
}

static void scan_args(avm_opts *o, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            opts_help(stdout, o->spec);
            exit(0);
        }
        if (a[0] == '-' && a[1] == '-') {
            if (!strncmp(a + 2, "config=", 7)) {
                if (opts_read_config(o, a + 9)) avm_die("%s: %s", o->cmd, avm_error());
            } else if (set_arg(o, a + 2)) {
                avm_die("%s: malformed option '%s'", o->cmd, a);
            }
        } else if (a[0] == '-' && a[1]) {
            avm_die("%s: unknown option '%s' (options are --key=value; see --help)", o->cmd, a);
        } else {
            o->pos[o->npos++] = argv[i];
        }
    }
    if (o->npos && !o->spec->args)
        avm_die("%s: unexpected argument '%s' (options are --key=value; see --help)", o->cmd, o->pos[0]);
}

void opts_parse(avm_opts *o, const avm_optspec *spec, void *dst, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->spec = spec;
    o->cmd = spec->cmd;
    o->pos = xcalloc(argc + 1, sizeof *o->pos);
    scan_args(o, argc, argv);
    for (const avm_optdef *r = spec->opt; r->type != OPT_END; r++) {
        if (r->type == OPT_TEXT) continue;
        if (r->size) memset((char *)dst + r->off, 0, r->size);
        if (r->def) parse_value(o, r, dst, r->name, r->def);
    }
    for (int seq = 1; seq <= o->seq; seq++)      /* in the order given: later wins */
        for (int i = 0; i < o->n; i++) {
            if (o->v[i].seq != seq) continue;
            const avm_optdef *r = row_of(spec, o->v[i].key);
            if (!r) avm_die("%s: unknown option --%s (see --help)", o->cmd, o->v[i].key);
            parse_value(o, r, dst, o->v[i].key, o->v[i].val);
        }
    const char *check = getenv("AVMASK_OPTS_CHECK");
    if (check && *check) {
        opts_list(stdout, spec);
        exit(0);
    }
    choose_mode(o);
    check_mode(o);
}

void opts_free(avm_opts *o) {
    for (int i = 0; i < o->n; i++) { free(o->v[i].key); free(o->v[i].val); }
    free(o->v);
    free(o->pos);
    memset(o, 0, sizeof *o);
}

static const avm_optdef *named_row(const avm_opts *o, const char *name) {
    const avm_optdef *r = row_of(o->spec, name);
    if (!r || strcmp(r->name, name)) avm_die("%s: option table: no option --%s", o->cmd, name);
    return r;
}

int opts_given(const avm_opts *o, const char *name) {
    int given;
    given_value(o, named_row(o, name), &given);
    return given;
}

const char *opts_get(const avm_opts *o, const char *name) {
    int given;
    const char *v = given_value(o, named_row(o, name), &given);
    return given && !v ? "1" : v;
}

int opts_threads(const avm_opts *o) {
    const char *v = opts_get(o, "threads");   /* checked against the row's range */
    int n = v ? atoi(v) : omp_get_max_threads();
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return n;
}
