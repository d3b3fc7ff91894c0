/* `avmask report`: finding runs (metrics.jsonl) and results (eval.json) under an
 * experiment directory and reading them (see report.h for the convention). */
#include "eval/report.h"
#include "common/log.h"
#include "common/util.h"
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 8

static void series_add(rep_series *s, double x, double y) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->x = xrealloc(s->x, s->cap * sizeof *s->x);
        s->y = xrealloc(s->y, s->cap * sizeof *s->y);
    }
    s->x[s->n] = x; s->y[s->n] = y; s->n++;
}

/* One line of metrics.jsonl: training lines carry "loss", validation lines "valid_loss".
 * A malformed line (e.g. the last one of a run still writing) is counted and skipped. */
static void run_add_line(rep_run *r, const char *line) {
    if (!line[strspn(line, " \t")]) return;
    json_value *v = json_parse(line);
    long long st;
    if (!v || v->type != JSON_OBJ || json_int_range(v, "step", 0, LONG_MAX / 2, JSON_REQUIRED, &st)) {
        r->bad_lines++;
        json_free(v);
        return;
    }
    json_value *step = json_get(v, "step");
    json_value *loss = json_get(v, "loss"), *valid = json_get(v, "valid_loss");
    json_value *lv = json_get(v, "loss_video"), *kind = json_get(v, "kind"), *verr = json_get(v, "valid_err");
    if (verr && verr->type == JSON_NUM) series_add(&r->verr, step->num, verr->num);
    if (loss && loss->type == JSON_NUM) series_add(&r->train, step->num, loss->num);
    if (valid && valid->type == JSON_NUM) {
        series_add(&r->valid, step->num, valid->num);
        r->vstep = (long)st;
        r->va = json_num_or(v, "valid_loss_audio", NAN);
        r->va_novideo = json_num_or(v, "valid_loss_audio_novideo", NAN);
        r->va_shuffled = json_num_or(v, "valid_loss_audio_shuffled", NAN);
    }
    if (lv && lv->type == JSON_NUM && lv->num > 0) r->has_video_loss = 1;
    if (kind && kind->type == JSON_STR && !r->kind) r->kind = xstrdup(kind->str);
    if (st > r->steps) r->steps = (long)st;
    json_free(v);
}

static int run_read(rep_run *r, const char *path) {
    avm_lines l;
    if (lines_open(&l, path)) return -1;
    char *line;
    while ((line = lines_next(&l))) run_add_line(r, line);
    if (lines_close(&l)) return -1;
    if (r->bad_lines) avm_warn("%s: %d malformed lines skipped", path, r->bad_lines);
    return 0;
}

/* exp and sub of a directory given relative to the root ("" = the root itself). */
static void split_rel(const rep_scan *s, const char *rel, char **exp, char **sub) {
    if (!*rel) { *exp = xstrdup(s->root_name); *sub = xstrdup(""); return; }
    const char *slash = strchr(rel, '/');
    *exp = slash ? strndup(rel, slash - rel) : xstrdup(rel);
    *sub = xstrdup(slash ? slash + 1 : "");
}

/* "kind" from the run's config.json (pretrain writes model.modalities there), if any. */
static void run_config_kind(rep_run *r, const char *dir) {
    char *path = path_join(dir, "config.json"), *text = file_exists(path) ? read_file(path, NULL) : NULL;
    json_value *v = text ? json_parse(text) : NULL;
    const char *m = json_str_or(v, "model.modalities", NULL);
    if (m && !r->kind) r->kind = xstrdup(!strcmp(m, "av") ? "audio-visual" : !strcmp(m, "audio") ? "audio-only" : m);
    json_free(v);
    free(text);
    free(path);
}

static int add_run(rep_scan *s, const char *dir, const char *rel) {
    s->runs = xrealloc(s->runs, (s->nruns + 1) * sizeof *s->runs);
    rep_run *r = &s->runs[s->nruns];
    memset(r, 0, sizeof *r);
    r->vstep = -1;
    r->dir = xstrdup(dir);
    split_rel(s, rel, &r->exp, &r->sub);
    s->nruns++;
    char *path = path_join(dir, "metrics.jsonl");
    int rc = run_read(r, path);
    if (!rc && !*r->sub) run_config_kind(r, dir);
    free(path);
    return rc;
}

static int add_result(rep_scan *s, const char *dir, const char *rel) {
    char *path = path_join(dir, "eval.json");
    char *text = read_file(path, NULL);
    if (!text) { free(path); return -1; }
    json_value *j = json_parse(text);
    free(text);
    int tiny = j && j->type == JSON_OBJ && !strcmp(json_str_or(j, "task", ""), "tinys2i");
    if (!j || j->type != JSON_OBJ || (!tiny && !json_get(j, "overall"))) {
        json_free(j);
        avm_warn("%s: not an eval.json of avmask eval, skipped", path);
        free(path);
        return 0;
    }
    s->res = xrealloc(s->res, (s->nres + 1) * sizeof *s->res);
    rep_result *r = &s->res[s->nres++];
    memset(r, 0, sizeof *r);
    r->path = path;
    r->j = j;
    r->intent = tiny ? 2 : !strcmp(json_str_or(j, "task", ""), "intent");
    split_rel(s, rel, &r->exp, &r->sub);
    const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : *rel ? rel : s->root_name;
    r->set = xstrdup(strncmp(base, "decode_", 7) ? base : base + 7);
    return 0;
}

