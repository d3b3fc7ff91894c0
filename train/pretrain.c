/* avmask pretrain: the data, the model and the masked-prediction task on the shared
 * training loop (train/trainer.h; see train/README.md). */
#include "common/util.h"
#include "train/metrics.h"
#include "train/pretrain.h"
#include "train/trainer.h"
#include "models/blas_kernel.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    avm_trainer t;          /* the shared loop: optimiser, checkpoints, metrics, MPI */
    avm_opts o;             /* owns the option strings po points to */
    avm_pretrain_opts po;
    avm_stepper s;
    avm_loader train, valid;
    avm_noise noise;
    int has_valid;
    char *cfg_json, *best;
    avm_step_stats st;      /* the last training step's */
    double toks, rate;      /* input tokens since the last log line; tokens/s at that line */
} run;

static int is_root(const run *r) { return trainer_is_root(&r->t); }
static int clusters(const run *r) { return r->po.model.target == AVM_TARGET_CLUSTERS; }

/* The model's input sizes come from the features; an explicit conflicting value is an error. */
static void match_features(run *r) {
    avm_pretrain_opts *po = &r->po;
    const avm_feats *f = &r->train.feats;
    int a = f->stack * f->n_mels, v = f->has_video ? f->height * f->width : po->model.video_in;
    if (po->model_in_set[0] && po->model.audio_in != a)
        avm_die("pretrain: --audio-in=%d but %s has %d mel bins (%d per token)", po->model.audio_in, po->feats, f->n_mels, a);
    if (po->model_in_set[1] && po->model.modalities == AVM_MOD_AV && po->model.video_in != v)
        avm_die("pretrain: --video-in=%d but %s has %dx%d frames", po->model.video_in, po->feats, f->height, f->width);
    po->model.audio_in = a;
    po->model.video_in = v;
    if (avmodel_config_check(&po->model)) avm_die("pretrain: %s", avm_error());
}

static void open_data(run *r) {
    avm_pretrain_opts *po = &r->po;
    int av = po->model.modalities == AVM_MOD_AV;
    if (loader_open(&r->train, po->feats, po->feats, av, po->max_len, po->batch_tokens, po->seed, 1,
                    po->max_open_shards))
        avm_die("pretrain: %s", avm_error());
    if (!po->valid) return;
    if (loader_open(&r->valid, po->valid, po->feats, av, po->max_len, po->batch_tokens, po->seed, 0,
                    po->max_open_shards))
        avm_die("pretrain: --valid: %s", avm_error());
    const avm_feats *a = &r->train.feats, *b = &r->valid.feats;
    if (a->n_mels != b->n_mels || a->stack != b->stack || (av && (a->height != b->height || a->width != b->width)))
        avm_die("pretrain: %s (%d mels x %d frames per token, %dx%d video) and %s (%d mels x %d, %dx%d video) do not match",
                po->feats, a->n_mels, a->stack, a->height, a->width, po->valid, b->n_mels, b->stack, b->height, b->width);
    r->has_valid = 1;
}

static void open_noise(run *r) {
    const avm_pretrain_opts *po = &r->po;
    if (!po->noise_feats) return;
    if (noise_open(&r->noise, po->noise_feats, &r->train, po->noise_prob, po->noise_snr[0], po->noise_snr[1],
                   po->seed, po->max_open_shards))
        avm_die("pretrain: --noise-feats: %s", avm_error());
    r->s.noise = &r->noise;
}

/* The model config stored in a checkpoint, as the JSON text the current code writes. */
static char *stored_model_json(const char *path, const avm_ckpt_meta *m) {
    json_value *v = json_parse(m->config_json);
    avm_config c;
    avmodel_config_named(&c, "tiny");
    if (!v || avmodel_config_from_json(&c, json_get(v, "model")))
        avm_die("pretrain: %s: stored configuration unreadable: %s", path, avm_error());
    json_free(v);
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    avmodel_config_json(&c, &w);
    return b.s;
}

static char *model_json(const avm_config *c) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    avmodel_config_json(c, &w);
    return b.s;
}

