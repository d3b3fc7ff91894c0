/* avmask finetune: the exported audio encoder (or a fresh one) + a linear CTC head over
 * char/phone/word units, trained with AdamW on labelled features; validation loss and
 * greedy-decoding error rate; the model is written in the asr.h layout. */
#include "common/json.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/shard.h"
#include "train/asr.h"
#include "train/ctc.h"
#include "train/export.h"
#include "train/edit_distance.h"
#include "train/specaug.h"
#include "train/trans.h"
#include "train/clip.h"
#include "train/optim.h"
#include "train/sched.h"
#include "train/seeding.h"
#include "models/blas_kernel.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *init, *feats, *data, *out, *vfeats, *vdata, *units_file;
    const char *unit, *schedule, *model_name;   /* as given; parse() reads them */
    avm_unit_kind kind;
    long max_steps, log_every, valid_every, freeze_steps, batch_tokens;
    int layer_weights, layer_norm;
    double weight_decay, clip;
    long nan_step;          /* test hook: a NaN gradient at this step (0: never) */
    double dropout, attn_dropout;   /* < 0: the encoder's config */
    avm_specaug aug;
    avm_sched sched;
    uint64_t seed;
} ft_opts;

#define F(f) OPT_FIELD(ft_opts, f)
#define MODEL_INT(NAME, HELP) {OPT_INT, NAME, .lo = 0, .hi = 1 << 24, .meta = "N", .help = HELP}
static const avm_optdef table[] = {
    {OPT_TEXT, .help = "data:"},
    {OPT_STR, "init", F(init), .meta = "DIR|none", .flags = OPT_REQ,
     .help = "exported encoder (avmask export), or none: a fresh one (model below)"},
    {OPT_STR, "feats", F(feats), .meta = "DIR", .flags = OPT_REQ, .help = "training features"},
    {OPT_STR, "data", F(data), .meta = "DIR", .flags = OPT_REQ, .help = "their data dir: text or phones, same utt-ids"},
    {OPT_STR, "out", F(out), .meta = "DIR", .flags = OPT_REQ, .help = "the run's directory"},
    {OPT_ENUM, "unit", F(unit), .def = "phone", .values = "phone|char|word", .help = "output units"},
    {OPT_STR, "units-file", F(units_file), .meta = "FILE", .help = "fixed units.txt (default: built from --data)"},
    {OPT_STR, "valid", F(vfeats), .meta = "DIR", .help = "validation features (default: none)"},
    {OPT_STR, "valid-data", F(vdata), .meta = "DIR", .help = "their data dir (with --valid)"},
    {OPT_INT, "batch-tokens", F(batch_tokens), .def = "2000", .lo = 1, .hi = 1000000000,
     .help = "samples x padded tokens per batch"},
    {OPT_TEXT, .help = "run:"},
    {OPT_INT, "max-steps", F(max_steps), .lo = 1, .hi = 100000000, .flags = OPT_REQ, .help = "optimiser updates"},
    {OPT_INT, "seed", F(seed), .def = "1", .help = "head initialisation, batches, dropout, SpecAugment"},
    OPT_THREADS("OpenMP and OpenBLAS threads (default: all cores or OMP_NUM_THREADS)"),
    {OPT_INT, "log-every", F(log_every), .def = "10", .lo = 1, .hi = 1000000000, .help = "steps between log lines"},
    {OPT_INT, "valid-every", F(valid_every), .def = "100", .lo = 1, .hi = 1000000000, .help = "steps between validations"},
    {OPT_TEXT, .help = "optim:"},
    {OPT_NUM, "lr", F(sched.peak), .def = "1e-3", .min = 0, .max = INFINITY, .flags = OPT_MIN_OPEN,
     .help = "peak learning rate"},
    {OPT_INT, "warmup", F(sched.warmup), .def = "100", .lo = 0, .hi = 1000000000,
     .help = "steps of linear warm-up (at most --max-steps)"},
    {OPT_ENUM, "schedule", F(schedule), .def = "cosine", .values = "cosine|linear|constant", .help = "decay after warm-up"},
    {OPT_NUM, "final-lr-ratio", F(sched.final_ratio), .def = "0.05", .min = 0, .max = 1, .help = "last lr / peak lr"},
    {OPT_NUM, "weight-decay", F(weight_decay), .def = "0.01", .min = 0, .max = INFINITY, .help = "AdamW, decoupled"},
    {OPT_NUM, "clip", F(clip), .def = "5", .min = 0, .max = INFINITY, .help = "global gradient-norm clip (0: off)"},
    {OPT_INT, "freeze-steps", F(freeze_steps), .def = "0", .lo = 0, .hi = 1000000000, .values = "all",
     .help = "the encoder stays frozen, only the head trains, for N\n"
             "steps; all: for the whole run, a frozen probe of the representation"},
    {OPT_FLAG, "layer-weights", F(layer_weights),
     .help = "SUPERB-style: the head reads a learned softmax-weighted sum of\n"
             "the embeddings, every encoder layer output and the final output"},
    {OPT_INT, "layer-norm", F(layer_norm), .def = "1", .lo = 0, .hi = 1,
     .help = "with --layer-weights: each state is layer-normed over d, without\n"
             "affine parameters, before the mix, so its scale does not decide its weight;\n"
             "0: the unnormalised mix of models written before this option"},
    {OPT_TEXT, .help = "regularisation (small labelled sets overfit within a few hundred steps):"},
    {OPT_NUM, "dropout", F(dropout), .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .meta = "P",
     .help = "encoder dropout (default: the encoder's config, 0.1; 0 with --freeze-steps=all)"},
    {OPT_NUM, "attn-dropout", F(attn_dropout), .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .meta = "P",
     .help = "attention dropout (default: as --dropout)"},
    {OPT_NUM, "time-mask-prob", F(aug.time_p), .def = "0", .min = 0, .max = 1,
     .help = "SpecAugment time masks: each token starts a span of\n"
             "--time-mask-len tokens with this probability, spans zeroed (e.g. 0.05)"},
    {OPT_INT, "time-mask-len", F(aug.time_len), .def = "5", .lo = 1, .hi = 1000, .help = "tokens per time mask"},
    {OPT_INT, "freq-masks", F(aug.n_freq), .def = "0", .lo = 0, .hi = 100, .help = "bands of mel bins zeroed"},
    {OPT_INT, "freq-mask-width", F(aug.freq_width), .def = "20", .lo = 0, .hi = 10000, .help = "at most this many bins each"},
    {OPT_TEXT, .help = "model (--init=none only, a randomly initialised encoder; each key defaults to the --model\n"
                       "config):"},
    {OPT_ENUM, "model", F(model_name), .def = "tiny", .values = "tiny|small|base", .help = "named configuration"},
    MODEL_INT("d", "width"),
    MODEL_INT("ffn", "feed-forward width"),
    MODEL_INT("heads", "attention heads"),
    MODEL_INT("layers-audio", "audio encoder layers"),
    MODEL_INT("layers-fusion", "fusion encoder layers"),
    MODEL_INT("max-len", "positions"),
    {OPT_TEXT, .help = "test hooks:"},
    {OPT_INT, "debug-nan-step", F(nan_step), .def = "0", .help = "a NaN gradient at this step (0: never)"},
    {OPT_END},
};

