/* avmask eval --unit=tinys2i: decode's TinyS2I decisions (eval/decode_tinys2i.c) against a
 * data dir's intents and titles (see eval/eval_tinys2i.h). */
#include "eval/eval_tinys2i.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/datadir.h"
#include "data/slu.h"
#include "eval/eval_conds.h"
#include "eval/utts.h"
#include "train/trans.h"
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

/* Counts over the reference utterances (of one condition value, or all). */
typedef struct {
    long n, dec_ok, ncmd, cmd_ok, nother, deferred, defer_ok, ntitle, title_ok, ranked, rank_ok, nohyp;
} ts_counts;

/* One reference utterance: its class (0 command, 1 title, 2 other), decode's decision (-1:
 * none), whether the command or the title of that decision is right, the menu's top-1
 * title (ranked, rank_ok) and the decision's confidence (decode's OUT/confidence; 2: none). */
typedef struct { int cls, dec, cmd_right, title_right, ranked, rank_ok; double conf; } ts_utt;

static int same_title(const char *slots, const char *title) {
    const char *t;
    size_t n = slots ? slots_title(slots, &t) : 0;
    return n && title && strlen(title) == n && !strncmp(t, title, n);
}

/* The class (0 command, 1 title, 2 other) of an intent; -1 + avm_fail if unknown. */
static int class_of(const avm_intents *in, const char *path, const char *intent) {
    static const char *names[3] = {"command", "title", "other"};
    int k = intents_find(in, intent);
    if (k < 0) return avm_fail("%s: intent '%s' is not in the intent list", path, intent);
    for (int c = 0; c < 3; c++) if (!strcmp(in->cls[k], names[c])) return c;
    return avm_fail("intent '%s' has class '%s', not command, title or other", intent, in->cls[k]);
}

/* Adds u to c as if every command or play decision of confidence below t were deferred. */
static void count(ts_counts *c, const ts_utt *u, double t) {
    int dec = u->dec >= 0 && u->dec < 2 && u->conf < t ? 2 : u->dec;
    c->n++;
    c->nohyp += dec < 0;
    c->dec_ok += dec == u->cls;
    c->deferred += dec == 2;
    if (u->cls == 0) { c->ncmd++; c->cmd_ok += dec == 0 && u->cmd_right; }
    if (u->cls == 2) { c->nother++; c->defer_ok += dec == 2; }
    if (u->cls != 1) return;
    c->ntitle++;
    c->title_ok += dec == 1 && u->title_right;
    c->ranked += u->ranked;
    c->rank_ok += u->rank_ok;
}

/* The outcome of every reference utterance; *extra: hypotheses without reference. */
static ts_utt *outcomes(const avm_kv *ref, const avm_kv *slots, const avm_kv *hyp, const avm_kv *rank,
                        const avm_kv *conf, const avm_intents *in, const char *refp, const char *hypp, long *extra) {
    ts_utt *o = xcalloc((size_t)ref->n + 1, sizeof *o);
    for (int i = 0; i < ref->n; i++) {
        ts_utt *u = &o[i];
        u->cls = class_of(in, refp, ref->vals[i]);
        if (u->cls < 0) avm_die("eval: %s:%d: %s", refp, i + 1, avm_error());
        const char *h = kv_get(hyp, ref->keys[i]), *sl = kv_get(slots, ref->keys[i]);
        const char *arg = h && strchr(h, ' ') ? strchr(h, ' ') + 1 : NULL;
        u->dec = !h ? -1 : !strncmp(h, "command ", 8) ? 0 : !strncmp(h, "play ", 5) ? 1 : !strcmp(h, "defer") ? 2 : -2;
        if (u->dec == -2) avm_die("eval: %s: utterance %s: '%s' is not 'command <intent>', 'play <title>' or 'defer'", hypp,
                                  ref->keys[i], h);
        u->cmd_right = u->dec == 0 && !strcmp(arg, ref->vals[i]);
        u->title_right = u->dec == 1 && same_title(sl, arg);
        const char *r = rank ? kv_get(rank, ref->keys[i]) : NULL;
        u->ranked = r != NULL;
        u->rank_ok = u->cls == 1 && same_title(sl, r);
        const char *cf = conf ? kv_get(conf, ref->keys[i]) : NULL;
        char *end = NULL;
        u->conf = cf ? strtod(cf, &end) : 2;
        if (cf && (end == cf || *end || u->conf < 0 || u->conf > 1))
            avm_die("eval: confidence of %s: '%s' is not a number in [0, 1]", ref->keys[i], cf);
    }
    *extra = 0;
    for (int i = 0; i < hyp->n; i++) *extra += !kv_get(ref, hyp->keys[i]);
    return o;
}

