/* avmask eval: error rate of hypotheses against references, overall and per
 * condition value, as text (stdout + eval.txt) and JSON (eval.json, read by report). */
#include "common/json.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "train/edit_distance.h"
#include "train/trans.h"
#include "train/units.h"
#include "eval/eval_conds.h"
#include "eval/eval_frames.h"
#include "eval/eval_intent.h"
#include "eval/eval_tinys2i.h"
#include "eval/utts.h"
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { UNIT_TOKEN, UNIT_CHAR, UNIT_INTENT, UNIT_TINYS2I, UNIT_FRAME };
typedef struct { const char *ref, *hyp, *by, *out, *details, *intents; int unit, list, speech; double token_s; } eval_opts;

#define F(f) OPT_FIELD(eval_opts, f)
static const avm_optdef table[] = {
    {OPT_STR, "ref", F(ref), .meta = "FILE", .flags = OPT_REQ, .help = "reference transcripts"},
    {OPT_STR, "hyp", F(hyp), .meta = "FILE", .flags = OPT_REQ, .help = "hypotheses (decode's DIR/hyp)"},
    {OPT_STR, "by", F(by), .meta = "FILE",
     .help = "conditions, '<utt-id> key=value ...' (e.g. snr=5 voice=x): the error\n"
             "rate is also broken down by every value of every key (default: none)"},
    {OPT_STR, "out", F(out), .meta = "FILE",
     .help = "JSON result (default: eval.json beside --hyp); the text goes to stdout\n"
             "and to the same path with .txt instead of .json, each utterance's\n"
             "S D I N and conditions to .utts.tsv instead of .json"},
    {OPT_ENUM, "unit", F(unit), .def = "token", .values = "token|char|intent|tinys2i|frame",
     .help = "token: blank-separated; char (CER): transcripts are split\n"
             "into UTF-8 characters with one <space> unit between words; intent:\n"
             "one intent per line ('<utt-id> <intent>'): also the accuracy\n"
             "(%ACC = 100 - %ERR) and the confusion matrix; tinys2i: decode's\n"
             "TinyS2I decisions against --ref=DATA/intent and the titles of\n"
             "DATA/slots (eval/README.md \"TinyS2I\"); frame: the frame-level\n"
             "probe's frame error rate, --ref a CTM of phone timings (phones.ctm),\n"
             "--hyp decode's phone per token of a frame model, compared token by\n"
             "token (eval/eval_frames.h)"},
    {OPT_ENUM, "frame-tokens", F(speech), .def = "all", .values = "all|speech",
     .help = "--unit=frame: score every token, or only those whose reference is a\n"
             "phone (not <sil>)"},
    {OPT_NUM, "token-seconds", F(token_s), .def = "0.04", .min = 0, .max = 10, .flags = OPT_MIN_OPEN,
     .help = "--unit=frame: the hypotheses' token length (25 Hz tokens: 0.04)"},
    {OPT_STR, "intents", F(intents), .meta = "FILE",
     .help = "--unit=tinys2i: the intent list with classes (command, title, other)"},
    {OPT_INT, "list", F(list), .def = "5", .lo = 0, .hi = 1000000, .help = "how many utterance ids to name in warnings"},
    {OPT_STR, "details", F(details), .meta = "FILE",
     .help = "per-utterance alignments (REF/HYP/OPS lines, *** for a gap; default: none)"},
    OPT_THREADS("accepted by every command; eval runs on one core"),
    {.type = OPT_END},
};

static const avm_optspec eval_optspec = {
    "eval",
    "usage: avmask eval --ref=FILE --hyp=FILE [--by=FILE] [--out=FILE] [--unit=token|char|intent] [--list=5]\n"
    "Scores '<utt-id> tokens...' hypotheses against references of the same format\n"
    "(e.g. data/test/phones or text) by edit distance: %ERR = 100 (S + D + I) / N.\n"
    "Reference utterances without a hypothesis are scored as all deletions; hypotheses\n"
    "without a reference are reported and counted but not scored. With N = 0 and\n"
    "insertions the rate is undefined (n/a, JSON null).\n",
    table, NULL, NULL,
};

static void fmt_rate(char *buf, size_t n, const avm_errs *e) {
    double r = err_rate(e);
    if (isnan(r)) snprintf(buf, n, "n/a");
    else snprintf(buf, n, "%.2f", r);
}

