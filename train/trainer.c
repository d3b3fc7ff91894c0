/* The shared training loop (see trainer.h). */
#include "train/trainer.h"
#include "common/log.h"
#include "common/util.h"
#include "train/clip.h"
#include "train/metrics.h"
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void trainer_init(avm_trainer *t, const avm_task_ops *ops, void *task, int *argc, char ***argv) {
    memset(t, 0, sizeof *t);
    t->ops = ops;
    t->task = task;
    t->best[0] = INFINITY;   /* best[1] 0: a score without a second key ties at 0 */
    dist_init(&t->dist, argc, argv);
}

int trainer_is_root(const avm_trainer *t) { return t->dist.rank == 0; }

int trainer_check_out(avm_trainer *t) {
    t->last = path_join(t->o.out, "checkpoint-last.h5");
    if (!file_exists(t->last)) return 0;
    avm_ckpt_meta m;
    if (ckpt_read_meta(t->last, &m)) avm_die("%s: %s", t->o.name, avm_error());
    if (t->ops->check_resume) t->ops->check_resume(t, t->last, &m);
    if (!t->o.resume)
        avm_die("%s: %s exists (step %ld); pass --resume to continue it or use another --out", t->o.name, t->last,
                m.step);
    ckpt_meta_free(&m);
    return 1;
}

/* The checkpoint's state: parameters, moments, loader position, best score, wall time. */
static void resume_from(avm_trainer *t) {
    avm_ckpt_meta m;
    if (ckpt_load(t->last, t->params, &t->opt, &m)) avm_die("%s: %s", t->o.name, avm_error());
    t->step = m.step;
    t->epoch = m.epoch;
    t->epoch_pos = m.epoch_pos;
    t->best[0] = m.best_valid;
    t->best[1] = m.best_tie;
    t->seconds = m.seconds;
    if (m.seed != t->o.seed)
        avm_die("%s: %s was trained with --seed=%llu, not %llu", t->o.name, t->last, (unsigned long long)m.seed,
                (unsigned long long)t->o.seed);
    ckpt_meta_free(&m);
    t->resumed = 1;
}

/* The current epoch's plan, from the feature loader or the task. */
static void plan(avm_trainer *t) {
    if (t->train) {
        loader_plan(t->train, t->epoch);
        t->nbatch = t->train->nbatch;
    } else if ((t->nbatch = t->ops->plan(t, t->epoch)) < 1) {
        avm_die("%s: %s", t->o.name, t->nbatch < 0 ? avm_error() : "an epoch without batches");
    }
}

void trainer_start(avm_trainer *t, int resume) {
    adamw_init(&t->opt, t->params, t->o.beta1, t->o.beta2, t->o.eps, t->o.weight_decay);
    if (resume) resume_from(t);
    t->start = t->step;
    if (trainer_is_root(t)) {
        if (mkdir_p(t->o.out)) avm_die("%s: %s", t->o.name, avm_error());
        char *lp = path_join(t->o.out, "train.log"), *mp = path_join(t->o.out, "metrics.jsonl");
        if (avm_log_open(lp)) avm_die("%s: %s", t->o.name, avm_error());
        t->metrics = metrics_open(mp, resume ? t->step : -1);
        if (!t->metrics) avm_die("%s: %s", t->o.name, avm_error());
        free(lp); free(mp);
    }
    plan(t);
}

void trainer_save(avm_trainer *t, const char *path) {
    if (!trainer_is_root(t)) return;
    avm_ckpt_meta m = {t->step, t->epoch, t->epoch_pos, t->o.seed, t->best[0], (char *)t->config_json, t->seconds,
                       t->best[1]};
    if (ckpt_save(path, t->params, &t->opt, &m)) avm_die("%s: %s", t->o.name, avm_error());
}

void trainer_stop(const avm_trainer *t, const char *what, double v) {
    avm_die("%s: step %ld: %s is %g; stopped (last good checkpoint %s%s)", t->o.name, t->step + 1, what, v, t->last,
            file_exists(t->last) ? "" : ": none written yet");
}

