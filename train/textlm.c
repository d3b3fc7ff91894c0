/* avmask textlm: the option table, setup and the command (see textlm.h). */
#include "train/textlm.h"
#include "common/log.h"
#include "common/util.h"
#include "models/blas_kernel.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { TRAIN = 1, EMBED = 2 };   /* modes */
#define F(f) OPT_FIELD(tl_opts, f)
#define MODEL_INT(NAME, FIELD, DEF, HELP) \
    {OPT_INT, NAME, F(model.FIELD), .def = DEF, .lo = 1, .hi = 1 << 16, .modes = TRAIN, .help = HELP}
static const avm_optdef table[] = {
    {OPT_TEXT, .help = "modes (none: train):"},
    {OPT_FLAG, "embed", F(embed), .help = "one sentence embedding per sentence of --input with --model -> --out (HDF5)"},
    {OPT_TEXT, .help = "data:"},
    {OPT_STR, "text", F(text), .meta = "FILE[,FILE...]", .flags = OPT_REQ, .modes = TRAIN,
     .help = "training sentences (e.g. recipes/steps/text_corpus.sh's output\n"
             "and the command corpus' text_corpus.txt)"},
    {OPT_STR, "valid-text", F(valid_text), .meta = "FILE[,FILE...]", .modes = TRAIN,
     .help = "validation sentences (default: none)"},
    {OPT_ENUM, "format", F(format), .def = "lines", .values = "lines|kaldi",
     .help = "lines: one sentence per line; kaldi: '<utt-id> <words...>' (a data dir's text)"},
    {OPT_STR, "out", F(out), .meta = "DIR|FILE", .flags = OPT_REQ,
     .help = "train: the run's directory; --embed: the HDF5 file to write"},
    {OPT_TEXT, .help = "vocabulary (built from --text unless --vocab is given; <pad> <unk> <mask> <cls> first):"},
    {OPT_INT, "min-count", F(min_count), .def = "2", .lo = 1, .hi = 1 << 30, .modes = TRAIN,
     .help = "a word needs this many occurrences"},
    {OPT_INT, "max-vocab", F(max_vocab), .def = "10000", .lo = 5, .hi = 1 << 22, .modes = TRAIN,
     .help = "at most this many tokens, specials included (most frequent words)"},
    {OPT_STR, "vocab", F(vocab_file), .meta = "FILE", .modes = TRAIN, .help = "a fixed vocab.txt instead"},
    {OPT_TEXT, .help = "model (models/textenc.h; BERT-tiny's size by default):"},
    MODEL_INT("d", d, "128", "width"),
    MODEL_INT("ffn", ffn, "512", "feed-forward width"),
    MODEL_INT("heads", heads, "4", "attention heads"),
    MODEL_INT("layers", layers, "2", "encoder layers"),
    {OPT_INT, "max-len", F(model.max_len), .def = "64", .lo = 2, .hi = 1 << 16, .modes = TRAIN,
     .help = "tokens per sentence, <cls> included (longer ones are cut, counted in the log)"},
    {OPT_NUM, "dropout", F(model.dropout), .def = "0.1", .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .modes = TRAIN,
     .help = "dropout in the layers"},
    {OPT_NUM, "attn-dropout", F(model.attn_dropout), .def = "0.1", .min = 0, .max = 1, .flags = OPT_MAX_OPEN,
     .modes = TRAIN, .help = "dropout on the attention weights"},
    {OPT_NUM, "mask-prob", F(mask_prob), .def = "0.15", .min = 0, .max = 1, .flags = OPT_MIN_OPEN | OPT_MAX_OPEN,
     .modes = TRAIN, .help = "BERT: this fraction of each sentence's words is predicted (at least one),\n"
                             "80 % shown as <mask>, 10 % as a random word, 10 % unchanged"},
    {OPT_NUM, "contrastive", F(contrastive), .def = "1", .min = 0, .max = 1000, .modes = TRAIN,
     .help = "weight of the contrastive term (SimCSE with the triplet loss: two dropout\n"
             "views of each sentence, the hardest other sentence as negative), which keeps the\n"
             "mean-pooled embeddings apart (MLM alone makes them all alike); 0: MLM only"},
    {OPT_NUM, "margin", F(margin), .def = "1", .min = 0, .max = 2, .modes = TRAIN,
     .help = "its triplet margin (distances of unit vectors, in [0, 2])"},
    {OPT_TEXT, .help = "run:"},
    {OPT_INT, "max-steps", F(max_steps), .lo = 0, .hi = 100000000, .flags = OPT_REQ, .modes = TRAIN,
     .help = "optimiser updates (0: write the initialised model, an untrained baseline)"},
    {OPT_INT, "batch-tokens", F(batch_tokens), .def = "2048", .lo = 1, .hi = 1000000000,
     .help = "sentences x padded tokens per batch"},
    {OPT_INT, "seed", F(seed), .def = "1", .lo = 0, .hi = 1L << 62, .modes = TRAIN,
     .help = "initialisation, batches, masks, dropout"},
    OPT_THREADS("OpenMP and OpenBLAS threads (default: all cores or OMP_NUM_THREADS)"),
    {OPT_INT, "log-every", F(log_every), .def = "10", .lo = 1, .hi = 1000000000, .modes = TRAIN,
     .help = "steps between log lines"},
    {OPT_INT, "valid-every", F(valid_every), .def = "200", .lo = 1, .hi = 1000000000, .modes = TRAIN,
     .help = "steps between validations"},
    {OPT_INT, "save-every", F(save_every), .def = "500", .lo = 1, .hi = 1000000000, .modes = TRAIN,
     .help = "steps between checkpoints (OUT/checkpoint-last.h5; also at the end)"},
    {OPT_FLAG, "resume", F(resume), .modes = TRAIN, .help = "continue from OUT/checkpoint-last.h5"},
    {OPT_TEXT, .help = "optim (AdamW, betas 0.9/0.98):"},
    {OPT_NUM, "lr", F(sched.peak), .def = "1e-3", .min = 0, .max = INFINITY, .flags = OPT_MIN_OPEN, .modes = TRAIN,
     .help = "peak learning rate"},
    {OPT_INT, "warmup", F(sched.warmup), .def = "200", .lo = 0, .hi = 1000000000, .modes = TRAIN,
     .help = "steps of linear warm-up (at most --max-steps)"},
    {OPT_ENUM, "schedule", F(schedule), .def = "cosine", .values = "cosine|linear|constant", .modes = TRAIN,
     .help = "decay after warm-up"},
    {OPT_NUM, "final-lr-ratio", F(sched.final_ratio), .def = "0.05", .min = 0, .max = 1, .modes = TRAIN,
     .help = "last lr / peak lr"},
    {OPT_NUM, "weight-decay", F(weight_decay), .def = "0.01", .min = 0, .max = INFINITY, .modes = TRAIN,
     .help = "AdamW, decoupled (weight matrices only)"},
    {OPT_NUM, "clip", F(clip), .def = "1", .min = 0, .max = INFINITY, .modes = TRAIN,
     .help = "global gradient-norm clip (0: off)"},
    {OPT_TEXT, .help = "--embed:"},
    {OPT_STR, "model", F(model_dir), .meta = "DIR", .flags = OPT_REQ, .modes = EMBED,
     .help = "a model dir of avmask textlm (OUT/model or OUT/model-best)"},
    {OPT_STR, "input", F(input), .meta = "FILE", .flags = OPT_REQ, .modes = EMBED, .help = "the sentences (--format)"},
    {OPT_TEXT, .help = "test hooks:"},
    {OPT_INT, "debug-nan-step", F(nan_step), .def = "0", .modes = TRAIN, .help = "a NaN gradient at this step (0: never)"},
    {OPT_INT, "debug-kill-step", F(kill_step), .def = "0", .modes = TRAIN, .help = "SIGKILL after this step (0: never)"},
    {OPT_STR, "dump-grad", F(dump_grad), .meta = "FILE", .modes = TRAIN,
     .help = "the first step's summed gradient, raw float32 in view order"},
    {.type = OPT_END},
};

