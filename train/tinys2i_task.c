/* TinyS2I as a task of the shared loop: one step, validation, logs, the model directories,
 * the run configuration and whether --resume can continue a checkpoint (see tinys2i.h). */
#include "train/tinys2i.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "models/ops.h"
#include "train/metrics.h"
#include "train/seeding.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* This rank's slice: SpecAugment and negatives keyed by the sample's place in the global
 * batch, dropout by step and rank; losses as shares of the global batch's means. */
static int slice_step(ts_run *r, avm_batch_data *d, long step, double v[7]) {
    ts_model *m = &r->m;
    const ft_opts *f = &r->f.ft;
    int b = (int)r->t.epoch_pos, g0 = r->L.bstart[b], hits[3];
    ts_target tg;
    ts_target_make(&tg, &r->tb, &r->lb, d, r->L.order + g0, r->L.bstart[b + 1] - g0, f->seed, step);
    if (specaug_active(&f->aug)) specaug_apply(&f->aug, d, m->enc.cfg.audio_in / r->stack, r->stack, f->seed, step);
    avm_rng rng;
    train_rng(&rng, f->seed, SEED_DROPOUT, step, r->t.dist.rank);
    int drop = m->enc.cfg.dropout > 0 || m->enc.cfg.attn_dropout > 0;
    v[0] = ts_train_loss(m, d, &tg, (float)r->f.weight, (float)r->f.margin, step < f->freeze_steps, drop ? &rng : NULL,
                         v + 1, hits);
    for (int k = 0; k < 3; k++) v[4 + k] = hits[k];
    return isnan(v[0]) ? -1 : 0;
}

static int task_step(avm_trainer *t, avm_batch_data *d, long step, double *loss) {
    ts_run *r = t->task;
    double v[7] = {0};   /* this rank's shares: loss, its three parts; decisions, commands, titles right */
    if (d->B == 0) params_zero_grad(&r->all);
    else if (slice_step(r, d, step, v)) return -1;
    dist_sum_f64(&t->dist, v, 7);
    *loss = v[0];
    for (int k = 0; k < 3; k++) r->part[k] = v[1 + k];
    r->acc[0] = 100 * v[4] / (d->global_B ? d->global_B : 1);
    r->acc[1] = v[5];
    r->acc[2] = v[6];
    return 1;
}

static void task_log(avm_trainer *t, const avm_step_log *l) {
    ts_run *r = t->task;
    avm_metric m[] = {{"step", (double)l->step, 1}, {"loss", l->loss, 0}, {"loss_class", r->part[0], 0},
                      {"loss_command", r->part[1], 0}, {"loss_title", r->part[2], 0}, {"acc_class", r->acc[0], 0},
                      {"lr", l->lr, 0}, {"grad_norm", l->grad_norm, 0}, {"seconds", l->seconds, 0}};
    metrics_line(t->metrics, m, (int)(sizeof m / sizeof *m));
}

static void task_progress(avm_trainer *t, char *buf, size_t n, double loss, double lr) {
    ts_run *r = t->task;
    (void)lr;
    snprintf(buf, n, "loss %.4f class acc %.1f%%", loss, r->acc[0]);
}

/* Sums over this rank's slices of the validation set: v[0] class cross-entropy, [1]
 * utterances, [2] decisions right, [3] command utterances, [4] commands right (decision and
 * command), [5] title utterances, [6] titles ranked first among every dev title. */
static int valid_sums(ts_run *r, double v[7]) {
    ts_model *m = &r->m;
    avm_loader *L = &r->VL;
    const ts_labels *lb = &r->vlb;
    avm_batch_data d = {0};
    int e = m->head.e, Kc = m->head.Kc, nt = lb->titles.n, rc = 0;
    float *titles = xmalloc(((size_t)nt * e + 1) * sizeof *titles), *probs = NULL;
    size_t cap = 0;
    memset(v, 0, 7 * sizeof *v);
    if (nt && ts_embed_titles(m, lb->titles.ids, lb->titles.len, nt, titles)) rc = -1;
    loader_plan(L, 0);
    for (int b = 0; b < L->nbatch && !rc; b++) {
        if ((rc = loader_get(L, b, r->t.dist.rank, r->t.dist.world, &d)) || d.B == 0) continue;
        if ((rc = ts_forward(m, &d))) break;
        probs = xgrow(probs, &cap, (size_t)d.B * TS_CLASSES * sizeof *probs);
        int32_t *y = xmalloc((size_t)d.B * sizeof *y);
        for (int i = 0; i < d.B; i++) y[i] = lb->cls[d.utt[i]];
        v[0] += xent_forward(m->lcls, d.B, TS_CLASSES, y, -1, 1, probs, NULL, NULL);
        for (int i = 0; i < d.B; i++) {
            int u = d.utt[i], dec = 0, cmd = 0;
            const float *lc = m->lcls + (size_t)i * TS_CLASSES, *lk = m->lcmd + (size_t)i * Kc;
            for (int k = 1; k < TS_CLASSES; k++) if (lc[k] > lc[dec]) dec = k;
            for (int k = 1; k < Kc; k++) if (lk[k] > lk[cmd]) cmd = k;
            v[1] += 1;
            v[2] += dec == lb->cls[u];
            v[3] += lb->cls[u] == TS_COMMAND;
            v[4] += lb->cls[u] == TS_COMMAND && dec == TS_COMMAND && cmd == lb->cmd[u];
            if (lb->title[u] < 0) continue;
            v[5] += 1;
            v[6] += ts_best_title(m->emb + (size_t)i * e, e, titles, nt) == lb->title[u];
        }
        free(y);
    }
    free(probs);
    free(titles);
    batch_data_free(&d);
    return rc;
}

