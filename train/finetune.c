/* avmask finetune: options, setup and the command (see finetune.h). */
#include "train/finetune.h"
#include "common/log.h"
#include "common/util.h"
#include "models/blas_kernel.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define F(f) OPT_FIELD(ft_opts, f)
static const avm_optdef table[] = {
    {OPT_TEXT, .help = "data:"},
    FT_ROWS_INPUT(ft_opts, ),
    {OPT_STR, "data", F(data), .meta = "DIR", .flags = OPT_REQ, .help = "their data dir: text or phones, same utt-ids"},
    FT_ROW_OUT(ft_opts, ),
    {OPT_ENUM, "unit", F(unit), .def = "phone", .values = "phone|char|word", .help = "output units"},
    {OPT_STR, "units-file", F(units_file), .meta = "FILE", .help = "fixed units.txt (default: built from --data)"},
    {OPT_STR, "valid", F(vfeats), .meta = "DIR", .help = "validation features (default: none)"},
    {OPT_STR, "valid-data", F(vdata), .meta = "DIR", .help = "their data dir (with --valid)"},
    {OPT_ENUM, "objective", F(objective), .def = "ctc", .values = "ctc|frame",
     .help = "ctc: transcripts; frame: the phone of every token from --ali, a\n"
             "softmax cross-entropy per token (the frame-level probe: no blank\n"
             "plateau to stall on; silence is unit 0); --unit=phone"},
    {OPT_STR, "ali", F(ali), .meta = "CTM", .help = "phone alignment of --feats (--objective=frame)"},
    {OPT_STR, "valid-ali", F(vali), .meta = "CTM", .help = "phone alignment of --valid (--objective=frame)"},
    FT_ROW_BATCH(ft_opts, ),
    FT_ROWS_RUN(ft_opts, ),
    FT_ROWS_OPTIM(ft_opts, ),
    {OPT_FLAG, "layer-weights", F(layer_weights),
     .help = "SUPERB-style: the head reads a learned softmax-weighted sum of\n"
             "the embeddings, every encoder layer output and the final output"},
    {OPT_INT, "layer-norm", F(layer_norm), .def = "1", .lo = 0, .hi = 1,
     .help = "with --layer-weights: each state is layer-normed over d, without\n"
             "affine parameters, before the mix, so its scale does not decide its weight;\n"
             "0: the unnormalised mix of models written before this option"},
    FT_ROWS_REGULARISE(ft_opts, ),
    {OPT_INT, "state-cache-mb", F(state_cache_mb), .def = "4096", .lo = 0, .hi = 1L << 30, .meta = "MB",
     .help = "a frozen probe (--freeze-steps=all, no dropout, no SpecAugment)\n"
             "computes the encoder states of the training set once and keeps\n"
             "them in memory when they fit in MB (0: the encoder runs every step)"},
    FT_ROWS_MODEL(ft_opts, ),
    FT_ROWS_HOOKS(ft_opts, ),
    {.type = OPT_END},
};

const avm_optspec finetune_optspec = {
    "finetune",
    "usage: avmask finetune --init=DIR|none --feats=DIR --data=DIR --out=DIR --max-steps=N [options]\n"
    "CTC fine-tuning of an exported audio encoder (avmask export) with a linear head over\n"
    "units of the data dir's text or phones. Writes OUT/model/ (the last step, for avmask\n"
    "decode), OUT/model-best/ (lowest validation error, with --valid), OUT/checkpoint-last.h5,\n"
    "OUT/metrics.jsonl and OUT/train.log. Runs on MPI ranks like pretrain (mpirun -np N).\n",
    table, NULL, NULL,
};

void ft_opts_check(ft_opts *f, const avm_opts *o, avm_config *cfg) {
    const char *cmd = f->cmd;
    if (!f->vfeats != !f->vdata) avm_die("%s: --valid and --valid-data go together", cmd);
    /* a probe reads the frozen encoder as a fixed feature extractor (SUPERB runs the
     * upstream in eval mode): no dropout unless asked for */
    double no_drop = f->freeze_steps == LONG_MAX ? 0 : -1;
    if (!opts_given(o, "dropout")) f->dropout = no_drop;
    if (!opts_given(o, "attn-dropout")) f->attn_dropout = no_drop;
    if (f->sched.warmup > f->max_steps) f->sched.warmup = f->max_steps;
    f->sched.total = f->max_steps;
    if (sched_parse_kind(f->schedule, &f->sched.kind) || sched_check(&f->sched)) avm_die("%s: %s", cmd, avm_error());
    /* the architecture of a fresh encoder */
    if (avmodel_config_named(cfg, f->model_name)) avm_die("%s: --model: %s", cmd, avm_error());
    static const char *keys[][2] = {{"d", "d"}, {"ffn", "ffn"}, {"heads", "heads"},
        {"layers-audio", "layers_audio"}, {"layers-fusion", "layers_fusion"}, {"max-len", "max_len"}};
    for (int i = 0; i < 6; i++)
        if (opts_given(o, keys[i][0])) {
            if (strcmp(f->init, "none")) avm_die("%s: --%s applies only with --init=none", cmd, keys[i][0]);
            if (avmodel_config_set(cfg, keys[i][1], opts_get(o, keys[i][0])))
                avm_die("%s: --%s: %s", cmd, keys[i][0], avm_error());
        }
    cfg->modalities = AVM_MOD_AUDIO;
    cfg->encoder_only = 1;   /* what an export holds: every parameter trains */
}