const avm_optspec textlm_optspec = {
    "textlm",
    "usage: avmask textlm --text=FILE[,FILE...] --out=DIR --max-steps=N [--valid-text=FILE] [options]\n"
    "       avmask textlm --embed --model=DIR --input=FILE --out=FILE.h5 [--format=lines|kaldi]\n"
    "The text encoder, avmask's stand-in for BERT: a small transformer (the audio encoder's\n"
    "layers) over a word vocabulary, trained by masked-language modelling on the shared training\n"
    "core. Training writes OUT/model/ (the last step), OUT/model-best/ (lowest validation loss,\n"
    "with --valid-text), OUT/checkpoint-last.h5, OUT/metrics.jsonl and OUT/train.log; MPI ranks\n"
    "as pretrain. --embed writes /embeddings [n, d] (the mean of the final layer over each\n"
    "sentence's tokens) and /ids (utt-ids, or line numbers) to --out.\n",
    table, NULL, "train|embed",
};

/* Reads every file of a comma-separated list into s (dies with one line). */
static void read_texts(avm_textset *s, const char *list, avm_text_format fmt) {
    char *copy = xstrdup(list), *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
        if (textset_read(s, p, fmt, 0)) avm_die("textlm: %s", avm_error());
    if (!s->n) avm_die("textlm: %s: no sentence", list);
    free(copy);
}

static void log_counts(const char *what, const avm_textset *s) {
    const avm_text_counts *c = &s->counts;
    avm_info("textlm: %s: %ld sentences, %ld words, %ld (%.2f %%) outside the vocabulary mapped to <unk>, %ld cut at "
             "max_len", what, c->sentences, c->words, c->unk, c->words ? 100.0 * c->unk / c->words : 0.0, c->cut);
}