static int walk(rep_scan *s, const char *dir, const char *rel, const char *skip, int depth) {
    DIR *d = opendir(dir);
    if (!d) return avm_fail("%s: cannot read directory: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *path = path_join(dir, e->d_name);
        char *sub = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0) {
            char real[PATH_MAX];
            if (S_ISDIR(st.st_mode) && depth < MAX_DEPTH &&
                !(skip && realpath(path, real) && !strcmp(real, skip)))
                rc = walk(s, path, sub, skip, depth + 1);
            else if (S_ISREG(st.st_mode) && !strcmp(e->d_name, "metrics.jsonl"))
                rc = add_run(s, dir, rel);
            else if (S_ISREG(st.st_mode) && !strcmp(e->d_name, "eval.json"))
                rc = add_result(s, dir, rel);
        }
        free(path);
        free(sub);
    }
    closedir(d);
    return rc;
}

static int cmp_run(const void *a, const void *b) {
    const rep_run *x = a, *y = b;
    int c = strcmp(x->exp, y->exp);
    return c ? c : strcmp(x->sub, y->sub);
}

static int cmp_res(const void *a, const void *b) {
    const rep_result *x = a, *y = b;
    int c = strcmp(x->exp, y->exp);
    return c ? c : strcmp(x->sub, y->sub);
}

/* Is run sub rs an ancestor of (or equal to) result dir sub? */
static int contains(const char *rs, const char *sub) {
    size_t n = strlen(rs);
    return n == 0 || (!strncmp(rs, sub, n) && (sub[n] == 0 || sub[n] == '/'));
}

int report_scan(rep_scan *s, const char *exp_dir, const char *skip_dir) {
    memset(s, 0, sizeof *s);
    if (!dir_exists(exp_dir)) return avm_fail("%s: no such directory", exp_dir);
    char real[PATH_MAX], skip[PATH_MAX];
    if (!realpath(exp_dir, real)) return avm_fail("%s: %s", exp_dir, strerror(errno));
    s->root = xstrdup(exp_dir);
    s->root_name = xstrdup(basename(real));
    int have_skip = skip_dir && realpath(skip_dir, skip);
    if (walk(s, exp_dir, "", have_skip ? skip : NULL, 0)) return -1;
    if (!s->nruns && !s->nres) return avm_fail("%s: no metrics.jsonl or eval.json found", exp_dir);
    if (s->nruns) qsort(s->runs, s->nruns, sizeof *s->runs, cmp_run);   /* qsort(NULL, 0) is UB */
    if (s->nres) qsort(s->res, s->nres, sizeof *s->res, cmp_res);
    for (int i = 0; i < s->nres; i++) {
        rep_result *r = &s->res[i];
        r->run = -1;
        for (int k = 0; k < s->nruns; k++)
            if (!strcmp(s->runs[k].exp, r->exp) && contains(s->runs[k].sub, r->sub) &&
                (r->run < 0 || strlen(s->runs[k].sub) > strlen(s->runs[r->run].sub)))
                r->run = k;
    }
    return 0;
}

void report_scan_free(rep_scan *s) {
    for (int i = 0; i < s->nruns; i++) {
        rep_run *r = &s->runs[i];
        free(r->dir); free(r->exp); free(r->sub); free(r->kind);
        free(r->train.x); free(r->train.y); free(r->valid.x); free(r->valid.y);
        free(r->verr.x); free(r->verr.y);
    }
    for (int i = 0; i < s->nres; i++) {
        rep_result *r = &s->res[i];
        free(r->path); free(r->exp); free(r->sub); free(r->set);
        json_free(r->j);
    }
    free(s->runs); free(s->res); free(s->root); free(s->root_name);
    memset(s, 0, sizeof *s);
}

void report_view(rep_scan *v, const rep_scan *s, int intent) {
    *v = *s;
    v->res = xmalloc(((size_t)s->nres + 1) * sizeof *v->res);
    v->nres = 0;
    for (int i = 0; i < s->nres; i++)
        if (s->res[i].intent == intent) v->res[v->nres++] = s->res[i];
}

void report_view_free(rep_scan *v) {
    free(v->res);
    memset(v, 0, sizeof *v);
}

int report_find_run(const rep_scan *s, const char *exp, const char *sub) {
    for (int i = 0; i < s->nruns; i++)
        if (!strcmp(s->runs[i].exp, exp) && !strcmp(s->runs[i].sub, sub)) return i;
    return -1;
}

const char *report_kind(const rep_scan *s, const char *exp) {
    int k = report_find_run(s, exp, "");
    if (k < 0) return "none";
    if (s->runs[k].kind) return s->runs[k].kind;
    return s->runs[k].has_video_loss ? "audio-visual" : "audio-only";
}