/* Decision accuracy, command accuracy, title accuracy among every dev title (%); the score
 * is 100 - their mean, ties broken by the class loss. */
static int task_validate(avm_trainer *t, double score[2]) {
    ts_run *r = t->task;
    double v[7];
    if (valid_sums(r, v)) return -1;
    dist_sum_f64(&t->dist, v, 7);
    double n = v[1] > 0 ? v[1] : NAN, vl = v[0] / n, acc = 100 * v[2] / n;
    double cmd = v[3] > 0 ? 100 * v[4] / v[3] : 0, tit = v[5] > 0 ? 100 * v[6] / v[5] : 0;
    if (trainer_is_root(t)) {
        avm_metric m[] = {{"step", (double)t->step, 1}, {"valid_loss", vl, 0}, {"valid_acc_class", acc, 0},
                          {"valid_acc_command", cmd, 0}, {"valid_acc_title", tit, 0},
                          {"valid_err", 100 - (acc + cmd + tit) / 3, 0}};
        metrics_line(t->metrics, m, (int)(sizeof m / sizeof *m));
        avm_logonly("tinys2i: step %ld valid class loss %.4f, decisions %.2f%%, commands %.2f%%, titles %.2f%% "
                    "(top-1 among the %d dev titles)", t->step, vl, acc, cmd, tit, r->vlb.titles.n);
    }
    score[0] = 100 - (acc + cmd + tit) / 3;
    score[1] = vl;
    return 0;
}

static int save_dir(ts_run *r, const char *dir, long steps) {
    char *text = ft_model_config(&r->m.enc, r->m.config, r->init, steps);
    int rc = ts_save(&r->m, dir, text);
    free(text);
    return rc;
}

static int task_save_best(avm_trainer *t) {
    ts_run *r = t->task;
    return save_dir(r, r->bestdir, t->step);
}

static void task_end(avm_trainer *t, avm_progress *p, double last_loss) {
    ts_run *r = t->task;
    progress_end(p, "tinys2i: %ld steps, last loss %.4f", t->step, last_loss);
    if (save_dir(r, r->modeldir, t->step)) avm_die("tinys2i: %s", avm_error());
    printf("tinys2i: %ld steps, model in %s\n", t->step, r->modeldir);
}

/* ---- the run configuration and --resume ---- */

char *ts_run_config(const ts_run *r) {
    const ts_opts *f = &r->f;
    avm_strbuf b = {0};
    avm_jw w;
    char fp[9];
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "model"); avmodel_config_json(&r->m.enc.cfg, &w);
    jw_key(&w, "title_model"); textenc_config_json(&r->m.tenc.cfg, &w);
    jw_key(&w, "tinys2i"); jw_obj_begin(&w);
    ft_json_inputs(&w, &f->ft, r->init);
    jw_key(&w, "intents_file"); jw_str(&w, f->intents);
    jw_key(&w, "commands"); jw_int(&w, r->m.head.Kc);
    jw_key(&w, "embed_dim"); jw_int(&w, r->m.head.e);
    jw_key(&w, "text_model"); if (f->text_model) jw_str(&w, f->text_model); else jw_null(&w);
    snprintf(fp, sizeof fp, "%08x", vocab_crc(&r->m.vocab));
    jw_key(&w, "title_vocab"); jw_str(&w, fp);
    jw_key(&w, "title_weight"); jw_num(&w, f->weight);
    jw_key(&w, "margin"); jw_num(&w, f->margin);
    snprintf(fp, sizeof fp, "%08x", r->lb.crc);
    jw_key(&w, "data_fingerprint"); jw_str(&w, fp);
    ft_json_train(&w, &f->ft);
    ft_json_regularise(&w, &f->ft);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return b.s;
}

/* Dies with one line when the checkpoint's run differs in what it trains: the encoders,
 * the head's shape, the title vocabulary or the data. */
static void task_check_resume(avm_trainer *t, const char *path, const avm_ckpt_meta *m) {
    ts_run *r = t->task;
    static const char *const keys[] = {"model", "title_model", "tinys2i.commands", "tinys2i.embed_dim",
                                       "tinys2i.title_vocab", "tinys2i.data_fingerprint"};
    char *diff = ckpt_config_diff(m->config_json, r->run_json, keys, (int)(sizeof keys / sizeof *keys));
    if (!diff) return;
    avm_fail("%s holds a checkpoint of another TinyS2I run (%s); resume with the same encoders, title vocabulary "
             "and data, or use another --out", path, diff);
    free(diff);
    avm_die("tinys2i: %s", avm_error());
}

const avm_task_ops ts_task_ops = {task_step, task_log, task_progress, task_validate, task_save_best,
                                  task_check_resume, task_end, NULL, NULL};