const avm_optspec finetune_optspec = {
    "finetune",
    "usage: avmask finetune --init=DIR|none --feats=DIR --data=DIR --out=DIR --max-steps=N [options]\n"
    "CTC fine-tuning of an exported audio encoder (avmask export) with a linear head over\n"
    "units of the data dir's text or phones. Writes OUT/model/ (the last step, for avmask\n"
    "decode), OUT/model-best/ (lowest validation error, with --valid),\n"
    "OUT/metrics.jsonl and OUT/train.log.\n",
    table, NULL, NULL,
};

/* Labels of every utterance of a feature dir, by index row (NULL: no transcript). */
typedef struct { int **ids; int *n; avm_trans ref; } ft_labels;

static void parse(ft_opts *f, avm_opts *o, avm_config *cfg, int argc, char **argv) {
    opts_parse(o, &finetune_optspec, f, argc, argv);
    if (!f->vfeats != !f->vdata) avm_die("finetune: --valid and --valid-data go together");
    if (units_kind_parse(f->unit, &f->kind)) avm_die("finetune: --unit: %s", avm_error());
    if (opts_given(o, "layer-norm") && !f->layer_weights) avm_die("finetune: --layer-norm applies only with --layer-weights");
    /* a probe reads the frozen encoder as a fixed feature extractor (SUPERB runs the
     * upstream in eval mode): no dropout unless asked for */
    double no_drop = f->freeze_steps == LONG_MAX ? 0 : -1;
    if (!opts_given(o, "dropout")) f->dropout = no_drop;
    if (!opts_given(o, "attn-dropout")) f->attn_dropout = no_drop;
    if (f->sched.warmup > f->max_steps) f->sched.warmup = f->max_steps;
    f->sched.total = f->max_steps;
    if (sched_parse_kind(f->schedule, &f->sched.kind) || sched_check(&f->sched))
        avm_die("finetune: %s", avm_error());
    /* the architecture of a fresh encoder */
    if (avmodel_config_named(cfg, f->model_name)) avm_die("finetune: --model: %s", avm_error());
    static const char *keys[][2] = {{"d", "d"}, {"ffn", "ffn"}, {"heads", "heads"},
        {"layers-audio", "layers_audio"}, {"layers-fusion", "layers_fusion"}, {"max-len", "max_len"}};
    for (int i = 0; i < 6; i++)
        if (opts_given(o, keys[i][0])) {
            if (strcmp(f->init, "none")) avm_die("finetune: --%s applies only with --init=none", keys[i][0]);
            if (avmodel_config_set(cfg, keys[i][1], opts_get(o, keys[i][0])))
                avm_die("finetune: --%s: %s", keys[i][0], avm_error());
        }
    cfg->modalities = AVM_MOD_AUDIO;
}