/* The deferral sweep: thresholds 0, 0.1, ..., 0.9 on decode's confidences. */
#define NSWEEP 10
static double sweep_t(int k) { return 0.1 * k; }

/* Per key of the conditions file, the counts of each of its values (sorted as in eval_conds). */
typedef struct { conds c; ts_counts **per; } ts_conds;

static int bucket_index(const cond_key *k, const char *v) {
    for (int i = 0; i < k->nb; i++) if (!strcmp(k->b[i].value, v)) return i;
    return -1;
}

static void by_conditions(ts_conds *tc, const avm_trans *by, const avm_kv *ref, const ts_utt *o, long *no_cond) {
    conds_collect_keys(&tc->c, by);
    int *row = xmalloc(((size_t)ref->n + 1) * sizeof *row);
    for (int i = 0; i < ref->n; i++) row[i] = trans_find(by, ref->keys[i]);
    for (int k = 0; k < tc->c.nk; k++) {   /* the values first, then their order */
        for (int i = 0; i < ref->n; i++) {
            const char *v = row[i] < 0 ? NULL : cond_value(by, &by->u[row[i]], tc->c.k[k].key);
            bucket_get(&tc->c.k[k], v ? v : NONE_VALUE);
        }
        sort_values(&tc->c.k[k]);
    }
    tc->per = xcalloc((size_t)tc->c.nk + 1, sizeof *tc->per);
    for (int k = 0; k < tc->c.nk; k++) {
        cond_key *ck = &tc->c.k[k];
        tc->per[k] = xcalloc((size_t)ck->nb + 1, sizeof **tc->per);
        for (int i = 0; i < ref->n; i++) {
            const char *v = row[i] < 0 ? NULL : cond_value(by, &by->u[row[i]], ck->key);
            count(&tc->per[k][bucket_index(ck, v ? v : NONE_VALUE)], &o[i], 0);
        }
    }
    *no_cond = 0;
    for (int i = 0; i < ref->n; i++) *no_cond += row[i] < 0;
    free(row);
}

static void ts_conds_free(ts_conds *tc) {
    for (int k = 0; k < tc->c.nk; k++) free(tc->per[k]);
    free(tc->per);
    conds_free(&tc->c);
}

static double pct(long a, long b) { return b ? 100.0 * a / b : 0; }

/* What a whole result holds: the counts, per condition value, and the deferral sweep. */
typedef struct {
    ts_counts all, sweep[NSWEEP];
    int have_sweep, best;         /* best: the sweep's threshold of highest decisions accuracy */
    ts_conds tc;
    long extra, no_cond;
} ts_result;

static void table_head(avm_strbuf *t, const char *first) {
    sb_printf(t, "  %-12s %6s %9s %9s %8s %8s %8s %11s\n", first, "utts", "decisions", "commands", "defer P", "defer R",
              "titles", "title match");
}

/* A percentage cell of the given width; "-" when there is nothing to count. */
static void pct_cell(avm_strbuf *t, long a, long b, int width) {
    if (b) sb_printf(t, " %*.2f", width, pct(a, b));
    else sb_printf(t, " %*s", width, "-");
}