/* ---- condition keys and values over all results ---- */

int report_cond_values(const rep_scan *s, const char *key, const char ***values);

static int has_str(const char **a, int n, const char *s) {
    for (int i = 0; i < n; i++) if (!strcmp(a[i], s)) return 1;
    return 0;
}

/* Is key in the comma-separated list? */
static int in_list(const char *list, const char *key) {
    size_t n = strlen(key);
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, key, n)) return 1;
        if (!p[len]) return 0;
        p += len + 1;
    }
}

int report_cond_keys(const rep_scan *s, const char ***keys) {
    int n = 0;
    *keys = NULL;
    for (int i = 0; i < s->nres; i++) {
        const json_value *c = json_get(s->res[i].j, "conditions");
        if (!c || c->type != JSON_OBJ) continue;
        for (int k = 0; k < c->n; k++) {
            if (has_str(*keys, n, c->keys[k]) || (s->keys && !in_list(s->keys, c->keys[k]))) continue;
            if (!s->keys && s->max_values > 0) {
                const char **vals;
                int nv = report_cond_values(s, c->keys[k], &vals);
                free(vals);
                if (nv > s->max_values) continue;
            }
            *keys = xrealloc(*keys, (n + 1) * sizeof **keys);
            (*keys)[n++] = c->keys[k];
        }
    }
    return n;
}

static int is_number(const char *s) {
    char *end;
    strtod(s, &end);
    return end != s && !*end;
}

/* Numbers in numeric order, then words in alphabetical order, then "<none>": SNRs read
 * 0 5 10 clean. */
static int cmp_value(const void *pa, const void *pb) {
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
    int na = !strcmp(a, "<none>"), nb = !strcmp(b, "<none>");
    if (na || nb) return na - nb;
    int xa = is_number(a), xb = is_number(b);
    if (xa != xb) return xb - xa;
    if (!xa) return strcmp(a, b);
    double x = strtod(a, NULL), y = strtod(b, NULL);
    return (x > y) - (x < y);
}

int report_cond_values(const rep_scan *s, const char *key, const char ***values) {
    int n = 0;
    *values = NULL;
    for (int i = 0; i < s->nres; i++) {
        const json_value *c = json_path(s->res[i].j, "conditions");
        const json_value *arr = c ? json_get(c, key) : NULL;
        if (!arr || arr->type != JSON_ARR) continue;
        for (int k = 0; k < arr->n; k++) {
            const char *v = json_str_or(arr->items[k], "value", NULL);
            if (!v || has_str(*values, n, v)) continue;
            *values = xrealloc(*values, (n + 1) * sizeof **values);
            (*values)[n++] = v;
        }
    }
    qsort(*values, n, sizeof **values, cmp_value);
    return n;
}

char *report_model_name(const rep_scan *s, const rep_result *r) {
    (void)s;
    /* The directory that holds the decode dir, not the run it belongs to: a probe decoded
     * into <exp>/probe/decode_<set> (its runs are <exp>/probe/lr<v>) is "<exp>/probe", not
     * the pretraining run <exp>. */
    const char *slash = strrchr(r->sub, '/');
    return slash ? xasprintf("%s/%.*s", r->exp, (int)(slash - r->sub), r->sub) : xstrdup(r->exp);
}

const json_value *report_cond(const rep_result *r, const char *key, const char *value) {
    const json_value *c = json_get(r->j, "conditions");
    const json_value *arr = c ? json_get(c, key) : NULL;
    if (!arr || arr->type != JSON_ARR) return NULL;
    for (int k = 0; k < arr->n; k++) {
        const char *v = json_str_or(arr->items[k], "value", NULL);
        if (v && !strcmp(v, value)) return arr->items[k];
    }
    return NULL;
}

/* Distinct test sets, easiest first (lowest mean %ERR over the models that decoded it). */
int report_test_sets(const rep_scan *s, const char ***sets) {
    int n = 0;
    double *mean = xcalloc(s->nres + 1, sizeof *mean);
    *sets = xmalloc((s->nres + 1) * sizeof **sets);
    for (int i = 0; i < s->nres; i++) {
        int k = 0, cnt = 0;
        while (k < n && strcmp((*sets)[k], s->res[i].set)) k++;
        if (k < n) continue;
        (*sets)[n] = s->res[i].set;
        for (int j = i; j < s->nres; j++) {
            const json_value *o = json_get(s->res[j].j, "overall");
            if (!strcmp(s->res[j].set, s->res[i].set) && o) { mean[n] += json_num_or(o, "err", 0); cnt++; }
        }
        mean[n++] /= cnt ? cnt : 1;
    }
    for (int i = 1; i < n; i++)   /* few sets: insertion sort */
        for (int k = i; k > 0 && mean[k - 1] > mean[k]; k--) {
            double t = mean[k]; mean[k] = mean[k - 1]; mean[k - 1] = t;
            const char *u = (*sets)[k]; (*sets)[k] = (*sets)[k - 1]; (*sets)[k - 1] = u;
        }
    free(mean);
    return n;
}