static void json_errs(avm_jw *w, const avm_errs *e, int acc) {
    jw_key(w, "err"); jw_num(w, err_rate(e));
    if (acc) { jw_key(w, "acc"); jw_num(w, e->n ? 100.0 * e->c / e->n : NAN); }
    jw_key(w, "S"); jw_int(w, e->s);
    jw_key(w, "D"); jw_int(w, e->d);
    jw_key(w, "I"); jw_int(w, e->i);
    jw_key(w, "C"); jw_int(w, e->c);
    jw_key(w, "N"); jw_int(w, e->n);
    jw_key(w, "utts"); jw_int(w, e->utts);
}

/* A list of utterance ids (the first `list` of them) for warnings and JSON. */
typedef struct { const char **id; int n; } id_list;

static void id_add(id_list *l, const char *id) {
    l->id = xrealloc(l->id, (l->n + 1) * sizeof *l->id);
    l->id[l->n++] = id;
}

static void text_ids(avm_strbuf *t, const id_list *l, int list) {
    for (int i = 0; i < l->n && i < list; i++) sb_printf(t, " %s", l->id[i]);
    if (l->n > list) sb_add(t, " ...");
}

static void json_ids(avm_jw *w, const char *key, const id_list *l, int list) {
    jw_key(w, key);
    jw_obj_begin(w);
    jw_key(w, "count"); jw_int(w, l->n);
    jw_key(w, "first"); jw_arr_begin(w);
    for (int i = 0; i < l->n && i < list; i++) jw_str(w, l->id[i]);
    jw_arr_end(w);
    jw_obj_end(w);
}

typedef struct {
    avm_errs all;
    conds c;
    id_list no_hyp, no_ref, no_cond;
    avm_strbuf *details;     /* per-utterance alignments, or NULL */
    avm_strbuf utts;         /* per-utterance counts and condition values (eval/utts.h) */
} eval_result;

/* One utterance's alignment as three aligned lines (C/S/D/I under each column). */
static void detail_utt(avm_strbuf *b, const char *id, char *const *ref, char *const *hyp,
                       const char *ops, const avm_errs *e) {
    avm_strbuf r = {0}, h = {0}, o = {0};
    sb_add(&r, ""); sb_add(&h, ""); sb_add(&o, "");
    for (int k = 0, ri = 0, hi = 0; ops[k]; k++) {
        const char *rs = ops[k] == 'I' ? "***" : ref[ri++], *hs = ops[k] == 'D' ? "***" : hyp[hi++];
        int w = (int)(strlen(rs) > strlen(hs) ? strlen(rs) : strlen(hs));
        sb_printf(&r, " %-*s", w, rs);
        sb_printf(&h, " %-*s", w, hs);
        sb_printf(&o, " %-*c", w, ops[k]);
    }
    avm_strbuf *lines[3] = {&r, &h, &o};
    for (int k = 0; k < 3; k++)   /* no padding after the last column */
        while (lines[k]->len && lines[k]->s[lines[k]->len - 1] == ' ') lines[k]->s[--lines[k]->len] = 0;
    sb_printf(b, "%s: S=%ld D=%ld I=%ld N=%ld\nREF:%s\nHYP:%s\nOPS:%s\n\n", id, e->s, e->d, e->i, e->n, r.s, h.s, o.s);
    sb_free(&r); sb_free(&h); sb_free(&o);
}

/* frames: 0 edit distance, else token by token (eval_frames.h), 2 speech tokens only. */
static void score(const avm_trans *ref, const avm_trans *hyp, const avm_trans *by, int frames, eval_result *r) {
    if (by) conds_collect_keys(&r->c, by);
    const char **keys = xmalloc((r->c.nk + 1) * sizeof *keys), **vals = xmalloc((r->c.nk + 1) * sizeof *vals);
    for (int k = 0; k < r->c.nk; k++) keys[k] = r->c.k[k].key;
    utts_write_header(&r->utts, keys, r->c.nk);
    for (int i = 0; i < ref->n; i++) {
        const avm_trans_utt *u = &ref->u[i];
        int h = trans_find(hyp, u->id);
        if (h < 0) id_add(&r->no_hyp, u->id);
        avm_errs e = {0};
        int nh = h < 0 ? 0 : hyp->u[h].n;
        char *const *ht = h < 0 ? NULL : hyp->u[h].tok;
        char *ops = r->details ? xmalloc((size_t)u->n + nh + 1) : NULL;
        if (frames) frames_compare(u->tok, u->n, ht, nh, frames == 2, &e);
        else edit_align((const char *const *)u->tok, u->n, (const char *const *)ht, nh, &e, ops);
        if (ops) detail_utt(r->details, u->id, u->tok, ht, ops, &e);
        free(ops);
        errs_add(&r->all, &e);
        int ci = by ? trans_find(by, u->id) : -1;
        if (by && ci < 0) id_add(&r->no_cond, u->id);
        for (int k = 0; k < r->c.nk; k++) {
            const char *v = ci < 0 ? NULL : cond_value(by, &by->u[ci], r->c.k[k].key);
            vals[k] = v ? v : NONE_VALUE;
            errs_add(bucket_get(&r->c.k[k], vals[k]), &e);
        }
        utts_write_line(&r->utts, u->id, &e, vals, r->c.nk);
    }
    free(keys);
    free(vals);
    for (int i = 0; i < hyp->n; i++)
        if (trans_find(ref, hyp->u[i].id) < 0) id_add(&r->no_ref, hyp->u[i].id);
    for (int k = 0; k < r->c.nk; k++) sort_values(&r->c.k[k]);
}

