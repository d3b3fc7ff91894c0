/* avmask pretrain: the training loop (see train/README.md). */
#include "common/progress.h"
#include "common/util.h"
#include "train/checkpoint.h"
#include "train/clip.h"
#include "train/metrics.h"
#include "train/pretrain.h"
#include "models/blas_kernel.h"
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    avm_opts o;             /* owns the option strings po points to */
    avm_pretrain_opts po;
    avm_stepper s;
    avm_adamw opt;
    avm_loader train, valid;
    avm_noise noise;
    int has_valid;
    avm_batch_data d;
    char *cfg_json, *last, *best;
    long step, epoch, epoch_pos;
    double best_valid, seconds;     /* seconds: training wall time over all runs */
    FILE *metrics;
} run;

static int is_root(const run *r) { return r->s.dist.rank == 0; }
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

/* An existing checkpoint: refused without --resume; with it, the architecture must match. */
static void check_out_dir(run *r, avm_ckpt_meta *meta, int *have) {
    *have = 0;
    if (!file_exists(r->last)) return;
    if (ckpt_read_meta(r->last, meta)) avm_die("pretrain: %s", avm_error());
    targets_check_resume(&r->po, r->last, meta->config_json);
    char *mine = model_json(&r->po.model), *theirs = stored_model_json(r->last, meta);
    int same = !strcmp(mine, theirs);
    if (!same)
        avm_die("pretrain: %s holds a checkpoint of a different architecture (%s; this run: %s); "
                "use another --out", r->last, theirs, mine);
    free(mine); free(theirs);
    if (!r->po.resume)
        avm_die("pretrain: %s exists (step %ld); pass --resume to continue it or use another --out",
                r->last, meta->step);
    *have = 1;
}

static void save(run *r, const char *path) {
    if (!is_root(r)) return;
    avm_ckpt_meta m = {r->step, r->epoch, r->epoch_pos, r->po.seed, r->best_valid, r->cfg_json, r->seconds, 0};
    if (ckpt_save(path, &r->s.model.params, &r->opt, &m)) avm_die("pretrain: %s", avm_error());
}

static void setup(run *r, int argc, char **argv) {
    avm_pretrain_opts *po = &r->po;
    pretrain_parse(po, &r->o, argc, argv);
    open_data(r);
    targets_open(po, &r->train, r->has_valid ? &r->valid : NULL);
    open_noise(r);
    match_features(r);
    r->last = path_join(po->out, "checkpoint-last.h5");
    r->best = path_join(po->out, "checkpoint-best.h5");
    avm_ckpt_meta meta = {0};
    int have;
    check_out_dir(r, &meta, &have);
    if (avmodel_init(&r->s.model, &po->model, po->seed)) avm_die("pretrain: %s", avm_error());
    adamw_init(&r->opt, &r->s.model.params, po->beta1, po->beta2, po->eps, po->weight_decay);
    r->cfg_json = pretrain_config_json(po, &r->train.feats);
    r->best_valid = INFINITY;
    if (have) {
        ckpt_meta_free(&meta);
        if (ckpt_load(r->last, &r->s.model.params, &r->opt, &meta)) avm_die("pretrain: %s", avm_error());
        r->step = meta.step;
        r->epoch = meta.epoch;
        r->epoch_pos = meta.epoch_pos;
        r->best_valid = meta.best_valid;
        r->seconds = meta.seconds;
        if (meta.seed != po->seed)
            avm_die("pretrain: %s was trained with --seed=%llu, not %llu", r->last,
                    (unsigned long long)meta.seed, (unsigned long long)po->seed);
        ckpt_meta_free(&meta);
    }
    if (is_root(r)) {
        if (mkdir_p(po->out)) avm_die("pretrain: %s", avm_error());
        char *lp = path_join(po->out, "train.log"), *cp = path_join(po->out, "config.json"),
             *mp = path_join(po->out, "metrics.jsonl");
        if (avm_log_open(lp)) avm_die("pretrain: %s", avm_error());
        if (write_file_atomic(cp, r->cfg_json, strlen(r->cfg_json))) avm_die("pretrain: %s", avm_error());
        r->metrics = metrics_open(mp, have ? r->step : -1);
        if (!r->metrics) avm_die("pretrain: %s", avm_error());
        free(lp); free(cp); free(mp);
    }
    loader_plan(&r->train, r->epoch);
    if (is_root(r) && r->s.noise)
        avm_info("pretrain: noise %s: %d utterances, mixed into %g of the training samples at %g..%g dB SNR",
                 po->noise_feats, r->noise.feats.n, po->noise_prob, po->noise_snr[0], po->noise_snr[1]);
    if (is_root(r)) {
        char sys[1024];
        blas_kernel_describe(sys, sizeof sys, po->threads);
        avm_info("pretrain: %s", sys);
    }
    if (is_root(r))
        avm_info("pretrain: %s %d utterances, %d batches per epoch, %zu parameters, %d rank(s) x %d thread(s), %s at step %ld",
                 po->feats, r->train.feats.n, r->train.nbatch, r->s.model.params.total, r->s.dist.world,
                 po->threads, have ? "resuming" : "starting", r->step);
}

