/* avmask s2i: the option table, setup and the command (see s2i.h). */
#include "train/s2i.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "models/blas_kernel.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define F(f) OPT_FIELD(s2i_opts, f)
static const avm_optdef table[] = {
    {OPT_TEXT, .help = "data:"},
    FT_ROWS_INPUT(s2i_opts, ft.),
    {OPT_STR, "data", F(ft.data), .meta = "DIR", .flags = OPT_REQ,
     .help = "their data dir: intent, and text with --text-model (same utt-ids)"},
    {OPT_STR, "intents", F(intents), .meta = "FILE", .flags = OPT_REQ,
     .help = "the intent list, '<intent> [<class>]' per line (synth-slu's intents.txt)"},
    {OPT_STR, "valid", F(ft.vfeats), .meta = "DIR", .help = "validation features (default: none)"},
    {OPT_STR, "valid-data", F(ft.vdata), .meta = "DIR", .help = "their data dir (with --valid)"},
    FT_ROW_OUT(s2i_opts, ft.),
    FT_ROW_BATCH(s2i_opts, ft.),
    {OPT_NUM, "label-fraction", F(label_fraction), .def = "1", .min = 0, .max = 1, .flags = OPT_MIN_OPEN,
     .help = "train on this fraction of the training utterances (stratified: of each\n"
             "intent's n, max(1, round(F n)), drawn by --seed); the rest is not used"},
    {OPT_TEXT, .help = "head and cross-modal loss:"},
    {OPT_STR, "text-model", F(text_model), .meta = "DIR",
     .help = "a model dir of avmask textlm: the frozen text embeddings of the\n"
             "transcripts (computed once at the start; training only) and the embedding\n"
             "size; without it no cross-modal loss"},
    {OPT_INT, "embed-dim", F(embed_dim), .lo = 1, .hi = 1 << 16, .meta = "N",
     .help = "size of the acoustic embedding (default: the text encoder's d; 128\n"
             "without --text-model)"},
    {OPT_ENUM, "xmodal-loss", F(xmodal_name), .def = "none", .values = "none|l2|triplet|infonce",
     .help = "pull the acoustic embedding toward its transcript's text embedding:\n"
             "l2 the mean squared difference; triplet on unit vectors against a text\n"
             "of another intent in the global batch (--xmodal-negative); infonce over\n"
             "the global batch's distinct transcripts"},
    {OPT_NUM, "xmodal-weight", F(xweight), .def = "1", .min = 0, .max = 1e6, .help = "its weight beside the cross-entropy"},
    {OPT_ENUM, "xmodal-negative", F(negative), .def = "sampled", .values = "sampled|hardest",
     .help = "the triplet's negative: a text of another intent of the global batch\n"
             "drawn at random, or the one closest to the embedding"},
    {OPT_NUM, "xmodal-margin", F(margin), .def = "0.5", .min = 0, .max = 2, .help = "triplet margin (unit vectors)"},
    {OPT_NUM, "xmodal-tau", F(tau), .def = "0.1", .min = 0, .max = 100, .flags = OPT_MIN_OPEN,
     .help = "InfoNCE temperature"},
    FT_ROWS_RUN(s2i_opts, ft.),
    FT_ROWS_OPTIM(s2i_opts, ft.),
    FT_ROWS_REGULARISE(s2i_opts, ft.),
    FT_ROWS_MODEL(s2i_opts, ft.),
    FT_ROWS_HOOKS(s2i_opts, ft.),
    {.type = OPT_END},
};