/* An existing checkpoint: the target kind and the architecture must be this run's. */
static void check_resume(avm_trainer *t, const char *path, const avm_ckpt_meta *meta) {
    run *r = t->task;
    targets_check_resume(&r->po, path, meta->config_json);
    char *mine = model_json(&r->po.model), *theirs = stored_model_json(path, meta);
    if (strcmp(mine, theirs))
        avm_die("pretrain: %s holds a checkpoint of a different architecture (%s; this run: %s); "
                "use another --out", path, theirs, mine);
    free(mine); free(theirs);
}

/* What the shared loop needs of the options. */
static void train_opts(avm_train_opts *o, const avm_pretrain_opts *po) {
    avm_train_opts x = {.name = "pretrain", .out = po->out, .max_steps = po->max_steps, .log_every = po->log_every,
                        .valid_every = po->valid_every, .save_every = po->save_every, .sched = po->sched,
                        .beta1 = po->beta1, .beta2 = po->beta2, .eps = po->eps, .weight_decay = po->weight_decay,
                        .clip = po->clip, .seed = po->seed, .resume = po->resume, .threads = po->threads,
                        .valid_at_start = 1, .dump_grad = po->dump_grad, .kill_step = po->kill_step,
                        .nan_step = po->nan_step};
    *o = x;
}

/* Forward + backward of this rank's slice; nothing masked in the whole batch: no update. */
static int task_step(avm_trainer *t, avm_batch_data *d, long step, double *loss) {
    run *r = t->task;
    if (step_train(&r->s, &r->po, d, step, &r->st)) return -1;
    r->toks += r->st.tokens;
    *loss = stats_loss(&r->st);
    if (r->st.n_audio + r->st.n_video > 0) return 1;
    *loss = 0;
    if (is_root(r)) avm_warn("step %ld: no masked token in the batch; update skipped", step + 1);
    return 0;
}

static void task_log(avm_trainer *t, const avm_step_log *l) {
    run *r = t->task;
    const avm_step_stats *st = &r->st;
    avm_train_metrics m = {l->step, l->loss, stats_audio(st), stats_video(st), l->lr, l->grad_norm,
                           r->toks / fmax(l->interval, 1e-9), l->seconds, clusters(r) ? stats_acc(st) : NAN,
                           r->po.novideo_pass ? stats_audio_novideo(st) : NAN};
    metrics_train(t->metrics, &m);
    char what[96];
    int n = clusters(r) ? snprintf(what, sizeof what, "acc %.4f", m.acc_audio)
                        : snprintf(what, sizeof what, "audio %.6f video %.6f", m.loss_audio, m.loss_video);
    if (r->po.novideo_pass) snprintf(what + n, sizeof what - n, " audio_novideo %.6f", m.loss_audio_novideo);
    avm_logonly("step %ld: loss %.6f %s lr %.3e grad_norm %.4f tokens/s %.0f "
                "peak_rss_kb %ld", l->step, l->loss, what, l->lr, l->grad_norm, m.tokens_per_s, peak_rss_kb());
    r->rate = m.tokens_per_s;
    r->toks = 0;
}

static void task_progress(avm_trainer *t, char *buf, size_t n, double loss, double lr) {
    run *r = t->task;
    if (clusters(r))
        snprintf(buf, n, "step %ld loss %.4f acc %.3f lr %.2e %.0f tok/s", t->step, loss, stats_acc(&r->st), lr, r->rate);
    else
        snprintf(buf, n, "step %ld loss %.4f lr %.2e %.0f tok/s", t->step, loss, lr, r->rate);
}