static void table_row(avm_strbuf *t, const char *label, const ts_counts *c) {
    sb_printf(t, "  %-12s %6ld", label, c->n);
    pct_cell(t, c->dec_ok, c->n, 9);
    pct_cell(t, c->cmd_ok, c->ncmd, 9);
    pct_cell(t, c->defer_ok, c->deferred, 8);
    pct_cell(t, c->defer_ok, c->nother, 8);
    pct_cell(t, c->title_ok, c->ntitle, 8);
    pct_cell(t, c->rank_ok, c->ntitle, 11);
    sb_add(t, "\n");
}

static void text(avm_strbuf *t, const ts_result *r, const char *refp, const char *hypp, const char *byp,
                 const json_value *dj) {
    const ts_counts *c = &r->all;
    sb_printf(t, "TinyS2I: %s against %s\n", hypp, refp);
    sb_printf(t, "decisions    %%ACC %6.2f [%ld / %ld] (command | play | defer)%s\n", pct(c->dec_ok, c->n), c->dec_ok,
              c->n, c->nohyp ? " (utterances without hypothesis count as wrong)" : "");
    sb_printf(t, "commands     %%ACC %6.2f [%ld / %ld]\n", pct(c->cmd_ok, c->ncmd), c->cmd_ok, c->ncmd);
    sb_printf(t, "deferral     precision %6.2f [%ld / %ld]  recall %6.2f [%ld / %ld]\n", pct(c->defer_ok, c->deferred),
              c->defer_ok, c->deferred, pct(c->defer_ok, c->nother), c->defer_ok, c->nother);
    sb_printf(t, "titles       %%ACC %6.2f [%ld / %ld] (decision play and the right menu title)\n",
              pct(c->title_ok, c->ntitle), c->title_ok, c->ntitle);
    sb_printf(t, "title match  %%ACC %6.2f [%ld / %ld] (top-1 of the menu whatever the decision; %ld ranked)\n",
              pct(c->rank_ok, c->ntitle), c->rank_ok, c->ntitle, c->ranked);
    if (r->extra) sb_printf(t, "%ld hypotheses without reference (not scored)\n", r->extra);
    if (r->no_cond) sb_printf(t, "warning: %ld reference utterances are not in %s, counted as %s\n", r->no_cond, byp, NONE_VALUE);
    for (int k = 0; k < r->tc.c.nk; k++) {
        const cond_key *ck = &r->tc.c.k[k];
        sb_printf(t, "\nby %s (%%):\n", ck->key);
        table_head(t, "value");
        for (int i = 0; i < ck->nb; i++) table_row(t, ck->b[i].value, &r->tc.per[k][i]);
    }
    if (r->have_sweep) {
        sb_printf(t, "\ndeferral sweep (%%; every command or play decision of confidence below the threshold deferred,\n"
                     "on top of decode's own --defer-below):\n");
        table_head(t, "threshold");
        for (int k = 0; k < NSWEEP; k++) {
            char l[16];
            snprintf(l, sizeof l, "%.1f", sweep_t(k));
            table_row(t, l, &r->sweep[k]);
        }
        sb_printf(t, "best threshold %.1f (highest decisions accuracy, the lowest of equals)\n", sweep_t(r->best));
    }
    if (!dj) return;
    sb_printf(t, "\ndecoder      %s\n", json_str_or(dj, "decoder", "tinys2i"));
    sb_printf(t, "menu         %s\n", json_str_or(dj, "menu", "?"));
    if (json_get(dj, "defer_below")) sb_printf(t, "defer below  %g (decode's threshold)\n", json_num_or(dj, "defer_below", 0));
    sb_printf(t, "model        %lld parameters, %lld bytes as float32, %lld bytes in its parameter files\n",
              (long long)json_num_or(dj, "parameters.total", 0), (long long)json_num_or(dj, "parameter_bytes", 0),
              (long long)json_num_or(dj, "file_bytes", 0));
    sb_printf(t, "latency      %.2f ms per utterance (decode, %lld thread(s); %s)\n", json_num_or(dj, "ms_per_utterance", 0),
              (long long)json_num_or(dj, "threads", 0), json_str_or(dj, "system", "?"));
}