/* Reads DATA/text or DATA/phones and encodes the transcript of every index row. */
static void labels_read(ft_labels *lb, const avm_feats *f, const char *data, const avm_units *u,
                        avm_unit_kind kind, int strict) {
    char *path = path_join(data, units_source(kind));
    if (trans_read(&lb->ref, path)) avm_die("finetune: %s", avm_error());
    lb->ids = xcalloc(f->n, sizeof *lb->ids);
    lb->n = xcalloc(f->n, sizeof *lb->n);
    int missing = 0;
    const char *first = NULL;
    for (int i = 0; i < f->n; i++) {
        int k = trans_find(&lb->ref, f->e[i].utt_id);
        if (k < 0) { if (!missing++) first = f->e[i].utt_id; continue; }
        if (units_encode(u, kind, f->e[i].utt_id, lb->ref.u[k].text, strict, &lb->ids[i], &lb->n[i]))
            avm_die("finetune: %s: %s", path, avm_error());
    }
    if (missing) avm_die("finetune: %s: %d utterances of %s have no transcript (first: %s)", path, missing, f->dir, first);
    free(path);
}

static void labels_free(ft_labels *lb, int n) {
    for (int i = 0; i < n; i++) free(lb->ids[i]);
    free(lb->ids); free(lb->n);
    trans_free(&lb->ref);
}

/* Labels of a batch, concatenated. */
static int *batch_labels(const ft_labels *lb, const avm_batch_data *d, int *L) {
    int total = 0;
    for (int b = 0; b < d->B; b++) total += lb->n[d->utt[b]];
    int *lab = xmalloc(sizeof(int) * (total + 1)), k = 0;
    for (int b = 0; b < d->B; b++) {
        L[b] = lb->n[d->utt[b]];
        memcpy(lab + k, lb->ids[d->utt[b]], sizeof(int) * L[b]);
        k += L[b];
    }
    return lab;
}

static void open_loader(avm_loader *L, const char *feats, const avm_asr *a, long tokens, uint64_t seed, int shuffle) {
    if (loader_open(L, feats, feats, 0, a->enc.cfg.max_len, tokens, seed, shuffle, 4) || asr_apply_cmvn(a, L))
        avm_die("finetune: %s", avm_error());
    int longer = 0;
    for (int i = 0; i < L->feats.n; i++) longer += L->ntok[i] > a->enc.cfg.max_len;
    if (longer)   /* a crop would cut the labels apart from their frames */
        avm_die("finetune: %s: %d utterances are longer than max_len %d tokens", feats, longer, a->enc.cfg.max_len);
}

/* Mean CTC loss (loss_b / max(L_b, 1) averaged over the utterances whose loss is finite)
 * and greedy error rate over a set. */