static void write_text(avm_strbuf *t, const eval_result *r, const char *refp, const char *hypp,
                       const char *byp, int list, const intent_confusion *ic) {
    char rate[32];
    const avm_errs *a = &r->all;
    sb_printf(t, "ref: %s\nhyp: %s\n", refp, hypp);
    fmt_rate(rate, sizeof rate, a);
    sb_printf(t, "%%ERR %s [ %ld / %ld, %ld ins, %ld del, %ld sub ] over %ld utterances\n",
              rate, a->s + a->d + a->i, a->n, a->i, a->d, a->s, a->utts);
    if (ic) sb_printf(t, "%%ACC %.2f [ %ld / %ld intents right ]\n", a->n ? 100.0 * a->c / a->n : NAN, a->c, a->n);
    if (r->no_hyp.n) {
        sb_printf(t, "warning: %d reference utterances have no hypothesis, scored as all deletions:", r->no_hyp.n);
        text_ids(t, &r->no_hyp, list);
        sb_add(t, "\n");
    }
    if (r->no_ref.n) {
        sb_printf(t, "warning: %d hypothesis utterances have no reference, not scored:", r->no_ref.n);
        text_ids(t, &r->no_ref, list);
        sb_add(t, "\n");
    }
    if (r->no_cond.n) {
        sb_printf(t, "warning: %d reference utterances are not in %s, counted as %s:", r->no_cond.n, byp, NONE_VALUE);
        text_ids(t, &r->no_cond, list);
        sb_add(t, "\n");
    }
    for (int k = 0; k < r->c.nk; k++) {
        const cond_key *ck = &r->c.k[k];
        sb_printf(t, "\nby %s:\n  %-12s %8s %7s %7s %7s %8s %6s\n", ck->key, "value", "%ERR", "S", "D", "I", "N", "utts");
        for (int i = 0; i < ck->nb; i++) {
            const avm_errs *e = &ck->b[i].e;
            fmt_rate(rate, sizeof rate, e);
            sb_printf(t, "  %-12s %8s %7ld %7ld %7ld %8ld %6ld", ck->b[i].value, rate, e->s, e->d, e->i, e->n, e->utts);
            if (ic) sb_printf(t, "  %%ACC %.2f", e->n ? 100.0 * e->c / e->n : NAN);
            sb_add(t, "\n");
        }
    }
    if (ic) intent_confusion_text(t, ic);
}

