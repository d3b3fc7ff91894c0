/* S2I as a task of the shared loop: one step, validation, logs, the model directories, the
 * run configuration and whether --resume can continue a checkpoint (see s2i.h). */
#include "train/s2i.h"
#include "common/crc32.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "models/ops.h"
#include "train/metrics.h"
#include "train/seeding.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* This rank's slice: SpecAugment (keyed by the sample's place in the global batch), the
 * encoder's dropout (by step and rank), the losses as shares of the global batch's means,
 * so that the ranks' losses and gradients add up to the union's. */
static int slice_step(s2i_run *r, avm_batch_data *d, long step, double v[4]) {
    s2i_model *m = &r->m;
    const ft_opts *f = &r->f.ft;
    int b = (int)r->t.epoch_pos, g0 = r->L.bstart[b];
    s2i_target tg;
    s2i_target_make(&tg, &r->tb, &r->lb, d, r->L.order + g0, r->L.bstart[b + 1] - g0);
    if (r->x.kind == XM_TRIPLET && r->x.sampled) s2i_target_negatives(&tg, &r->tb, d, f->seed, step);
    if (specaug_active(&f->aug)) specaug_apply(&f->aug, d, m->enc.cfg.audio_in / r->stack, r->stack, f->seed, step);
    avm_rng rng;
    train_rng(&rng, f->seed, SEED_DROPOUT, step, r->t.dist.rank);
    int drop = m->enc.cfg.dropout > 0 || m->enc.cfg.attn_dropout > 0, correct = 0;
    v[0] = s2i_train_loss(m, d, &tg, &r->x, step < f->freeze_steps, drop ? &rng : NULL, &v[1], &v[2], &correct);
    v[3] = correct;
    return isnan(v[0]) ? -1 : 0;
}

static int task_step(avm_trainer *t, avm_batch_data *d, long step, double *loss) {
    s2i_run *r = t->task;
    double v[4] = {0, 0, 0, 0};   /* this rank's shares: loss, cross-entropy, cross-modal; correct samples */
    if (d->B == 0) params_zero_grad(&r->all);   /* more ranks than samples: no share */
    else if (slice_step(r, d, step, v)) return -1;
    dist_sum_f64(&t->dist, v, 4);
    *loss = v[0];
    r->ce = v[1];
    r->xm = v[2];
    r->acc = 100 * v[3] / (d->global_B ? d->global_B : 1);
    return 1;
}

static void task_log(avm_trainer *t, const avm_step_log *l) {
    s2i_run *r = t->task;
    avm_metric m[] = {{"step", (double)l->step, 1}, {"loss", l->loss, 0}, {"loss_ce", r->ce, 0},
                      {"loss_xmodal", r->xm, 0}, {"acc", r->acc, 0}, {"lr", l->lr, 0},
                      {"grad_norm", l->grad_norm, 0}, {"seconds", l->seconds, 0}};
    metrics_line(t->metrics, m, (int)(sizeof m / sizeof *m));
}

static void task_progress(avm_trainer *t, char *buf, size_t n, double loss, double lr) {
    s2i_run *r = t->task;
    (void)lr;
    snprintf(buf, n, "loss %.4f acc %.1f%%", loss, r->acc);
}

/* Sums over this rank's slices of the validation set: cross-entropy, utterances, correct
 * ones, cosines between acoustic and text embeddings (with text embeddings). */
static int valid_sums(s2i_run *r, double v[4]) {
    s2i_model *m = &r->m;
    avm_loader *L = &r->VL;
    avm_batch_data d = {0};
    int K = m->head.K, e = m->head.e, rc = 0;
    float *probs = NULL, *text = NULL;
    size_t cap_p = 0, cap_t = 0;
    memset(v, 0, 4 * sizeof *v);
    loader_plan(L, 0);
    for (int b = 0; b < L->nbatch && !rc; b++) {
        if ((rc = loader_get(L, b, r->t.dist.rank, r->t.dist.world, &d)) || d.B == 0) continue;
        if ((rc = s2i_forward(m, &d))) break;
        probs = xgrow(probs, &cap_p, (size_t)d.B * K * sizeof *probs);
        int32_t *y = xmalloc((size_t)d.B * sizeof *y);
        int hits = 0;
        for (int i = 0; i < d.B; i++) y[i] = r->vlb.y[d.utt[i]];
        v[0] += xent_forward(m->logits, d.B, K, y, -1, 1, probs, NULL, &hits);
        v[1] += d.B;
        v[2] += hits;
        if (r->vlb.temb) {
            text = xgrow(text, &cap_t, (size_t)d.B * e * sizeof *text);
            for (int i = 0; i < d.B; i++)
                memcpy(text + (size_t)i * e, r->vlb.temb + (size_t)r->vlb.sent[d.utt[i]] * e, e * sizeof *text);
            s2i_cosines(m->emb, text, d.B, e, &v[3]);
        }
        free(y);
    }
    free(probs);
    free(text);
    batch_data_free(&d);
    return rc;
}