static void validate(avm_asr *a, avm_loader *L, const ft_labels *lb, double *loss, avm_errs *e) {
    avm_batch_data d = {0};
    avm_ctc_opts co = {CTC_MEAN, 1};
    double sum = 0;
    int n = 0;
    memset(e, 0, sizeof *e);
    loader_plan(L, 0);
    for (int b = 0; b < L->nbatch; b++) {
        if (loader_get(L, b, 0, 1, &d) || asr_forward(a, &d)) avm_die("finetune: validation: %s", avm_error());
        int *Lb = xmalloc(sizeof(int) * d.B), *hyp = xmalloc(sizeof(int) * (d.T + 1));
        double *nll = xmalloc(sizeof(double) * d.B);
        int *lab = batch_labels(lb, &d, Lb);
        ctc_loss(a->logits, d.len, d.B, a->head.V, lab, Lb, &co, nll, NULL);
        for (int i = 0, k = 0; i < d.B; k += Lb[i], i++) {
            if (isfinite(nll[i])) { sum += nll[i] / (Lb[i] > 1 ? Lb[i] : 1); n++; }
            int nh = ctc_greedy(a->logits + (size_t)a->off[i] * a->head.V, d.len[i], a->head.V, hyp);
            const char **rs = xmalloc(sizeof(char *) * (Lb[i] + 1)), **hs = xmalloc(sizeof(char *) * (nh + 1));
            for (int j = 0; j < Lb[i]; j++) rs[j] = a->units.sym[lab[k + j]];
            for (int j = 0; j < nh; j++) hs[j] = a->units.sym[hyp[j]];
            edit_align(rs, Lb[i], hs, nh, e, NULL);
            free(rs); free(hs);
        }
        free(Lb); free(hyp); free(nll); free(lab);
    }
    batch_data_free(&d);
    *loss = n ? sum / n : NAN;
}

typedef struct {
    avm_asr a;
    avm_adamw oe, oh;
    int stack;              /* fbank frames per token */
} ft_state;

/* One update on batch d; returns the loss, *gnorm the gradient norm before clipping, or
 * NAN + avm_fail when the loss or the gradient is not finite (nothing is updated then).
 * It frees its buffers before the caller stops, so the sanitizers see no leak. */
static double train_step(ft_state *s, const ft_opts *f, const ft_labels *lb, avm_batch_data *d,
                         long step, double *gnorm, int *impossible) {
    avm_asr *a = &s->a;
    int *Lb = xmalloc(sizeof(int) * d->B), *lab = batch_labels(lb, d, Lb);
    double *nll = xmalloc(sizeof(double) * d->B);
    int frozen = step < f->freeze_steps;
    if (specaug_active(&f->aug)) specaug_apply(&f->aug, d, a->enc.cfg.audio_in / s->stack, s->stack, f->seed, step);
    avm_rng r;
    train_rng(&r, f->seed, SEED_DROPOUT, step, 0);
    int drop = a->enc.cfg.dropout > 0 || a->enc.cfg.attn_dropout > 0;
    double loss = asr_train_loss(a, d, lab, Lb, frozen, drop ? &r : NULL, nll);
    int bad = isnan(loss) ? avm_fail("step %ld: %s", step + 1, avm_error()) : 0;
    *impossible = 0;
    for (int b = 0; b < d->B; b++) *impossible += isinf(nll[b]);
    if (f->nan_step == step + 1) a->head.p.grad[0] = NAN;
    double ge = grad_norm(a->enc.params.grad, a->enc.params.total), gh = grad_norm(a->head.p.grad, a->head.p.total);
    *gnorm = sqrt(ge * ge + gh * gh);
    if (!bad && !isfinite(*gnorm)) bad = avm_fail("step %ld: gradient norm is %g", step + 1, *gnorm);
    if (bad) { free(Lb); free(lab); free(nll); return NAN; }
    /* one norm over encoder and head, as torch; the clipping is applied inside AdamW's pass */
    float scale = f->clip > 0 && *gnorm > f->clip ? (float)(f->clip / (*gnorm + 1e-6)) : 1.0f;
    double lr = sched_lr(&f->sched, step);
    adamw_step_scaled(&s->oh, &a->head.p, lr, scale);
    if (!frozen) adamw_step_scaled(&s->oe, &a->enc.params, lr, scale);
    free(Lb); free(lab); free(nll);
    return loss;
}

/* The "features" section of a fresh encoder's config.json (as pretraining records it):
 * mel bins, frames per token, the CMVN file and the extraction configuration. */