static void write_json(avm_strbuf *b, const eval_result *r, const char *refp, const char *hypp,
                       const char *byp, int list, const char *utts_file, const intent_confusion *ic) {
    avm_jw w;
    jw_init(&w, b);
    jw_obj_begin(&w);
    if (ic) { jw_key(&w, "task"); jw_str(&w, "intent"); }
    jw_key(&w, "ref"); jw_str(&w, refp);
    jw_key(&w, "hyp"); jw_str(&w, hypp);
    jw_key(&w, "by"); if (byp) jw_str(&w, byp); else jw_null(&w);
    jw_key(&w, "overall"); jw_obj_begin(&w); json_errs(&w, &r->all, ic != NULL); jw_obj_end(&w);
    jw_key(&w, "conditions");
    jw_obj_begin(&w);
    for (int k = 0; k < r->c.nk; k++) {
        jw_key(&w, r->c.k[k].key);
        jw_arr_begin(&w);
        for (int i = 0; i < r->c.k[k].nb; i++) {
            jw_obj_begin(&w);
            jw_key(&w, "value"); jw_str(&w, r->c.k[k].b[i].value);
            json_errs(&w, &r->c.k[k].b[i].e, ic != NULL);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
    }
    jw_obj_end(&w);
    json_ids(&w, "ref_without_hyp", &r->no_hyp, list);
    json_ids(&w, "hyp_without_ref", &r->no_ref, list);
    json_ids(&w, "ref_without_conditions", &r->no_cond, list);
    jw_key(&w, "utts_file"); jw_str(&w, utts_file);
    if (ic) { jw_key(&w, "confusion"); intent_confusion_json(&w, ic); }
    jw_obj_end(&w);
    sb_add(b, "\n");
}

/* Re-tokenises every transcript into characters (train/units.h char units), keeping the
 * layout of avm_trans: tok[0] owns one buffer holding all the tokens. */
static void split_chars(avm_trans *t) {
    for (int i = 0; i < t->n; i++) {
        avm_trans_utt *u = &t->u[i];
        char **syms;
        int n = units_split(UNITS_CHAR, u->text, &syms);
        trans_set_tokens(u, syms, n);
        units_free_split(syms, n);
    }
}

static char *default_out(const char *hyp) {
    char *h = xstrdup(hyp), *out = path_join(dirname(h), "eval.json");
    free(h);
    return out;
}

static void write_out(const char *path, const avm_strbuf *b) {
    char *d = xstrdup(path);
    if (mkdir_p(dirname(d))) avm_die("eval: %s", avm_error());
    free(d);
    if (write_file_atomic(path, b->s, b->len)) avm_die("eval: %s", avm_error());
}

static void result_free(eval_result *r) {
    conds_free(&r->c);
    free(r->no_hyp.id); free(r->no_ref.id); free(r->no_cond.id);
}

int cmd_eval(int argc, char **argv) {
    avm_opts o;
    eval_opts e;
    opts_parse(&o, &eval_optspec, &e, argc, argv);
    const char *refp = e.ref, *hypp = e.hyp, *byp = e.by, *details = e.details;
    int list = e.list;
    opts_threads(&o);
    if (e.unit == UNIT_TINYS2I) {
        if (details) avm_die("eval: --details does not apply to --unit=tinys2i");
        eval_tinys2i(refp, hypp, e.intents, byp, opts_given(&o, "out") ? e.out : NULL);
        opts_free(&o);
        return 0;
    }
    if (e.intents) avm_die("eval: --intents applies to --unit=tinys2i only");
    char *out = opts_given(&o, "out") ? xstrdup(e.out) : default_out(hypp);

    if (e.unit != UNIT_FRAME && (opts_given(&o, "frame-tokens") || opts_given(&o, "token-seconds")))
        avm_die("eval: --frame-tokens and --token-seconds apply to --unit=frame only");
    if (e.unit == UNIT_FRAME && details) avm_die("eval: --details does not apply to --unit=frame (no alignment)");
    avm_trans ref, hyp, by;
    if (trans_read(&hyp, hypp) || (e.unit != UNIT_FRAME && trans_read(&ref, refp)) || (byp && trans_read(&by, byp)))
        avm_die("eval: %s", avm_error());
    if (e.unit == UNIT_FRAME) frames_ref(&ref, refp, &hyp, e.token_s);
    if (e.unit == UNIT_CHAR) { split_chars(&ref); split_chars(&hyp); }
    intent_confusion ic = {0};
    if (e.unit == UNIT_INTENT) {
        if (intent_file_check(&ref) || intent_file_check(&hyp)) avm_die("eval: %s", avm_error());
        intent_confusion_build(&ic, &ref, &hyp);
    }
    const intent_confusion *icp = e.unit == UNIT_INTENT ? &ic : NULL;
    eval_result r = {0};
    avm_strbuf det = {0};
    if (details) r.details = &det;
    score(&ref, &hyp, byp ? &by : NULL, e.unit == UNIT_FRAME ? 1 + e.speech : 0, &r);

    avm_strbuf text = {0}, json = {0};
    write_text(&text, &r, refp, hypp, byp, list, icp);
    char *txt = json_sibling(out, ".txt"), *utts = utts_path(out), *utts_base = xstrdup(utts);
    write_json(&json, &r, refp, hypp, byp, list, basename(utts_base), icp);
    fputs(text.s, stdout);
    write_out(utts, &r.utts);
    write_out(out, &json);
    write_out(txt, &text);
    if (details) {
        if (!det.s) sb_add(&det, "");
        write_out(details, &det);
        sb_free(&det);
    }

    free(txt); free(out); free(utts); free(utts_base);
    sb_free(&r.utts);
    sb_free(&text); sb_free(&json);
    result_free(&r);
    intent_confusion_free(&ic);
    trans_free(&ref); trans_free(&hyp);
    if (byp) trans_free(&by);
    opts_free(&o);
    return 0;
}
