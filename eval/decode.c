/* avmask decode: greedy CTC decoding of a feature dir with a fine-tuned model, or the intent
 * of every utterance with an S2I model (train/s2i.h). */
#include "common/log.h"
#include "common/opts.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/ali.h"
#include "train/asr.h"
#include "train/s2i.h"
#include "train/tinys2i.h"
#include "eval/decode.h"
#include "models/blas_kernel.h"
#include <stdlib.h>
#include <string.h>

typedef struct { const char *model, *feats, *out, *menu, *intents_from, *intents, *transcripts; int query; long tokens; double defer_below; } decode_opts;

#define F(f) OPT_FIELD(decode_opts, f)
static const avm_optdef table[] = {
    {OPT_STR, "model", F(model), .meta = "DIR", .flags = OPT_REQ,
     .help = "model dir written by avmask finetune (CTC), avmask s2i (intents) or\n"
             "avmask tinys2i (decisions, commands, menu titles)"},
    {OPT_STR, "feats", F(feats), .meta = "DIR", .flags = OPT_REQ, .help = "features to decode"},
    {OPT_STR, "out", F(out), .meta = "DIR", .flags = OPT_REQ, .help = "output dir (OUT/hyp)"},
    {OPT_STR, "menu", F(menu), .meta = "FILE",
     .help = "the on-screen menus, '<utt-id> <title>|<title>|...' (synth-slu's\n"
             "menuN): required with a TinyS2I model; with a CTC model, TinyS2I's\n"
             "CTC baseline (transcript -> decision by matching)"},
    {OPT_STR, "intents-from", F(intents_from), .meta = "DIR",
     .help = "CTC baseline: the training data dir whose transcripts (text) and\n"
             "intents (intent; slots' 'title=') the transcripts are matched to"},
    {OPT_STR, "intents", F(intents), .meta = "FILE",
     .help = "CTC baseline: the intent list with classes (command|title|other)"},
    {OPT_ENUM, "title-query", F(query), .def = "whole", .values = "rest|whole",
     .help = "CTC baseline: what is matched to the menu titles: the words after\n"
             "the carrier phrase (rest) or the whole transcript (whole; better on dev)"},
    {OPT_STR, "transcripts", F(transcripts), .meta = "FILE",
     .help = "CTC baseline: match these transcripts ('<utt-id> words') instead of\n"
             "the model's (the model is not run): with the references, an oracle"},
    {OPT_NUM, "defer-below", F(defer_below), .meta = "P", .def = "0", .min = 0, .max = 1,
     .help = "TinyS2I: defer every command or play decision whose confidence (the\n"
             "decision head's probability, times the command head's for a command;\n"
             "OUT/confidence) is below P (default 0: never). Choose P on a dev set\n"
             "with avmask eval --unit=tinys2i's deferral sweep"},
    {OPT_INT, "batch-tokens", F(tokens), .def = "4000", .lo = 1, .hi = 1000000000,
     .help = "samples x padded tokens per batch"},
    OPT_THREADS("OpenMP and OpenBLAS threads (default: all cores or OMP_NUM_THREADS)"),
    {.type = OPT_END},
};

static const avm_optspec decode_optspec = {
    "decode",
    "usage: avmask decode --model=DIR --feats=DIR --out=DIR [--batch-tokens=4000]\n"
    "Greedy CTC decoding (best path: argmax per token, repeats collapsed, blanks dropped)\n"
    "of every utterance of a feature dir with a model written by avmask finetune\n"
    "(FT/model). Writes OUT/hyp, '<utt-id> units...' sorted by utt-id (chars joined into\n"
    "words), for avmask eval --hyp=OUT/hyp. A model of finetune --objective=frame writes\n"
    "the phone of every 25 Hz token instead (<sil> for silence; avmask eval --unit=frame).\n"
    "With a model of avmask s2i (S2I/model), OUT/hyp\n"
    "holds '<utt-id> <intent>', the intent of highest score (avmask eval --unit=intent).\n"
    "Logs the real-time factor of the forward pass and search (compute seconds per second\n"
    "of audio). With a model of avmask tinys2i and --menu=FILE, OUT/hyp holds '<utt-id>\n"
    "command <intent>', '<utt-id> play <title>' or '<utt-id> defer', one utterance at a time,\n"
    "timed (OUT/decode.json: milliseconds per utterance, parameters and bytes; OUT/title_rank:\n"
    "the best menu title of every menu utterance whatever the decision; avmask eval\n"
    "--unit=tinys2i). With a CTC model and --menu=FILE (plus --intents-from=DATA_DIR and\n"
    "--intents=FILE), TinyS2I's CTC baseline writes the same files (and OUT/text, the\n"
    "transcripts): the intent of the nearest transcript of DATA_DIR by word edit distance\n"
    "decides command, play or defer; the menu title of least normalised character edit\n"
    "distance to the transcript is the title (docs/slu.md).\n",
    table, NULL, NULL,
};

