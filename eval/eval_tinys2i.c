/* avmask eval --unit=tinys2i: decode's TinyS2I decisions (eval/decode_tinys2i.c) against a
 * data dir's intents and titles (see eval/eval_tinys2i.h). */
#include "eval/eval_tinys2i.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/datadir.h"
#include "data/slu.h"
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

/* Counts over the reference utterances. */
typedef struct {
    long n, dec_ok, ncmd, cmd_ok, nother, deferred, defer_ok, ntitle, title_ok, ranked, rank_ok, nohyp, extra;
} ts_counts;

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

static void score(ts_counts *c, const avm_kv *ref, const avm_kv *slots, const avm_kv *hyp, const avm_kv *rank,
                  const avm_intents *in, const char *refp, const char *hypp) {
    for (int i = 0; i < ref->n; i++) {
        int cls = class_of(in, refp, ref->vals[i]);
        if (cls < 0) avm_die("eval: %s:%d: %s", refp, i + 1, avm_error());
        const char *h = kv_get(hyp, ref->keys[i]), *sl = kv_get(slots, ref->keys[i]);
        const char *arg = h && strchr(h, ' ') ? strchr(h, ' ') + 1 : NULL;
        int dec = !h ? -1 : !strncmp(h, "command ", 8) ? 0 : !strncmp(h, "play ", 5) ? 1 : !strcmp(h, "defer") ? 2 : -2;
        if (dec == -2) avm_die("eval: %s: utterance %s: '%s' is not 'command <intent>', 'play <title>' or 'defer'", hypp,
                               ref->keys[i], h);
        c->n++;
        c->nohyp += dec < 0;
        c->dec_ok += dec == cls;
        c->deferred += dec == 2;
        if (cls == 0) { c->ncmd++; c->cmd_ok += dec == 0 && !strcmp(arg, ref->vals[i]); }
        if (cls == 2) { c->nother++; c->defer_ok += dec == 2; }
        if (cls != 1) continue;
        c->ntitle++;
        c->title_ok += dec == 1 && same_title(sl, arg);
        const char *r = rank ? kv_get(rank, ref->keys[i]) : NULL;
        c->ranked += r != NULL;
        c->rank_ok += same_title(sl, r);
    }
    for (int i = 0; i < hyp->n; i++) c->extra += !kv_get(ref, hyp->keys[i]);
}

static double pct(long a, long b) { return b ? 100.0 * a / b : 0; }

static void text(avm_strbuf *t, const ts_counts *c, const char *refp, const char *hypp, const json_value *dj) {
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
    if (c->extra) sb_printf(t, "%ld hypotheses without reference (not scored)\n", c->extra);
    if (!dj) return;
    sb_printf(t, "decoder      %s\n", json_str_or(dj, "decoder", "tinys2i"));
    sb_printf(t, "menu         %s\n", json_str_or(dj, "menu", "?"));
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

/* decode.json's figures (NULL: none). */
static void decode_json(avm_jw *w, const json_value *dj) {
    jw_key(w, "decode");
    if (!dj) { jw_null(w); return; }
    jw_obj_begin(w);
    jw_key(w, "decoder"); jw_str(w, json_str_or(dj, "decoder", "tinys2i"));
    jw_key(w, "menu"); jw_str(w, json_str_or(dj, "menu", ""));
    jw_key(w, "ms_per_utterance"); jw_num(w, json_num_or(dj, "ms_per_utterance", 0));
    jw_key(w, "threads"); jw_int(w, (long long)json_num_or(dj, "threads", 0));
    jw_key(w, "system"); jw_str(w, json_str_or(dj, "system", ""));
    jw_key(w, "parameters"); jw_int(w, (long long)json_num_or(dj, "parameters.total", 0));
    jw_key(w, "parameter_bytes"); jw_int(w, (long long)json_num_or(dj, "parameter_bytes", 0));
    jw_key(w, "file_bytes"); jw_int(w, (long long)json_num_or(dj, "file_bytes", 0));
    jw_obj_end(w);
}

static void json(avm_strbuf *b, const ts_counts *c, const char *refp, const char *hypp, const json_value *dj) {
    avm_jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    jw_key(&w, "task"); jw_str(&w, "tinys2i");
    jw_key(&w, "ref"); jw_str(&w, refp);
    jw_key(&w, "hyp"); jw_str(&w, hypp);
    jw_key(&w, "utterances"); jw_int(&w, c->n);
    jw_key(&w, "without_hypothesis"); jw_int(&w, c->nohyp);
    acc(&w, "decision", c->dec_ok, c->n);
    acc(&w, "command", c->cmd_ok, c->ncmd);
    jw_key(&w, "defer"); jw_obj_begin(&w);
    jw_key(&w, "other"); jw_int(&w, c->nother);
    jw_key(&w, "deferred"); jw_int(&w, c->deferred);
    jw_key(&w, "correct"); jw_int(&w, c->defer_ok);
    jw_key(&w, "precision"); jw_num(&w, pct(c->defer_ok, c->deferred));
    jw_key(&w, "recall"); jw_num(&w, pct(c->defer_ok, c->nother));
    jw_obj_end(&w);
    acc(&w, "title", c->title_ok, c->ntitle);
    acc(&w, "title_match", c->rank_ok, c->ntitle);
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

int eval_tinys2i(const char *refp, const char *hypp, const char *intents, const char *out) {
    avm_intents in;
    avm_kv ref, slots, hyp, rank;
    if (!intents) avm_die("eval: --unit=tinys2i needs --intents=FILE (the classes of the intents)");
    char *sp = beside(refp, "slots"), *rp = beside(hypp, "title_rank"), *dp = beside(hypp, "decode.json");
    if (intents_read(&in, intents) || kv_read(&ref, refp, 0) || kv_read(&slots, sp, 0) || kv_read(&hyp, hypp, 0))
        avm_die("eval: %s", avm_error());
    int have_rank = file_exists(rp);
    if (have_rank && kv_read(&rank, rp, 0)) avm_die("eval: %s", avm_error());
    char *dtext = file_exists(dp) ? read_file(dp, NULL) : NULL;
    json_value *dj = dtext ? json_parse(dtext) : NULL;
    if (dtext && !dj) avm_die("eval: %s: not JSON", dp);
    ts_counts c = {0};
    score(&c, &ref, &slots, &hyp, have_rank ? &rank : NULL, &in, refp, hypp);
    avm_strbuf t = {0}, j = {0};
    text(&t, &c, refp, hypp, dj);
    json(&j, &c, refp, hypp, dj);
    char *jp = out ? xstrdup(out) : beside(hypp, "eval.json");
    char *tp = xasprintf("%.*s.txt", (int)(strlen(jp) > 5 && !strcmp(jp + strlen(jp) - 5, ".json") ? strlen(jp) - 5
                                                                                                    : strlen(jp)), jp);
    if (write_file_atomic(jp, j.s, j.len) || write_file_atomic(tp, t.s, t.len)) avm_die("eval: %s", avm_error());
    fputs(t.s, stdout);
    sb_free(&t); sb_free(&j);
    free(sp); free(rp); free(dp); free(jp); free(tp); free(dtext);
    json_free(dj);
    kv_free(&ref); kv_free(&slots); kv_free(&hyp);
    if (have_rank) kv_free(&rank);
    intents_free(&in);
    return 0;
}