static int task_validate(avm_trainer *t, double score[2]) {
    run *r = t->task;
    avm_step_stats st;
    if (step_validate(&r->s, &r->po, &r->valid, &t->d, &st)) return -1;
    double la = stats_audio(&st), lv = stats_video(&st), loss = la + (isnan(lv) ? 0 : lv);
    if (!isfinite(loss)) trainer_stop(t, "the validation loss", loss);
    double lan = stats_audio_novideo(&st), las = stats_audio_shuffled(&st);
    if (is_root(r)) {
        avm_valid_metrics vm = {t->step, loss, la, lv, lan, las, clusters(r) ? stats_acc(&st) : NAN};
        metrics_valid(t->metrics, &vm);
        char what[96];
        if (clusters(r)) snprintf(what, sizeof what, "cross-entropy %.6f, masked accuracy %.4f", la, vm.acc_audio);
        else snprintf(what, sizeof what, "audio %.6f video %.6f", la, lv);
        if (isnan(lan))
            avm_logonly("step %ld: valid_loss %.6f (%s)", t->step, loss, what);
        else
            avm_logonly("step %ld: valid_loss %.6f (%s); masked audio with the video "
                        "shuffled %.6f, dropped %.6f: video gain %+.1f %% / %+.1f %%", t->step, loss, what,
                        las, lan, 100 * video_gain(la, las), 100 * video_gain(la, lan));
    }
    score[0] = loss;
    score[1] = 0;
    return 0;
}

static int task_save_best(avm_trainer *t) {
    run *r = t->task;
    trainer_save(t, r->best);
    return 0;
}

static void task_end(avm_trainer *t, avm_progress *p, double last_loss) {
    (void)last_loss;
    progress_end(p, "pretrain: %ld steps, checkpoint %s, peak RSS %ld MB", t->step, t->last, peak_rss_kb() / 1024);
}

static const avm_task_ops pretrain_ops = {task_step, task_log, task_progress, task_validate, task_save_best,
                                          check_resume, task_end, NULL, NULL};

static void info_lines(run *r) {
    avm_pretrain_opts *po = &r->po;
    if (r->s.noise)
        avm_info("pretrain: noise %s: %d utterances, mixed into %g of the training samples at %g..%g dB SNR",
                 po->noise_feats, r->noise.feats.n, po->noise_prob, po->noise_snr[0], po->noise_snr[1]);
    char sys[1024];
    blas_kernel_describe(sys, sizeof sys, po->threads);
    avm_info("pretrain: %s", sys);
    avm_info("pretrain: %s %d utterances, %d batches per epoch, %zu parameters, %d rank(s) x %d thread(s), %s at step %ld",
             po->feats, r->train.feats.n, r->train.nbatch, r->s.model.params.total, r->t.dist.world,
             po->threads, r->t.resumed ? "resuming" : "starting", r->t.step);
}

static void setup(run *r) {
    avm_pretrain_opts *po = &r->po;
    open_data(r);
    targets_open(po, &r->train, r->has_valid ? &r->valid : NULL);
    open_noise(r);
    match_features(r);
    train_opts(&r->t.o, po);
    r->best = path_join(po->out, "checkpoint-best.h5");
    int have = trainer_check_out(&r->t);
    if (avmodel_init(&r->s.model, &po->model, po->seed)) avm_die("pretrain: %s", avm_error());
    r->cfg_json = pretrain_config_json(po, &r->train.feats);
    r->t.params = &r->s.model.params;
    r->t.train = &r->train;
    r->t.has_valid = r->has_valid;
    r->t.config_json = r->cfg_json;
    trainer_start(&r->t, have);
    if (is_root(r)) {
        char *cp = path_join(po->out, "config.json");
        if (write_file_atomic(cp, r->cfg_json, strlen(r->cfg_json))) avm_die("pretrain: %s", avm_error());
        free(cp);
        info_lines(r);
    }
}

int cmd_pretrain(int argc, char **argv) {
    run *r = xcalloc(1, sizeof *r);
    trainer_init(&r->t, &pretrain_ops, r, &argc, &argv);
    pretrain_parse(&r->po, &r->o, argc, argv);
    r->s.dist = r->t.dist;
    setup(r);
    trainer_run(&r->t);
    trainer_finish(&r->t);
    stepper_free(&r->s);
    trainer_free(&r->t);
    loader_close(&r->train);
    if (r->has_valid) loader_close(&r->valid);
    if (r->s.noise) noise_close(&r->noise);
    free(r->cfg_json); free(r->best); free(r->po.codebook_hash);
    opts_free(&r->o);
    avm_log_close();
    free(r);
    return 0;
}