const avm_optspec s2i_optspec = {
    "s2i",
    "usage: avmask s2i --init=DIR|none --feats=DIR --data=DIR --intents=FILE --out=DIR --max-steps=N [options]\n"
    "Intent classification from speech (S2I) on an exported audio encoder (avmask export):\n"
    "mean over time, a projection to an embedding, a linear layer over the intents; with\n"
    "--text-model and --xmodal-loss the embedding is also pulled toward the frozen text\n"
    "embedding of the transcript (training only). Writes OUT/model/ (the last step, for\n"
    "avmask decode), OUT/model-best/ (lowest validation error, with --valid),\n"
    "OUT/checkpoint-last.h5, OUT/metrics.jsonl, OUT/train.log and OUT/labelled (the training\n"
    "utterances used). Runs on MPI ranks like finetune (mpirun -np N).\n",
    table, NULL, NULL,
};

static void parse(s2i_run *r, int argc, char **argv) {
    s2i_opts *f = &r->f;
    opts_parse(&r->o, &s2i_optspec, f, argc, argv);
    f->ft.cmd = "s2i";
    ft_opts_check(&f->ft, &r->o, &r->cfg);
    if (s2i_xmodal_parse(f->xmodal_name, &f->xmodal)) avm_die("s2i: --xmodal-loss: %s", avm_error());
    if (f->xmodal != XM_NONE && !f->text_model)
        avm_die("s2i: --xmodal-loss=%s needs --text-model (the text embeddings it pulls toward)", f->xmodal_name);
    if (!opts_given(&r->o, "embed-dim")) f->embed_dim = 0;
    r->x = (s2i_xopts){f->xmodal, (float)f->xweight, (float)f->margin, (float)f->tau, !f->negative};
}

/* The text encoder (when given) fixes the embedding size; it is freed once the transcripts
 * are embedded. */
static int embed_dim(const s2i_opts *f, const avm_textenc *tm) {
    if (!tm) return f->embed_dim ? (int)f->embed_dim : 128;
    if (f->embed_dim && f->embed_dim != tm->cfg.d)
        avm_die("s2i: --embed-dim=%ld, but the text encoder of %s gives %d dims", f->embed_dim, f->text_model, tm->cfg.d);
    return tm->cfg.d;
}

/* Encoder (dropout as asked) + head, one buffer: the encoder's views are frozen for
 * --freeze-steps updates. */
static void build_model(s2i_run *r, const avm_textenc *tm) {
    s2i_model *m = &r->m;
    const ft_opts *f = &r->f.ft;
    if (intents_read(&m->intents, r->f.intents)) avm_die("s2i: %s", avm_error());
    r->init = ft_build_encoder(&m->enc, &m->config, f, &r->cfg);
    if (f->dropout >= 0) m->enc.cfg.dropout = (float)f->dropout;
    if (f->attn_dropout >= 0) m->enc.cfg.attn_dropout = (float)f->attn_dropout;
    s2i_head_init(&m->head, m->enc.cfg.d, embed_dim(&r->f, tm), m->intents.n, f->seed);
    for (int k = 0; k < m->enc.params.n; k++) m->enc.params.p[k].frozen = f->freeze_steps;
    avm_params *parts[2] = {&m->enc.params, &m->head.p};
    params_join(&r->all, parts, 2);
}

static void open_data(s2i_run *r, avm_textenc *tm, const avm_vocab *v) {
    const s2i_opts *f = &r->f;
    s2i_model *m = &r->m;
    ft_open_loader(&r->L, f->ft.feats, &m->enc, m->config, f->ft.batch_tokens, f->ft.seed, 1, "s2i");
    r->stack = r->L.feats.stack;
    s2i_labels_read(&r->lb, &r->L.feats, f->ft.data, &m->intents, tm, v);
    if (f->label_fraction < 1) {
        s2i_labels_subset(&r->lb, m->intents.n, f->label_fraction, f->ft.seed);
        r->L.use = r->lb.use;
    }
    if (!f->ft.vfeats) return;
    ft_open_loader(&r->VL, f->ft.vfeats, &m->enc, m->config, f->ft.batch_tokens, f->ft.seed, 0, "s2i");
    s2i_labels_read(&r->vlb, &r->VL.feats, f->ft.vdata, &m->intents, tm, v);
}