static void acc(avm_jw *w, const char *key, long ok, long n) {
    jw_key(w, key); jw_obj_begin(w);
    jw_key(w, "N"); jw_int(w, n);
    jw_key(w, "correct"); jw_int(w, ok);
    jw_key(w, "acc"); jw_num(w, pct(ok, n));
    jw_obj_end(w);
}

/* The figures of c as keys of the open object. */
static void counts_json(avm_jw *w, const ts_counts *c) {
    jw_key(w, "utterances"); jw_int(w, c->n);
    jw_key(w, "without_hypothesis"); jw_int(w, c->nohyp);
    acc(w, "decision", c->dec_ok, c->n);
    acc(w, "command", c->cmd_ok, c->ncmd);
    jw_key(w, "defer"); jw_obj_begin(w);
    jw_key(w, "other"); jw_int(w, c->nother);
    jw_key(w, "deferred"); jw_int(w, c->deferred);
    jw_key(w, "correct"); jw_int(w, c->defer_ok);
    jw_key(w, "precision"); jw_num(w, pct(c->defer_ok, c->deferred));
    jw_key(w, "recall"); jw_num(w, pct(c->defer_ok, c->nother));
    jw_obj_end(w);
    acc(w, "title", c->title_ok, c->ntitle);
    acc(w, "title_match", c->rank_ok, c->ntitle);
}

/* decode.json's figures (NULL: none). */
static void decode_json(avm_jw *w, const json_value *dj) {
    jw_key(w, "decode");
    if (!dj) { jw_null(w); return; }
    jw_obj_begin(w);
    jw_key(w, "decoder"); jw_str(w, json_str_or(dj, "decoder", "tinys2i"));
    jw_key(w, "menu"); jw_str(w, json_str_or(dj, "menu", ""));
    if (json_get(dj, "defer_below")) { jw_key(w, "defer_below"); jw_num(w, json_num_or(dj, "defer_below", 0)); }
    jw_key(w, "ms_per_utterance"); jw_num(w, json_num_or(dj, "ms_per_utterance", 0));
    jw_key(w, "threads"); jw_int(w, (long long)json_num_or(dj, "threads", 0));
    jw_key(w, "system"); jw_str(w, json_str_or(dj, "system", ""));
    jw_key(w, "parameters"); jw_int(w, (long long)json_num_or(dj, "parameters.total", 0));
    jw_key(w, "parameter_bytes"); jw_int(w, (long long)json_num_or(dj, "parameter_bytes", 0));
    jw_key(w, "file_bytes"); jw_int(w, (long long)json_num_or(dj, "file_bytes", 0));
    jw_obj_end(w);
}

