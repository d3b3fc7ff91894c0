/* avmask tinys2i: the option table, setup and the command (see tinys2i.h). */
#include "train/tinys2i.h"
#include "common/log.h"
#include "common/util.h"
#include "models/blas_kernel.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define F(f) OPT_FIELD(ts_opts, f)
static const avm_optdef table[] = {
    {OPT_TEXT, .help = "data:"},
    FT_ROWS_INPUT(ts_opts, ft.),
    {OPT_STR, "data", F(ft.data), .meta = "DIR", .flags = OPT_REQ,
     .help = "their data dir: intent, and slots with 'title=' for the title utterances"},
    {OPT_STR, "intents", F(intents), .meta = "FILE", .flags = OPT_REQ,
     .help = "the intent list, '<intent> <class>' per line, class command, title or\n"
             "other (synth-slu's intents.txt)"},
    {OPT_STR, "valid", F(ft.vfeats), .meta = "DIR", .help = "validation features (default: none)"},
    {OPT_STR, "valid-data", F(ft.vdata), .meta = "DIR", .help = "their data dir (with --valid)"},
    FT_ROW_OUT(ts_opts, ft.),
    FT_ROW_BATCH(ts_opts, ft.),
    {OPT_TEXT, .help = "embedding, title encoder and triplet loss:"},
    {OPT_STR, "text-model", F(text_model), .meta = "DIR",
     .help = "an avmask textlm model dir to start the title encoder from (its d is the\n"
             "embedding size; word units); default: a fresh one over the training titles'\n"
             "words or characters (--title-units)"},
    {OPT_ENUM, "title-units", F(title_chars), .def = "word", .values = "word|char",
     .help = "what a fresh title encoder reads: the titles' words, or their characters\n"
             "('|' between words), which also spell words never seen in training"},
    {OPT_INT, "embed-dim", F(embed_dim), .def = "64", .lo = 1, .hi = 1 << 16, .meta = "N",
     .help = "embedding size = a fresh title encoder's d"},
    {OPT_INT, "text-ffn", F(text_ffn), .def = "128", .lo = 1, .hi = 1 << 20, .help = "a fresh title encoder's feed-forward width"},
    {OPT_INT, "text-heads", F(text_heads), .def = "2", .lo = 1, .hi = 64, .help = "its attention heads"},
    {OPT_INT, "text-layers", F(text_layers), .def = "1", .lo = 1, .hi = 64, .help = "its layers"},
    {OPT_NUM, "title-weight", F(weight), .def = "1", .min = 0, .max = 1e6, .help = "weight of the title triplet loss"},
    {OPT_NUM, "margin", F(margin), .def = "0.5", .min = 0, .max = 2, .help = "triplet margin (unit vectors)"},
    FT_ROWS_RUN(ts_opts, ft.),
    FT_ROWS_OPTIM(ts_opts, ft.),
    FT_ROWS_REGULARISE(ts_opts, ft.),
    FT_ROWS_MODEL(ts_opts, ft.),
    FT_ROWS_HOOKS(ts_opts, ft.),
    {.type = OPT_END},
};

const avm_optspec ts_optspec = {
    "tinys2i",
    "usage: avmask tinys2i --init=DIR|none --feats=DIR --data=DIR --intents=FILE --out=DIR --max-steps=N [options]\n"
    "TinyS2I: a tiny audio encoder (fresh: d 64, ffn 256, 4 heads, 2 + 1 layers unless given),\n"
    "mean over time and a projection to an embedding; from it a 3-way decision (command,\n"
    "title, other = defer) and the fixed command, and for 'play [title]' a title encoder\n"
    "trained jointly by a triplet loss, so that decode can match the embedding against the\n"
    "titles of a menu never seen in training (avmask decode --menu=FILE). Writes OUT/model/,\n"
    "OUT/model-best/ (with --valid), OUT/checkpoint-last.h5, OUT/metrics.jsonl, OUT/train.log.\n"
    "Runs on MPI ranks like finetune (mpirun -np N).\n",
    table, NULL, NULL,
};