static void dump_grad(const avm_trainer *t) {
    if (!trainer_is_root(t)) return;
    const avm_params *ps = t->params;
    FILE *f = fopen(t->o.dump_grad, "wb");
    if (!f) avm_die("%s: %s: cannot write", t->o.name, t->o.dump_grad);
    for (int k = 0; k < ps->n; k++) fwrite(ps->grad + ps->p[k].offset, sizeof(float), ps->p[k].numel, f);
    if (fclose(f)) avm_die("%s: %s: write failed", t->o.name, t->o.dump_grad);
}

/* A validation pass; a better score (lower first key, ties by the second) is the best. */
static void validate(avm_trainer *t) {
    double s[2];
    if (t->ops->validate(t, s)) avm_die("%s: validation: %s", t->o.name, avm_error());
    if (!(s[0] < t->best[0] || (s[0] == t->best[0] && s[1] < t->best[1]))) return;
    t->best[0] = s[0];
    t->best[1] = s[1];
    if (trainer_is_root(t) && t->ops->save_best(t)) avm_die("%s: %s", t->o.name, avm_error());
}

/* One update: this rank's batch through the task, the ranks' gradients summed, the checks,
 * then clipping and AdamW in one pass. Returns the loss; *norm, *lr for the logs. */
static double update(avm_trainer *t, double *norm, double *lr) {
    if (t->epoch_pos >= t->nbatch) { t->epoch++; t->epoch_pos = 0; plan(t); }
    int b = (int)t->epoch_pos;
    if (t->train ? loader_get(t->train, b, t->dist.rank, t->dist.world, &t->d) : t->ops->get(t, b))
        avm_die("%s: %s", t->o.name, avm_error());
    double loss;
    int rc = t->ops->step(t, t->train ? &t->d : NULL, t->step, &loss);
    if (rc < 0) avm_die("%s: step %ld: %s", t->o.name, t->step + 1, avm_error());
    avm_params *ps = t->params;
    if (t->dist.world > 1) dist_sum_f32(&t->dist, ps->grad, ps->total);
    if (t->o.nan_step == t->step + 1) ps->grad[ps->p[0].offset] = NAN;
    if (!isfinite(loss)) trainer_stop(t, "the loss", loss);
    if (t->o.dump_grad && t->step == t->start) dump_grad(t);
    *norm = grad_norm(ps->grad, ps->total);
    if (!isfinite(*norm)) trainer_stop(t, "the gradient norm", *norm);
    *lr = sched_lr(&t->o.sched, t->step);
    if (rc) adamw_step_scaled(&t->opt, ps, *lr, clip_coef(*norm, t->o.clip));
    t->step++;
    t->epoch_pos++;
    return loss;
}

static int due(const avm_trainer *t, long every) { return t->step % every == 0 || t->step == t->o.max_steps; }

void trainer_run(avm_trainer *t) {
    avm_progress prog;
    int root = trainer_is_root(t), has_valid = t->has_valid;
    double t0 = now_sec() - t->seconds, tlog = now_sec(), loss = NAN;
    if (root) progress_start(&prog, t->o.name, (double)(t->o.max_steps - t->start));
    if (has_valid && t->o.valid_at_start && t->step == 0) validate(t);   /* the untrained baseline */
    while (t->step < t->o.max_steps) {
        double norm, lr;
        loss = update(t, &norm, &lr);
        if (root && due(t, t->o.log_every)) {
            double now = now_sec();
            avm_step_log l = {t->step, loss, lr, norm, now - t0, now - tlog};
            t->ops->log(t, &l);
            tlog = now;
        }
        t->seconds = now_sec() - t0;
        if (root) {
            char what[200];
            t->ops->progress(t, what, sizeof what, loss, lr);
            progress_update(&prog, (double)(t->step - t->start), "%s", what);
        }
        if (has_valid && due(t, t->o.valid_every)) validate(t);
        if (due(t, t->o.save_every)) trainer_save(t, t->last);
        if (t->o.kill_step == t->step) raise(SIGKILL);
    }
    if (root) t->ops->end(t, &prog, loss);
}

void trainer_finish(avm_trainer *t) {
    if (t->metrics) fclose(t->metrics);
    t->metrics = NULL;
    dist_barrier(&t->dist);
    dist_finalize(&t->dist);
}

void trainer_free(avm_trainer *t) {
    adamw_free(&t->opt);
    batch_data_free(&t->d);
    free(t->last);
    t->last = NULL;
}