static void dump_grad(const run *r) {
    if (!is_root(r)) return;
    const avm_params *ps = &r->s.model.params;
    FILE *f = fopen(r->po.dump_grad, "wb");
    if (!f) avm_die("pretrain: %s: cannot write", r->po.dump_grad);
    for (int k = 0; k < ps->n; k++) fwrite(ps->grad + ps->p[k].offset, sizeof(float), ps->p[k].numel, f);
    if (fclose(f)) avm_die("pretrain: %s: write failed", r->po.dump_grad);
}

static void stop_bad(run *r, const char *what, double v) {
    avm_die("pretrain: step %ld: %s is %g; stopped (last good checkpoint %s%s)", r->step + 1, what, v,
            r->last, file_exists(r->last) ? "" : ": none written yet");
}

static void validate(run *r) {
    avm_step_stats st;
    if (step_validate(&r->s, &r->po, &r->valid, &r->d, &st)) avm_die("pretrain: validation: %s", avm_error());
    double la = stats_audio(&st), lv = stats_video(&st), loss = la + (isnan(lv) ? 0 : lv);
    if (!isfinite(loss)) stop_bad(r, "the validation loss", loss);
    double lan = stats_audio_novideo(&st), las = stats_audio_shuffled(&st);
    if (is_root(r)) {
        avm_valid_metrics vm = {r->step, loss, la, lv, lan, las, clusters(r) ? stats_acc(&st) : NAN};
        metrics_valid(r->metrics, &vm);
        char what[96];
        if (clusters(r)) snprintf(what, sizeof what, "cross-entropy %.6f, masked accuracy %.4f", la, vm.acc_audio);
        else snprintf(what, sizeof what, "audio %.6f video %.6f", la, lv);
        if (isnan(lan))
            avm_logonly("step %ld: valid_loss %.6f (%s)", r->step, loss, what);
        else
            avm_logonly("step %ld: valid_loss %.6f (%s); masked audio with the video "
                        "shuffled %.6f, dropped %.6f: video gain %+.1f %% / %+.1f %%", r->step, loss, what,
                        las, lan, 100 * video_gain(la, las), 100 * video_gain(la, lan));
    }
    if (loss < r->best_valid) {
        r->best_valid = loss;
        save(r, r->best);
    }
}