static json_value *features_json(const avm_feats *fe, const char *cmvn) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "n_mels"); jw_int(&w, fe->n_mels);
    jw_key(&w, "stack"); jw_int(&w, fe->stack);
    char *real = realpath(cmvn, NULL);
    jw_key(&w, "cmvn"); jw_str(&w, real ? real : cmvn);
    free(real);
    json_value *x = json_parse(fe->config_json);
    jw_key(&w, "extract");
    if (x) jw_value(&w, x); else jw_null(&w);
    json_free(x);
    jw_obj_end(&w);
    json_value *v = json_parse(b.s);
    sb_free(&b);
    return v;
}

/* The encoder: from an export, or fresh with the CMVN of the training features. */
static char *build_model(avm_asr *a, const ft_opts *f, const avm_config *cfg) {
    if (strcmp(f->init, "none")) {
        if (export_load(f->init, &a->enc, f->seed, &a->config)) avm_die("finetune: %s", avm_error());
        return xstrdup(f->init);
    }
    char *cp = path_join(f->feats, "cmvn.h5");
    avm_cmvn cm;
    avm_feats fe;
    if (cmvn_read(cp, &cm) || feats_open(&fe, f->feats)) avm_die("finetune: %s", avm_error());
    avm_config c = *cfg;
    c.audio_in = fe.stack * cm.dim;   /* stacked fbank frames per token */
    if (avmodel_init(&a->enc, &c, f->seed)) avm_die("finetune: %s", avm_error());
    json_value *feat = features_json(&fe, cp);
    char *text = export_config_json(&c, feat, cm.mean, cm.var, cm.dim, "init", "none", 0);
    a->config = json_parse(text);
    free(text); free(cp);
    json_free(feat);
    feats_close(&fe);
    cmvn_free(&cm);
    return xstrdup("none");
}

/* config.json of the fine-tuned encoder: same architecture, features and CMVN. */
static char *model_config_text(const avm_asr *a, const char *init, long steps) {
    const json_value *mean = json_path(a->config, "cmvn.mean"), *var = json_path(a->config, "cmvn.var");
    int nm = mean && var && mean->n == var->n ? mean->n : 0;
    double *mv = xmalloc(sizeof(double) * (2 * nm + 1));
    for (int i = 0; i < nm; i++) { mv[i] = mean->items[i]->num; mv[nm + i] = var->items[i]->num; }
    char *text = export_config_json(&a->enc.cfg, json_get(a->config, "features"), mv, mv + nm, nm, "init", init, steps);
    free(mv);
    return text;
}

static void log_train(FILE *m, long step, double loss, double lr, double gn, int imp, double sec) {
    fprintf(m, "{\"step\":%ld,\"loss\":%.6g,\"lr\":%.6g,\"grad_norm\":%.6g,\"impossible\":%d,\"seconds\":%.3f}\n",
            step, loss, lr, gn, imp, sec);
    fflush(m);
}