/* A model of either kind: its encoder and config.json, and what turns a batch into one
 * hypothesis per utterance. */
typedef struct {
    int s2i;                     /* 1: an S2I model dir (s2i.json), else a CTC model */
    avm_asr a;
    s2i_model m;
    int *ids;
} decoder;

static void decoder_load(decoder *x, const char *dir) {
    memset(x, 0, sizeof *x);
    x->s2i = s2i_is_model(dir);
    if (x->s2i ? s2i_load(&x->m, dir) : asr_load(&x->a, dir)) avm_die("decode: %s", avm_error());
    if (!x->s2i) x->ids = xmalloc(sizeof(int) * (x->a.enc.cfg.max_len + 1));
}

static const avm_model *decoder_enc(const decoder *x) { return x->s2i ? &x->m.enc : &x->a.enc; }

static void decode_frames_batch(const avm_asr *a, const avm_batch_data *d, char **hyp);

/* The index of the highest of k scores, the first of equals. */
static int first_max(const float *l, int k) {
    int best = 0;
    for (int j = 1; j < k; j++) if (l[j] > l[best]) best = j;
    return best;
}

/* Greedy CTC units (a frame model: the unit of every token), or the intent with the highest logit (the first of equals). */
static void decoder_run(decoder *x, const avm_batch_data *d, char **hyp) {
    if (x->s2i) {
        if (s2i_forward(&x->m, d)) avm_die("decode: %s", avm_error());
        int K = x->m.head.K;
        for (int i = 0; i < d->B; i++) {
            hyp[d->utt[i]] = xstrdup(x->m.intents.name[first_max(x->m.logits + (size_t)i * K, K)]);
        }
        return;
    }
    if (asr_forward(&x->a, d)) avm_die("decode: %s", avm_error());
    if (x->a.frame) decode_frames_batch(&x->a, d, hyp);
    else decode_ctc_batch(&x->a, d, x->ids, hyp);
}

/* A frame model's unit of highest score at every token (the first of equals), <blank> as
 * the silence it stands for. */
static void decode_frames_batch(const avm_asr *a, const avm_batch_data *d, char **hyp) {
    int V = a->head.V;
    for (int i = 0; i < d->B; i++) {
        avm_strbuf b = {0};
        sb_add(&b, "");
        for (int t = 0; t < d->len[i]; t++) {
            int best = first_max(a->logits + ((size_t)a->off[i] + t) * V, V);
            sb_printf(&b, "%s%s", t ? " " : "", best ? a->units.sym[best] : ALI_SIL);
        }
        hyp[d->utt[i]] = b.s;
    }
}

void decode_ctc_batch(avm_asr *a, const avm_batch_data *d, int *ids, char **hyp) {
    for (int i = 0; i < d->B; i++) {
        int k = ctc_greedy(a->logits + (size_t)a->off[i] * a->head.V, d->len[i], a->head.V, ids);
        hyp[d->utt[i]] = units_decode(&a->units, a->kind, ids, k);
    }
}

static void decoder_free(decoder *x) {
    if (x->s2i) s2i_free(&x->m); else asr_free(&x->a);
    free(x->ids);
}