static void open_data(tl_run *r) {
    tl_opts *f = &r->f;
    read_texts(&r->train, f->text, f->format);
    int rc = f->vocab_file ? vocab_read(&r->vocab, f->vocab_file)
                           : vocab_build(&r->vocab, r->train.text, r->train.n, f->min_count, f->max_vocab);
    if (rc) avm_die("textlm: %s", avm_error());
    f->model.vocab = r->vocab.n;
    textset_encode(&r->train, &r->vocab, f->model.max_len);
    textloader_open(&r->L, &r->train, f->batch_tokens, f->seed, 1);
    if (!f->valid_text) return;
    read_texts(&r->valid, f->valid_text, f->format);
    textset_encode(&r->valid, &r->vocab, f->model.max_len);
    textloader_open(&r->VL, &r->valid, f->batch_tokens, f->seed, 0);
}

/* What the shared loop needs of the options (AdamW: betas 0.9/0.98, eps 1e-8). */
static void train_opts(avm_train_opts *o, const tl_opts *f) {
    avm_train_opts x = {.name = "textlm", .out = f->out, .max_steps = f->max_steps, .log_every = f->log_every,
                        .valid_every = f->valid_every, .save_every = f->save_every, .sched = f->sched,
                        .beta1 = 0.9, .beta2 = 0.98, .eps = 1e-8, .weight_decay = f->weight_decay,
                        .clip = f->clip, .seed = f->seed, .resume = f->resume, .threads = f->threads,
                        .valid_at_start = 1, .dump_grad = f->dump_grad, .kill_step = f->kill_step,
                        .nan_step = f->nan_step};
    *o = x;
}

static void info_lines(const tl_run *r) {
    const tl_opts *f = &r->f;
    char sys[1024];
    blas_kernel_describe(sys, sizeof sys, f->threads);
    avm_info("textlm: %s", sys);
    avm_info("textlm: vocabulary of %d tokens (%s), %zu parameters (d %d, %d layers), %d rank(s) x %d thread(s), %s "
             "at step %ld", r->vocab.n, f->vocab_file ? f->vocab_file : "built from --text", r->m.params.total,
             r->m.cfg.d, r->m.cfg.layers, r->t.dist.world, f->threads, r->t.resumed ? "resuming" : "starting", r->t.step);
    log_counts("training text", &r->train);
    if (f->valid_text) log_counts("validation text", &r->valid);
}

static void setup(tl_run *r) {
    tl_opts *f = &r->f;
    f->threads = opts_threads(&r->o);
    if (f->sched.warmup > f->max_steps) f->sched.warmup = f->max_steps;
    f->sched.total = f->max_steps > 0 ? f->max_steps : 1;
    if (sched_parse_kind(f->schedule, &f->sched.kind) || sched_check(&f->sched)) avm_die("textlm: %s", avm_error());
    open_data(r);
    f->model.mlm_head = 1;
    if (textenc_init(&r->m, &f->model, f->seed)) avm_die("textlm: %s", avm_error());
    r->run_json = tl_run_config(r);
    r->modeldir = path_join(f->out, "model");
    r->bestdir = path_join(f->out, "model-best");
    train_opts(&r->t.o, f);
    r->t.params = &r->m.params;
    r->t.train = NULL;   /* batches of the task's own (tl_task_ops plan, get) */
    r->t.has_valid = f->valid_text != NULL;
    r->t.config_json = r->run_json;
    int have = trainer_check_out(&r->t);
    trainer_start(&r->t, have);
    if (trainer_is_root(&r->t)) info_lines(r);
}

static int train(tl_run *r) {
    setup(r);
    trainer_run(&r->t);
    trainer_finish(&r->t);
    trainer_free(&r->t);
    textbatch_free(&r->batch);
    textloader_close(&r->L);
    textset_free(&r->train);
    if (r->f.valid_text) { textloader_close(&r->VL); textset_free(&r->valid); }
    textenc_free(&r->m);
    vocab_free(&r->vocab);
    tl_views *v = &r->v;
    free(v->ids); free(v->len); free(v->pool); free(v->dpool); free(v->an); free(v->pn); free(v->st); free(v->neg);
    free(r->inp); free(r->tgt); free(r->run_json); free(r->modeldir); free(r->bestdir);
    avm_log_close();
    return 0;
}

int cmd_textlm(int argc, char **argv) {
    tl_run *r = xcalloc(1, sizeof *r);
    trainer_init(&r->t, &tl_task_ops, r, &argc, &argv);
    opts_parse(&r->o, &textlm_optspec, &r->f, argc, argv);
    int rc;
    if (r->f.embed) {
        r->f.threads = opts_threads(&r->o);
        rc = tl_embed(&r->f);
        trainer_finish(&r->t);
    } else {
        rc = train(r);
    }
    opts_free(&r->o);
    free(r);
    return rc;
}