int cmd_finetune(int argc, char **argv) {
    avm_opts o;
    ft_opts f;
    avm_config cfg;
    parse(&f, &o, &cfg, argc, argv);
    int threads = opts_threads(&o);
    if (mkdir_p(f.out)) avm_die("finetune: %s", avm_error());
    char *logp = path_join(f.out, "train.log"), *mp = path_join(f.out, "metrics.jsonl");
    char *modeldir = path_join(f.out, "model"), *bestdir = path_join(f.out, "model-best");
    if (avm_log_open(logp)) avm_die("finetune: %s", avm_error());

    ft_state s;
    memset(&s, 0, sizeof s);
    avm_asr *a = &s.a;
    a->kind = f.kind;
    char *init = build_model(a, &f, &cfg);
    if (f.dropout >= 0) a->enc.cfg.dropout = (float)f.dropout;
    if (f.attn_dropout >= 0) a->enc.cfg.attn_dropout = (float)f.attn_dropout;
    if ((f.units_file ? units_read(&a->units, f.units_file) : units_build(&a->units, f.data, f.kind)))
        avm_die("finetune: %s", avm_error());
    ctc_head_init(&a->head, a->enc.cfg.d, a->units.n, f.layer_weights ? asr_n_states(a) : 0, f.seed);
    a->layer_norm = f.layer_weights && f.layer_norm;
    avm_loader L, VL;
    open_loader(&L, f.feats, a, f.batch_tokens, f.seed, 1);
    s.stack = L.feats.stack;
    ft_labels lb = {0}, vlb = {0};
    labels_read(&lb, &L.feats, f.data, &a->units, f.kind, 1);
    if (f.vfeats) {
        open_loader(&VL, f.vfeats, a, f.batch_tokens, f.seed, 0);
        labels_read(&vlb, &VL.feats, f.vdata, &a->units, f.kind, 0);
    }
    adamw_init(&s.oe, &a->enc.params, 0.9, 0.98, 1e-8, f.weight_decay);
    adamw_init(&s.oh, &a->head.p, 0.9, 0.98, 1e-8, f.weight_decay);
    FILE *mf = fopen(mp, "w");
    if (!mf) avm_die("finetune: %s: cannot write", mp);
    char sys[1024];
    blas_kernel_describe(sys, sizeof sys, threads);
    avm_info("finetune: %s", sys);
    avm_info("finetune: init %s, %d training utterances, %d %s units, %zu + %zu parameters",
             init, L.feats.n, a->units.n, units_source(f.kind), a->enc.params.total, a->head.p.total);
    if (f.layer_weights)
        avm_info("finetune: learned weights over %d encoder states, %s", a->head.nw,
                 a->layer_norm ? "each layer-normed" : "not normalised");
    avm_info("finetune: dropout %g, attention dropout %g, time masks p=%g L=%d, %d frequency masks <= %d bins",
             a->enc.cfg.dropout, a->enc.cfg.attn_dropout, f.aug.time_p, f.aug.time_len, f.aug.n_freq, f.aug.freq_width);

    avm_batch_data d = {0};
    avm_progress prog;
    progress_start(&prog, "finetune", (double)f.max_steps);
    double t0 = now_sec(), loss = NAN, best_err = INFINITY, best_loss = INFINITY;
    loader_plan(&L, 0);
    for (long step = 0; step < f.max_steps; step++) {
        long b = step % L.nbatch;
        if (step && !b) loader_plan(&L, step / L.nbatch);
        if (loader_get(&L, (int)b, 0, 1, &d)) avm_die("finetune: %s", avm_error());
        double gn;
        int imp;
        loss = train_step(&s, &f, &lb, &d, step, &gn, &imp);
        if (isnan(loss)) avm_die("finetune: %s", avm_error());
        if ((step + 1) % f.log_every == 0 || step + 1 == f.max_steps)
            log_train(mf, step + 1, loss, sched_lr(&f.sched, step), gn, imp, now_sec() - t0);
        if (f.vfeats && ((step + 1) % f.valid_every == 0 || step + 1 == f.max_steps)) {
            double vl;
            avm_errs e;
            validate(a, &VL, &vlb, &vl, &e);
            fprintf(mf, "{\"step\":%ld,\"valid_loss\":%.6g,\"valid_err\":%.4f}\n", step + 1, vl, err_rate(&e));
            fflush(mf);
            avm_logonly("finetune: step %ld valid loss %.4f err %.2f%%", step + 1, vl, err_rate(&e));
            /* model-best: lowest validation error rate, ties broken by the loss */
            double er = err_rate(&e);
            if (er < best_err || (er == best_err && vl < best_loss)) {
                best_err = er;
                best_loss = vl;
                char *bt = model_config_text(a, init, step + 1);
                if (asr_save(a, bestdir, bt)) avm_die("finetune: %s", avm_error());
                free(bt);
            }
        }
        progress_update(&prog, (double)(step + 1), "loss %.4f", loss);
    }
    progress_end(&prog, "finetune: %ld steps, last loss %.4f", f.max_steps, loss);
    fclose(mf);

    char *text = model_config_text(a, init, f.max_steps);
    if (asr_save(a, modeldir, text)) avm_die("finetune: %s", avm_error());
    printf("finetune: %ld steps, model in %s\n", f.max_steps, modeldir);

    free(text); free(init);
    batch_data_free(&d);
    labels_free(&lb, L.feats.n);
    if (f.vfeats) { labels_free(&vlb, VL.feats.n); loader_close(&VL); }
    loader_close(&L);
    adamw_free(&s.oe); adamw_free(&s.oh);
    asr_free(a);
    free(logp); free(mp); free(modeldir); free(bestdir);
    avm_log_close();
    opts_free(&o);
    return 0;
}