/* A fresh encoder's TinyS2I size where the options leave --model's. */
static void tiny_defaults(ts_run *r) {
    static const char *keys[][3] = {{"d", "d", "64"}, {"ffn", "ffn", "256"}, {"heads", "heads", "4"},
                                    {"layers-audio", "layers_audio", "2"}, {"layers-fusion", "layers_fusion", "1"}};
    if (strcmp(r->f.ft.init, "none") || opts_given(&r->o, "model")) return;
    for (int i = 0; i < 5; i++)
        if (!opts_given(&r->o, keys[i][0]) && avmodel_config_set(&r->cfg, keys[i][1], keys[i][2]))
            avm_die("tinys2i: %s", avm_error());
}

static void parse(ts_run *r, int argc, char **argv) {
    ts_opts *f = &r->f;
    opts_parse(&r->o, &ts_optspec, f, argc, argv);
    f->ft.cmd = "tinys2i";
    ft_opts_check(&f->ft, &r->o, &r->cfg);
    tiny_defaults(r);
    if (f->text_model && opts_given(&r->o, "embed-dim"))
        avm_die("tinys2i: --embed-dim comes from the text model with --text-model");
    if (f->text_model && f->title_chars)
        avm_die("tinys2i: --title-units=char needs a fresh title encoder (--text-model's vocabulary is words)");
}

/* A fresh title encoder: its vocabulary the training titles' words or characters. */
static void fresh_title_encoder(ts_run *r) {
    ts_model *m = &r->m;
    const avm_textset *t = &r->lb.titles;
    if (!t->n) avm_die("tinys2i: %s: no title utterance to build the title vocabulary from", r->f.ft.data);
    if (vocab_build(&m->vocab, t->text, t->n, 1, 1 << 20)) avm_die("tinys2i: %s", avm_error());
    avm_text_config c;
    textenc_config_default(&c);
    c.vocab = m->vocab.n;
    c.d = (int)r->f.embed_dim;
    c.ffn = (int)r->f.text_ffn;
    c.heads = (int)r->f.text_heads;
    c.layers = (int)r->f.text_layers;
    c.max_len = m->title_chars ? 48 : 16;   /* <cls> and a title of two or three words */
    c.dropout = c.attn_dropout = 0;
    c.mlm_head = 0;
    if (textenc_init(&m->tenc, &c, r->f.ft.seed)) avm_die("tinys2i: title encoder: %s", avm_error());
}

static void build(ts_run *r) {
    ts_model *m = &r->m;
    const ts_opts *f = &r->f;
    int Kc;
    if (intents_read(&m->intents, f->intents) || (Kc = ts_commands(m, f->intents)) < 0) avm_die("tinys2i: %s", avm_error());
    m->title_chars = f->title_chars;
    if (f->text_model && tl_model_load(f->text_model, &m->tenc, &m->vocab)) avm_die("tinys2i: %s", avm_error());
    r->init = ft_build_encoder(&m->enc, &m->config, &f->ft, &r->cfg);
    if (f->ft.dropout >= 0) m->enc.cfg.dropout = (float)f->ft.dropout;
    if (f->ft.attn_dropout >= 0) m->enc.cfg.attn_dropout = (float)f->ft.attn_dropout;
    ts_head_init(&m->head, m->enc.cfg.d, f->text_model ? m->tenc.cfg.d : (int)f->embed_dim, Kc, f->ft.seed);
    for (int k = 0; k < m->enc.params.n; k++) m->enc.params.p[k].frozen = f->ft.freeze_steps;
    ft_open_loader(&r->L, f->ft.feats, &m->enc, m->config, f->ft.batch_tokens, f->ft.seed, 1, "tinys2i");
    r->stack = r->L.feats.stack;
    ts_labels_read(&r->lb, &r->L.feats, f->ft.data, m);
    if (!f->text_model) fresh_title_encoder(r);
    textset_encode(&r->lb.titles, &m->vocab, m->tenc.cfg.max_len);
    if (f->ft.vfeats) {
        ft_open_loader(&r->VL, f->ft.vfeats, &m->enc, m->config, f->ft.batch_tokens, f->ft.seed, 0, "tinys2i");
        ts_labels_read(&r->vlb, &r->VL.feats, f->ft.vdata, m);
        textset_encode(&r->vlb.titles, &m->vocab, m->tenc.cfg.max_len);
    }
    avm_params *parts[3] = {&m->enc.params, &m->head.p, &m->tenc.params};
    params_join(&r->all, parts, 3);
}