/* Mean cross-entropy, accuracy and error rate (%), mean cosine to the text embeddings. */
static int task_validate(avm_trainer *t, double score[2]) {
    s2i_run *r = t->task;
    double v[4];
    if (valid_sums(r, v)) return -1;
    dist_sum_f64(&t->dist, v, 4);
    double n = v[1] > 0 ? v[1] : NAN, vl = v[0] / n, acc = 100 * v[2] / n, cos = r->vlb.temb ? v[3] / n : NAN;
    if (trainer_is_root(t)) {
        avm_metric m[] = {{"step", (double)t->step, 1}, {"valid_loss", vl, 0}, {"valid_acc", acc, 0},
                          {"valid_err", 100 - acc, 0}, {"valid_cos", cos, 0}};
        metrics_line(t->metrics, m, r->vlb.temb ? 5 : 4);
        avm_logonly("s2i: step %ld valid loss %.4f accuracy %.2f%%%s", t->step, vl, acc,
                    r->vlb.temb ? "" : " (no text embeddings: no cosine)");
        if (r->vlb.temb) avm_logonly("s2i: step %ld valid cosine to the text embeddings %.4f", t->step, cos);
    }
    score[0] = 100 - acc;   /* model-best: the lowest error rate, ties broken by the loss */
    score[1] = vl;
    return 0;
}

static int save_dir(s2i_run *r, const char *dir, long steps) {
    char *text = ft_model_config(&r->m.enc, r->m.config, r->init, steps);
    int rc = s2i_save(&r->m, dir, text);
    free(text);
    return rc;
}

static int task_save_best(avm_trainer *t) {
    s2i_run *r = t->task;
    return save_dir(r, r->bestdir, t->step);
}

static void task_end(avm_trainer *t, avm_progress *p, double last_loss) {
    s2i_run *r = t->task;
    progress_end(p, "s2i: %ld steps, last loss %.4f", t->step, last_loss);
    if (save_dir(r, r->modeldir, t->step)) avm_die("s2i: %s", avm_error());
    printf("s2i: %ld steps, model in %s\n", t->step, r->modeldir);
}

/* ---- the run configuration and --resume ---- */

static void fingerprint(avm_jw *w, const char *key, int have, uint32_t crc) {
    char fp[9];
    snprintf(fp, sizeof fp, "%08x", crc);
    jw_key(w, key);
    if (have) jw_str(w, fp); else jw_str(w, "none");
}

char *s2i_run_config(const s2i_run *r) {
    const s2i_opts *f = &r->f;
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "model"); avmodel_config_json(&r->m.enc.cfg, &w);
    jw_key(&w, "s2i"); jw_obj_begin(&w);
    ft_json_inputs(&w, &f->ft, r->init);
    jw_key(&w, "intents_file"); jw_str(&w, f->intents);
    jw_key(&w, "intents"); jw_int(&w, r->m.head.K);
    jw_key(&w, "embed_dim"); jw_int(&w, r->m.head.e);
    jw_key(&w, "text_model"); if (f->text_model) jw_str(&w, f->text_model); else jw_null(&w);
    jw_key(&w, "xmodal"); jw_str(&w, s2i_xmodal_names[f->xmodal]);
    jw_key(&w, "xmodal_weight"); jw_num(&w, f->xweight);
    jw_key(&w, "negative"); jw_str(&w, f->negative ? "hardest" : "sampled");
    jw_key(&w, "margin"); jw_num(&w, f->margin);
    jw_key(&w, "tau"); jw_num(&w, f->tau);
    jw_key(&w, "label_fraction"); jw_num(&w, f->label_fraction);
    jw_key(&w, "labelled"); jw_int(&w, r->lb.nused);
    /* what the run trains on and toward, compared by --resume */
    fingerprint(&w, "data_fingerprint", 1, r->lb.crc);
    uint32_t tc = r->lb.temb ? crc32_update(0, r->lb.temb, (size_t)r->lb.nsent * r->lb.e * sizeof(float)) : 0;
    fingerprint(&w, "text_fingerprint", r->lb.temb != NULL, tc);
    ft_json_train(&w, &f->ft);
    ft_json_regularise(&w, &f->ft);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return b.s;
}

/* Dies with one line when the checkpoint's run differs from this one in what it trains:
 * the encoder, the head's shape, the data (intents, transcripts), their text embeddings or
 * the labelled fraction. */
static void task_check_resume(avm_trainer *t, const char *path, const avm_ckpt_meta *m) {
    s2i_run *r = t->task;
    static const char *const keys[] = {"model", "s2i.intents", "s2i.embed_dim", "s2i.data_fingerprint",
                                       "s2i.text_fingerprint", "s2i.label_fraction"};
    char *diff = ckpt_config_diff(m->config_json, r->run_json, keys, (int)(sizeof keys / sizeof *keys));
    if (!diff) return;
    avm_fail("%s holds a checkpoint of another S2I run (%s); resume with the same encoder, data, text model and "
             "--label-fraction, or use another --out", path, diff);
    free(diff);
    avm_die("s2i: %s", avm_error());
}

const avm_task_ops s2i_task_ops = {task_step, task_log, task_progress, task_validate, task_save_best,
                                   task_check_resume, task_end, NULL, NULL};