static void json(avm_strbuf *b, const ts_result *r, const char *refp, const char *hypp, const char *byp,
                 const json_value *dj) {
    avm_jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    jw_key(&w, "task"); jw_str(&w, "tinys2i");
    jw_key(&w, "ref"); jw_str(&w, refp);
    jw_key(&w, "hyp"); jw_str(&w, hypp);
    jw_key(&w, "by"); if (byp) jw_str(&w, byp); else jw_null(&w);
    counts_json(&w, &r->all);
    jw_key(&w, "conditions"); jw_obj_begin(&w);
    for (int k = 0; k < r->tc.c.nk; k++) {
        const cond_key *ck = &r->tc.c.k[k];
        jw_key(&w, ck->key); jw_arr_begin(&w);
        for (int i = 0; i < ck->nb; i++) {
            jw_obj_begin(&w);
            jw_key(&w, "value"); jw_str(&w, ck->b[i].value);
            counts_json(&w, &r->tc.per[k][i]);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
    }
    jw_obj_end(&w);
    jw_key(&w, "ref_without_conditions"); jw_int(&w, r->no_cond);
    jw_key(&w, "defer_sweep");
    if (!r->have_sweep) jw_null(&w);
    else {
        jw_arr_begin(&w);
        for (int k = 0; k < NSWEEP; k++) {
            jw_obj_begin(&w);
            jw_key(&w, "threshold"); jw_num(&w, sweep_t(k));
            counts_json(&w, &r->sweep[k]);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
    }
    jw_key(&w, "defer_best"); if (r->have_sweep) jw_num(&w, sweep_t(r->best)); else jw_null(&w);
    decode_json(&w, dj);
    jw_obj_end(&w);
    sb_add(b, "\n");
}

/* path with its last component replaced by name. */
static char *beside(const char *path, const char *name) {
    char *copy = xstrdup(path), *p = path_join(dirname(copy), name);
    free(copy);
    return p;
}

/* Reads path into kv if it exists (0: absent). */
static int kv_read_if(avm_kv *kv, const char *path) {
    if (!file_exists(path)) return 0;
    if (kv_read(kv, path, 0)) avm_die("eval: %s", avm_error());
    return 1;
}

int eval_tinys2i(const char *refp, const char *hypp, const char *intents, const char *byp, const char *out) {
    avm_intents in;
    avm_kv ref, slots, hyp, rank, conf;
    avm_trans by;
    if (!intents) avm_die("eval: --unit=tinys2i needs --intents=FILE (the classes of the intents)");
    char *sp = beside(refp, "slots"), *rp = beside(hypp, "title_rank"), *dp = beside(hypp, "decode.json"),
         *cp = beside(hypp, "confidence");
    if (intents_read(&in, intents) || kv_read(&ref, refp, 0) || kv_read(&slots, sp, 0) || kv_read(&hyp, hypp, 0) ||
        (byp && trans_read(&by, byp)))
        avm_die("eval: %s", avm_error());
    int have_rank = kv_read_if(&rank, rp), have_conf = kv_read_if(&conf, cp);
    char *dtext = file_exists(dp) ? read_file(dp, NULL) : NULL;
    json_value *dj = dtext ? json_parse(dtext) : NULL;
    if (dtext && !dj) avm_die("eval: %s: not JSON", dp);
    ts_result r = {0};
    ts_utt *o = outcomes(&ref, &slots, &hyp, have_rank ? &rank : NULL, have_conf ? &conf : NULL, &in, refp, hypp,
                         &r.extra);
    for (int i = 0; i < ref.n; i++) count(&r.all, &o[i], 0);
    if (byp) by_conditions(&r.tc, &by, &ref, o, &r.no_cond);
    r.have_sweep = have_conf;
    for (int k = 0; k < NSWEEP && have_conf; k++) {
        for (int i = 0; i < ref.n; i++) count(&r.sweep[k], &o[i], sweep_t(k));
        if (r.sweep[k].dec_ok > r.sweep[r.best].dec_ok) r.best = k;
    }
    avm_strbuf t = {0}, j = {0};
    text(&t, &r, refp, hypp, byp, dj);
    json(&j, &r, refp, hypp, byp, dj);
    char *jp = out ? xstrdup(out) : beside(hypp, "eval.json");
    char *tp = json_sibling(jp, ".txt");
    if (write_file_atomic(jp, j.s, j.len) || write_file_atomic(tp, t.s, t.len)) avm_die("eval: %s", avm_error());
    fputs(t.s, stdout);
    sb_free(&t); sb_free(&j);
    free(sp); free(rp); free(dp); free(cp); free(jp); free(tp); free(dtext); free(o);
    json_free(dj);
    if (byp) { ts_conds_free(&r.tc); trans_free(&by); }
    kv_free(&ref); kv_free(&slots); kv_free(&hyp);
    if (have_rank) kv_free(&rank);
    if (have_conf) kv_free(&conf);
    intents_free(&in);
    return 0;
}