int cmd_decode(int argc, char **argv) {
    avm_opts o;
    decode_opts d0;
    opts_parse(&o, &decode_optspec, &d0, argc, argv);
    const char *model = d0.model, *feats = d0.feats, *out = d0.out;
    long tokens = d0.tokens;
    int threads = opts_threads(&o);
    if (ts_is_model(model)) {
        if (d0.intents_from || d0.intents || d0.transcripts)
            avm_die("decode: --intents-from, --intents and --transcripts apply to CTC models (%s is TinyS2I)", model);
        decode_tinys2i(model, feats, out, d0.menu, d0.defer_below, threads);
        opts_free(&o);
        return 0;
    }
    if (opts_given(&o, "defer-below"))
        avm_die("decode: --defer-below applies to TinyS2I models only (%s is not one)", model);
    if (d0.menu && s2i_is_model(model))
        avm_die("decode: --menu applies to TinyS2I and CTC model dirs only (%s is an S2I model)", model);
    if (d0.menu) {
        ctcmenu_args g = {model, feats, out, d0.menu, d0.intents_from, d0.intents, d0.transcripts, d0.query, threads};
        decode_ctcmenu(&g);
        opts_free(&o);
        return 0;
    }
    if (d0.intents_from || d0.intents || d0.transcripts)
        avm_die("decode: --intents-from, --intents and --transcripts apply with --menu only (TinyS2I's CTC baseline)");

    decoder x;
    decoder_load(&x, model);
    const avm_model *enc = decoder_enc(&x);
    avm_loader L;
    if (loader_open(&L, feats, feats, 0, enc->cfg.max_len, tokens, 0, 0, 4) ||
        encoder_apply_cmvn(enc, x.s2i ? x.m.config : x.a.config, &L))
        avm_die("decode: %s", avm_error());
    char sys[1024];     /* after the inputs are known good: a refusal stays one line */
    blas_kernel_describe(sys, sizeof sys, threads);
    avm_info("decode: %s", sys);
    int n = L.feats.n, longer = 0, empty = 0;
    char **hyp = xcalloc(n, sizeof *hyp);
    avm_batch_data d = {0};
    double t_read = 0, t_run = 0, audio_s = 0;
    loader_plan(&L, 0);
    long most;
    int longest;
    loader_plan_peak(&L, &most, &longest);
    if (longest) {   /* the inference arena, sized once */
        if (x.s2i) avmodel_infer_reserve(&x.m.enc, most, longest, 0);
        else asr_infer_reserve(&x.a, most, longest);
    }
    for (int b = 0; b < L.nbatch; b++) {
        double t0 = now_sec();
        if (loader_get(&L, b, 0, 1, &d)) avm_die("decode: %s", avm_error());
        double t1 = now_sec();
        decoder_run(&x, &d, hyp);
        t_read += t1 - t0;
        t_run += now_sec() - t1;
    }
    /* the real-time factor of the model alone (tests/bench/bench_finetune reads it) */
    for (int i = 0; i < n; i++) audio_s += L.feats.e[i].a_frames / 100.0;
    avm_info("decode: %.1f s of audio: forward + search %.3f s (real-time factor %.5f), reading features %.3f s",
             audio_s, t_run, audio_s > 0 ? t_run / audio_s : 0, t_read);
    /* index rows are sorted by utt-id; utterances too short for one token get an empty line */
    avm_strbuf text = {0};
    for (int i = 0; i < n; i++) {
        longer += L.ntok[i] > enc->cfg.max_len;
        empty += !hyp[i];
        sb_printf(&text, "%s%s%s\n", L.feats.e[i].utt_id, hyp[i] && *hyp[i] ? " " : "", hyp[i] ? hyp[i] : "");
    }
    if (longer) avm_warn("decode: %d utterances longer than max_len %d tokens were cut", longer, enc->cfg.max_len);
    if (empty) avm_warn("decode: %d utterances shorter than one token have empty hypotheses", empty);
    char *path = path_join(out, "hyp");
    if (mkdir_p(out) || write_file_atomic(path, text.s ? text.s : "", text.len)) avm_die("decode: %s", avm_error());
    printf("decode: %d utterances -> %s\n", n, path);

    for (int i = 0; i < n; i++) free(hyp[i]);
    free(hyp); free(path);
    sb_free(&text);
    batch_data_free(&d);
    loader_close(&L);
    decoder_free(&x);
    opts_free(&o);
    return 0;
}