static void parse(ft_opts *f, avm_opts *o, avm_config *cfg, int argc, char **argv) {
    opts_parse(o, &finetune_optspec, f, argc, argv);
    f->cmd = "finetune";
    if (units_kind_parse(f->unit, &f->kind)) avm_die("finetune: --unit: %s", avm_error());
    if (opts_given(o, "layer-norm") && !f->layer_weights) avm_die("finetune: --layer-norm applies only with --layer-weights");
    f->frame = !strcmp(f->objective, "frame");
    if (f->frame && f->kind != UNITS_PHONE) avm_die("finetune: --objective=frame labels tokens with phones: --unit=phone");
    if (f->frame && (!f->ali || (f->vfeats && !f->vali)))
        avm_die("finetune: --objective=frame needs --ali%s", f->vfeats ? " and --valid-ali" : "");
    if (!f->frame && (f->ali || f->vali)) avm_die("finetune: --ali and --valid-ali apply with --objective=frame only");
    ft_opts_check(f, o, cfg);
}

void ft_open_loader(avm_loader *L, const char *feats, const avm_model *enc, const json_value *config, long tokens,
                    uint64_t seed, int shuffle, const char *cmd) {
    if (loader_open(L, feats, feats, 0, enc->cfg.max_len, tokens, seed, shuffle, 4) ||
        encoder_apply_cmvn(enc, config, L))
        avm_die("%s: %s", cmd, avm_error());
    int longer = 0;
    for (int i = 0; i < L->feats.n; i++) longer += L->ntok[i] > enc->cfg.max_len;
    if (longer)   /* a crop would cut the labels apart from their frames */
        avm_die("%s: %s: %d utterances are longer than max_len %d tokens", cmd, feats, longer, enc->cfg.max_len);
}

void ft_trainer_start(avm_trainer *t, const ft_opts *f, avm_params *all, avm_loader *L, const char *run_json,
                      int valid_at_start) {
    avm_train_opts x = {.name = f->cmd, .out = f->out, .max_steps = f->max_steps, .log_every = f->log_every,
                        .valid_every = f->valid_every, .save_every = f->save_every, .sched = f->sched,
                        .beta1 = 0.9, .beta2 = 0.98, .eps = 1e-8, .weight_decay = f->weight_decay,
                        .clip = f->clip, .seed = f->seed, .resume = f->resume, .threads = f->threads,
                        .valid_at_start = valid_at_start, .dump_grad = f->dump_grad, .kill_step = f->kill_step,
                        .nan_step = f->nan_step};
    t->o = x;
    t->params = all;
    t->train = L;
    t->has_valid = f->vfeats != NULL;
    t->config_json = run_json;
    trainer_start(t, trainer_check_out(t));
}

/* Encoder (dropout as asked) + a CTC head over the units, one buffer: the encoder's views
 * are frozen for --freeze-steps updates. */
static void build_model(ft_run *r) {
    avm_asr *a = &r->a;
    const ft_opts *f = &r->f;
    a->kind = f->kind;
    a->frame = f->frame;
    r->init = ft_build_encoder(&a->enc, &a->config, f, &r->cfg);
    if (f->dropout >= 0) a->enc.cfg.dropout = (float)f->dropout;
    if (f->attn_dropout >= 0) a->enc.cfg.attn_dropout = (float)f->attn_dropout;
    if ((f->units_file ? units_read(&a->units, f->units_file) : units_build(&a->units, f->data, f->kind)))
        avm_die("finetune: %s", avm_error());
    ctc_head_init(&a->head, a->enc.cfg.d, a->units.n, f->layer_weights ? asr_n_states(a) : 0, f->seed);
    a->layer_norm = f->layer_weights && f->layer_norm;
    for (int k = 0; k < a->enc.params.n; k++) a->enc.params.p[k].frozen = f->freeze_steps;
    avm_params *parts[2] = {&a->enc.params, &a->head.p};
    params_join(&r->all, parts, 2);
}

/* The CTC loss's workspace, sized once for the longest utterance of a set and the longest
 * label sequence (no step then allocates it). */
static void reserve_ctc(avm_asr *a, const avm_loader *L, const ft_labels *lb) {
    int tmax = 0, lmax = 0;
    for (int i = 0; i < L->feats.n; i++) {
        if (L->ntok[i] > tmax) tmax = L->ntok[i];
        if (lb->n[i] > lmax) lmax = lb->n[i];
    }
    ctc_ws_reserve(&a->ctc, tmax, lmax, a->units.n);
}