static void titles_log(const ts_labels *lb, const char *what) {
    const avm_text_counts *c = &lb->titles.counts;
    avm_info("tinys2i: %s: %d utterances (%d command, %d title, %d other), %d distinct titles, %ld title tokens "
             "(words or characters), %ld outside the title vocabulary mapped to <unk>", what, lb->n, lb->count[0],
             lb->count[1], lb->count[2], lb->titles.n, c->words, c->unk);
}

static void info_lines(const ts_run *r) {
    const ts_model *m = &r->m;
    const ts_opts *f = &r->f;
    char sys[1024];
    size_t c[3];
    ts_param_counts(m, c);
    blas_kernel_describe(sys, sizeof sys, f->ft.threads);
    avm_info("tinys2i: %s", sys);
    avm_info("tinys2i: init %s, audio encoder d %d ffn %d heads %d layers %d + %d: %zu parameters; head (projection "
             "to %d, 3 decisions, %d commands) %zu; acoustic model %zu parameters (%zu bytes as float32)", r->init,
             m->enc.cfg.d, m->enc.cfg.ffn, m->enc.cfg.heads, m->enc.cfg.layers_audio, m->enc.cfg.layers_fusion, c[0],
             m->head.e, m->head.Kc, c[1], c[0] + c[1], 4 * (c[0] + c[1]));
    avm_info("tinys2i: title encoder (%s, %s) d %d ffn %d heads %d layers %d, vocabulary %d: %zu parameters; total %zu",
             f->text_model ? f->text_model : "fresh", m->title_chars ? "characters" : "words", m->tenc.cfg.d,
             m->tenc.cfg.ffn, m->tenc.cfg.heads, m->tenc.cfg.layers, m->vocab.n, c[2], c[0] + c[1] + c[2]);
    avm_info("tinys2i: title triplet weight %g, margin %g, negatives: another title of the global batch at random",
             f->weight, f->margin);
    titles_log(&r->lb, "training");
    if (f->ft.vfeats) titles_log(&r->vlb, "validation");
    avm_info("tinys2i: %d rank(s) x %d thread(s), %s at step %ld", r->t.dist.world, f->ft.threads,
             r->t.resumed ? "resuming" : "starting", r->t.step);
}

static void setup(ts_run *r, int argc, char **argv) {
    parse(r, argc, argv);
    ft_opts *f = &r->f.ft;
    f->threads = opts_threads(&r->o);
    build(r);
    r->run_json = ts_run_config(r);
    r->modeldir = path_join(f->out, "model");
    r->bestdir = path_join(f->out, "model-best");
    ft_trainer_start(&r->t, f, &r->all, &r->L, r->run_json, 1);
    if (trainer_is_root(&r->t)) info_lines(r);
}

int cmd_tinys2i(int argc, char **argv) {
    ts_run *r = xcalloc(1, sizeof *r);
    trainer_init(&r->t, &ts_task_ops, r, &argc, &argv);
    setup(r, argc, argv);
    trainer_run(&r->t);
    trainer_finish(&r->t);
    trainer_free(&r->t);
    ts_labels_free(&r->lb);
    if (r->f.ft.vfeats) { ts_labels_free(&r->vlb); loader_close(&r->VL); }
    loader_close(&r->L);
    ts_tbuf_free(&r->tb);
    ts_free(&r->m);
    params_free(&r->all);
    free(r->init); free(r->run_json); free(r->modeldir); free(r->bestdir);
    avm_log_close();
    opts_free(&r->o);
    free(r);
    return 0;
}