static void loop(run *r) {
    avm_pretrain_opts *po = &r->po;
    avm_progress prog;
    long start = r->step;
    double t0 = now_sec() - r->seconds, tlog = now_sec(), toks = 0, rate = 0;
    if (is_root(r)) progress_start(&prog, "pretrain", (double)(po->max_steps - start));
    if (r->has_valid && r->step == 0) validate(r);   /* the untrained baseline of the curve */
    while (r->step < po->max_steps) {
        if (r->epoch_pos >= r->train.nbatch) { r->epoch++; r->epoch_pos = 0; loader_plan(&r->train, r->epoch); }
        if (loader_get(&r->train, (int)r->epoch_pos, r->s.dist.rank, r->s.dist.world, &r->d))
            avm_die("pretrain: %s", avm_error());
        avm_step_stats st;
        if (step_train(&r->s, po, &r->d, r->step, &st)) avm_die("pretrain: step %ld: %s", r->step + 1, avm_error());
        if (po->nan_step == r->step + 1) r->s.model.params.grad[r->s.model.params.p[0].offset] = NAN;
        double loss = stats_loss(&st);
        if (isnan(loss) && st.n_audio + st.n_video == 0) loss = 0;   /* nothing masked: no update */
        if (!isfinite(loss)) stop_bad(r, "the loss", loss);
        if (po->dump_grad && r->step == start) dump_grad(r);
        double norm = grad_norm(r->s.model.params.grad, r->s.model.params.total);
        if (!isfinite(norm)) stop_bad(r, "the gradient norm", norm);
        double lr = sched_lr(&po->sched, r->step);
        /* clipping and AdamW in one pass over the buffers */
        if (st.n_audio + st.n_video > 0) adamw_step_scaled(&r->opt, &r->s.model.params, lr, clip_coef(norm, po->clip));
        else if (is_root(r)) avm_warn("step %ld: no masked token in the batch; update skipped", r->step + 1);
        r->step++;
        r->epoch_pos++;
        toks += st.tokens;
        if (is_root(r) && (r->step % po->log_every == 0 || r->step == po->max_steps)) {
            double now = now_sec();
            avm_train_metrics m = {r->step, loss, stats_audio(&st), stats_video(&st), lr, norm,
                                   toks / fmax(now - tlog, 1e-9), now - t0, clusters(r) ? stats_acc(&st) : NAN};
            metrics_train(r->metrics, &m);
            char what[64];
            if (clusters(r)) snprintf(what, sizeof what, "acc %.4f", m.acc_audio);
            else snprintf(what, sizeof what, "audio %.6f video %.6f", m.loss_audio, m.loss_video);
            avm_logonly("step %ld: loss %.6f %s lr %.3e grad_norm %.4f tokens/s %.0f "
                        "peak_rss_kb %ld", r->step, loss, what, lr, norm, m.tokens_per_s, peak_rss_kb());
            rate = m.tokens_per_s;
            tlog = now;
            toks = 0;
        }
        r->seconds = now_sec() - t0;
        if (is_root(r) && clusters(r))
            progress_update(&prog, (double)(r->step - start), "step %ld loss %.4f acc %.3f lr %.2e %.0f tok/s",
                            r->step, loss, stats_acc(&st), lr, rate);
        else if (is_root(r))
            progress_update(&prog, (double)(r->step - start), "step %ld loss %.4f lr %.2e %.0f tok/s", r->step,
                            loss, lr, rate);
        if (r->has_valid && (r->step % po->valid_every == 0 || r->step == po->max_steps)) validate(r);
        if (r->step % po->save_every == 0 || r->step == po->max_steps) save(r, r->last);
        if (po->kill_step == r->step) raise(SIGKILL);
    }
    if (is_root(r))
        progress_end(&prog, "pretrain: %ld steps, checkpoint %s, peak RSS %ld MB", r->step, r->last,
                     peak_rss_kb() / 1024);
}

int cmd_pretrain(int argc, char **argv) {
    run *r = xcalloc(1, sizeof *r);
    dist_init(&r->s.dist, &argc, &argv);
    setup(r, argc, argv);
    loop(r);
    if (r->metrics) fclose(r->metrics);
    dist_barrier(&r->s.dist);
    dist_finalize(&r->s.dist);
    stepper_free(&r->s);
    adamw_free(&r->opt);
    loader_close(&r->train);
    if (r->has_valid) loader_close(&r->valid);
    if (r->s.noise) noise_close(&r->noise);
    batch_data_free(&r->d);
    free(r->cfg_json); free(r->last); free(r->best); free(r->po.codebook_hash);
    opts_free(&r->o);
    avm_log_close();
    free(r);
    return 0;
}