static void open_data(ft_run *r) {
    const ft_opts *f = &r->f;
    ft_open_loader(&r->L, f->feats, &r->a.enc, r->a.config, f->batch_tokens, f->seed, 1, f->cmd);
    r->stack = r->L.feats.stack;
    if (f->frame) ft_frames_read(&r->lb, &r->L, f->ali, &r->a.units, 1, f->cmd);
    else {
        ft_labels_read(&r->lb, &r->L.feats, f->data, &r->a.units, f->kind, 1);
        reserve_ctc(&r->a, &r->L, &r->lb);
    }
    if (!f->vfeats) return;
    ft_open_loader(&r->VL, f->vfeats, &r->a.enc, r->a.config, f->batch_tokens, f->seed, 0, f->cmd);
    if (f->frame) { ft_frames_read(&r->vlb, &r->VL, f->vali, &r->a.units, 0, f->cmd); return; }
    ft_labels_read(&r->vlb, &r->VL.feats, f->vdata, &r->a.units, f->kind, 0);
    reserve_ctc(&r->a, &r->VL, &r->vlb);
}

static void info_lines(const ft_run *r) {
    const avm_asr *a = &r->a;
    const ft_opts *f = &r->f;
    char sys[1024];
    blas_kernel_describe(sys, sizeof sys, f->threads);
    avm_info("finetune: %s", sys);
    avm_info("finetune: init %s, %d training utterances, %d %s units, %zu + %zu parameters, %s",
             r->init, r->L.feats.n, a->units.n, units_source(f->kind), a->enc.params.total, a->head.p.total,
             f->frame ? "frame objective (a phone per token, <blank> = silence)" : "CTC");
    if (f->layer_weights)
        avm_info("finetune: learned weights over %d encoder states, %s", a->head.nw,
                 a->layer_norm ? "each layer-normed" : "not normalised");
    avm_info("finetune: dropout %g, attention dropout %g, time masks p=%g L=%d, %d frequency masks <= %d bins",
             a->enc.cfg.dropout, a->enc.cfg.attn_dropout, f->aug.time_p, f->aug.time_len, f->aug.n_freq, f->aug.freq_width);
    avm_info("finetune: %d rank(s) x %d thread(s), %s at step %ld", r->t.dist.world, f->threads,
             r->t.resumed ? "resuming" : "starting", r->t.step);
}

/* A frozen probe without dropout or SpecAugment reads fixed encoder states: they are
 * computed once (train/state_cache.h) when they fit in --state-cache-mb. */
static void cache_states(ft_run *r) {
    const ft_opts *f = &r->f;
    avm_asr *a = &r->a;
    int root = trainer_is_root(&r->t);
    if (f->freeze_steps < f->max_steps || a->enc.cfg.dropout > 0 || a->enc.cfg.attn_dropout > 0 ||
        specaug_active(&f->aug) || f->state_cache_mb == 0)
        return;
    size_t mb = (state_cache_bytes(a, &r->L) >> 20) + 1;
    if (mb > (size_t)f->state_cache_mb) {
        if (root) avm_info("finetune: the frozen encoder runs at every step: its states need %zu MB, more than "
                           "--state-cache-mb=%ld", mb, f->state_cache_mb);
        return;
    }
    if (state_cache_fill(&r->cache, a, &r->L, f->batch_tokens, root)) avm_die("finetune: %s: %s", f->feats, avm_error());
    a->cache = &r->cache;
}

static void setup(ft_run *r, int argc, char **argv) {
    ft_opts *f = &r->f;
    parse(f, &r->o, &r->cfg, argc, argv);
    f->threads = opts_threads(&r->o);
    build_model(r);
    open_data(r);
    r->run_json = ft_run_config(r);
    r->modeldir = path_join(f->out, "model");
    r->bestdir = path_join(f->out, "model-best");
    ft_trainer_start(&r->t, f, &r->all, &r->L, r->run_json, 0);
    if (trainer_is_root(&r->t)) info_lines(r);
    cache_states(r);
}

int cmd_finetune(int argc, char **argv) {
    ft_run *r = xcalloc(1, sizeof *r);
    trainer_init(&r->t, &ft_task_ops, r, &argc, &argv);
    setup(r, argc, argv);
    trainer_run(&r->t);
    trainer_finish(&r->t);
    trainer_free(&r->t);
    ft_labels_free(&r->lb, r->L.feats.n);
    if (r->f.vfeats) { ft_labels_free(&r->vlb, r->VL.feats.n); loader_close(&r->VL); }
    loader_close(&r->L);
    state_cache_free(&r->cache);
    asr_free(&r->a);
    params_free(&r->all);
    free(r->init); free(r->run_json); free(r->modeldir); free(r->bestdir);
    avm_log_close();
    opts_free(&r->o);
    free(r);
    return 0;
}