/* OUT/labelled: the training utterances used, '<utt-id> <intent>' (a Kaldi intent file). */
static void write_labelled(const s2i_run *r) {
    avm_strbuf b = {0};
    for (int i = 0; i < r->lb.n; i++)
        if (!r->lb.use || r->lb.use[i])
            sb_printf(&b, "%s %s\n", r->L.feats.e[i].utt_id, r->m.intents.name[r->lb.y[i]]);
    char *path = path_join(r->f.ft.out, "labelled");
    if (write_file_atomic(path, b.s ? b.s : "", b.len)) avm_die("s2i: %s", avm_error());
    free(path);
    sb_free(&b);
}

static void info_lines(const s2i_run *r) {
    const s2i_model *m = &r->m;
    const s2i_opts *f = &r->f;
    char sys[1024];
    blas_kernel_describe(sys, sizeof sys, f->ft.threads);
    avm_info("s2i: %s", sys);
    avm_info("s2i: init %s, %d of %d training utterances (label fraction %g, stratified by intent), %d intents, "
             "embedding %d, %zu + %zu parameters", r->init, r->lb.nused, r->lb.n, f->label_fraction, m->head.K,
             m->head.e, m->enc.params.total, m->head.p.total);
    avm_info("s2i: cross-modal loss %s (weight %g)%s%s", f->xmodal_name, f->xweight,
             f->text_model ? ", text embeddings of " : "", f->text_model ? f->text_model : "");
    s2i_labels_log(&r->lb, "training");
    if (f->ft.vfeats) s2i_labels_log(&r->vlb, "validation");
    avm_info("s2i: dropout %g, attention dropout %g, time masks p=%g L=%d, %d frequency masks <= %d bins",
             m->enc.cfg.dropout, m->enc.cfg.attn_dropout, f->ft.aug.time_p, f->ft.aug.time_len, f->ft.aug.n_freq,
             f->ft.aug.freq_width);
    avm_info("s2i: %d rank(s) x %d thread(s), %s at step %ld", r->t.dist.world, f->ft.threads,
             r->t.resumed ? "resuming" : "starting", r->t.step);
}

static void setup(s2i_run *r, int argc, char **argv) {
    parse(r, argc, argv);
    ft_opts *f = &r->f.ft;
    f->threads = opts_threads(&r->o);
    avm_textenc tm;
    avm_vocab v;
    int text = r->f.text_model != NULL;
    if (text && tl_model_load(r->f.text_model, &tm, &v)) avm_die("s2i: %s", avm_error());
    build_model(r, text ? &tm : NULL);
    open_data(r, text ? &tm : NULL, text ? &v : NULL);
    if (text) { textenc_free(&tm); vocab_free(&v); }
    r->run_json = s2i_run_config(r);
    r->modeldir = path_join(f->out, "model");
    r->bestdir = path_join(f->out, "model-best");
    ft_trainer_start(&r->t, f, &r->all, &r->L, r->run_json, 1);   /* the untrained head's figures: the baseline */
    if (trainer_is_root(&r->t)) {
        write_labelled(r);
        info_lines(r);
    }
}

int cmd_s2i(int argc, char **argv) {
    s2i_run *r = xcalloc(1, sizeof *r);
    trainer_init(&r->t, &s2i_task_ops, r, &argc, &argv);
    setup(r, argc, argv);
    trainer_run(&r->t);
    trainer_finish(&r->t);
    trainer_free(&r->t);
    s2i_labels_free(&r->lb);
    if (r->f.ft.vfeats) { s2i_labels_free(&r->vlb); loader_close(&r->VL); }
    loader_close(&r->L);
    s2i_tbuf_free(&r->tb);
    s2i_free(&r->m);
    params_free(&r->all);
    free(r->init); free(r->run_json); free(r->modeldir); free(r->bestdir);
    avm_log_close();
    opts_free(&r->o);
    free(r);
    return 0;
}
