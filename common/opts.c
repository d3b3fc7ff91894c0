#include "common/opts.h"
#include "common/util.h"
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void openblas_set_num_threads(int n);   /* from libopenblas; avoids including cblas here */

static void set(avm_opts *o, const char *key, size_t klen, const char *val) {
    for (int i = 0; i < o->n; i++)
        if (strlen(o->v[i].key) == klen && !strncmp(o->v[i].key, key, klen)) {
            free(o->v[i].val);
            o->v[i].val = xstrdup(val);
            return;
        }
    if (o->n == o->cap) o->v = xrealloc(o->v, (o->cap = o->cap ? 2 * o->cap : 16) * sizeof *o->v);
    o->v[o->n].key = strndup(key, klen);
    o->v[o->n].val = xstrdup(val);
    o->v[o->n].used = 0;
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
    set(o, s, klen, eq ? eq + 1 : "1");
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

static void read_config(avm_opts *o, const char *path) {
    if (opts_read_config(o, path)) avm_die("%s: %s", o->cmd, avm_error());
}

void opts_parse(avm_opts *o, const char *cmd, const char *usage, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->pos = xcalloc(argc + 1, sizeof *o->pos);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            exit(0);
        }
        if (a[0] == '-' && a[1] == '-') {
            if (!strncmp(a + 2, "config=", 7)) read_config(o, a + 9);
            else if (set_arg(o, a + 2)) avm_die("%s: malformed option '%s'", cmd, a);
        } else if (a[0] == '-' && a[1]) {
            avm_die("%s: unknown option '%s' (options are --key=value; see --help)", cmd, a);
        } else {
            o->pos[o->npos++] = argv[i];
        }
    }
}

void opts_free(avm_opts *o) {
    for (int i = 0; i < o->n; i++) { free(o->v[i].key); free(o->v[i].val); }
    free(o->v);
    free(o->pos);
    memset(o, 0, sizeof *o);
}

static avm_opt *find(avm_opts *o, const char *key) {
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].key, key)) { o->v[i].used = 1; return &o->v[i]; }
    return NULL;
}

int opt_has(avm_opts *o, const char *key) { return find(o, key) != NULL; }

const char *opt_str(avm_opts *o, const char *key, const char *def) {
    avm_opt *p = find(o, key);
    return p ? p->val : def;
}

const char *opt_req(avm_opts *o, const char *key) {
    avm_opt *p = find(o, key);
    if (!p || !p->val[0]) avm_die("%s: --%s is required (see --help)", o->cmd, key);
    return p->val;
}

long opt_int(avm_opts *o, const char *key, long def) {
    avm_opt *p = find(o, key);
    if (!p) return def;
    char *end;
    errno = 0;
    long v = strtol(p->val, &end, 10);
    if (errno || end == p->val || *end)
        avm_die("%s: --%s=%s is not an integer", o->cmd, key, p->val);
    return v;
}

long opt_int_range(avm_opts *o, const char *key, long def, long lo, long hi) {
    long v = opt_int(o, key, def);
    if (v < lo || v > hi) avm_die("%s: --%s=%ld is out of range [%ld, %ld]", o->cmd, key, v, lo, hi);
    return v;
}

double opt_num(avm_opts *o, const char *key, double def) {
    avm_opt *p = find(o, key);
    if (!p) return def;
    char *end;
    errno = 0;
    double v = strtod(p->val, &end);
    if (errno || end == p->val || *end || !isfinite(v))
        avm_die("%s: --%s=%s is not a number", o->cmd, key, p->val);
    return v;
}

int opt_bool(avm_opts *o, const char *key, int def) {
    avm_opt *p = find(o, key);
    if (!p) return def;
    const char *v = p->val;
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) return 1;
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) return 0;
    avm_die("%s: --%s=%s is not a boolean (use true or false)", o->cmd, key, v);
}

void opts_finish(avm_opts *o) {
    for (int i = 0; i < o->n; i++)
        if (!o->v[i].used) avm_die("%s: unknown option --%s (see --help)", o->cmd, o->v[i].key);
}

int opts_threads(avm_opts *o) {
    int n = (int)opt_int_range(o, "threads", omp_get_max_threads(), 1, 1024);
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return n;
}
