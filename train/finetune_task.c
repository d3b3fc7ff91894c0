/* Fine-tuning as a task of the shared loop: labels, one step, validation, logs and the
 * model directories (see finetune.h). */
#include "train/finetune.h"
#include "common/crc32.h"
#include "common/util.h"
#include "data/ali.h"
#include "models/ops.h"
#include "train/edit_distance.h"
#include "train/metrics.h"
#include "train/seeding.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ft_labels_read(ft_labels *lb, const avm_feats *f, const char *data, const avm_units *u,
                    avm_unit_kind kind, int strict) {
    char *path = path_join(data, units_source(kind));
    if (trans_read(&lb->ref, path)) avm_die("finetune: %s", avm_error());
    lb->ids = xcalloc(f->n, sizeof *lb->ids);
    lb->crc = 0;
    lb->n = xcalloc(f->n, sizeof *lb->n);
    int missing = 0;
    const char *first = NULL;
    for (int i = 0; i < f->n; i++) {
        int k = trans_find(&lb->ref, f->e[i].utt_id);
        if (k < 0) { if (!missing++) first = f->e[i].utt_id; continue; }
        if (units_encode(u, kind, f->e[i].utt_id, lb->ref.u[k].text, strict, &lb->ids[i], &lb->n[i]))
            avm_die("finetune: %s: %s", path, avm_error());
        const char *parts[4] = {f->e[i].utt_id, " ", lb->ref.u[k].text, "\n"};
        for (int j = 0; j < 4; j++) lb->crc = crc32_update(lb->crc, parts[j], strlen(parts[j]));
    }
    if (missing) avm_die("finetune: %s: %d utterances of %s have no transcript (first: %s)", path, missing, f->dir, first);
    free(path);
}

void ft_frames_read(ft_labels *lb, const avm_loader *L, const char *ali, const avm_units *u, int strict,
                    const char *cmd) {
    avm_ali c;
    if (ali_read(&c, ali)) { ali_free(&c); avm_die("%s: %s", cmd, avm_error()); }
    int *unit = xmalloc(sizeof(int) * c.nph);   /* CTM phone id -> unit id; silence is <blank> */
    unit[0] = 0;
    for (int p = 1; p < c.nph; p++) {
        unit[p] = units_id(u, c.phones[p]);
        if (unit[p] > 1) continue;          /* <blank> and <unk> are no phones */
        if (!strict) { unit[p] = 1; continue; }   /* validation: <unk>, as CTC's labels */
        avm_fail("%s: phone '%s' is not one of the %d units", ali, c.phones[p], u->n);
        free(unit); ali_free(&c);
        avm_die("%s: %s", cmd, avm_error());
    }
    const avm_feats *f = &L->feats;
    double ts = ali_token_seconds(f);
    lb->ids = xcalloc(f->n, sizeof *lb->ids);
    lb->n = xcalloc(f->n, sizeof *lb->n);
    lb->crc = 0;
    memset(&lb->ref, 0, sizeof lb->ref);
    int missing = 0;
    const char *first = NULL;
    for (int i = 0; i < f->n; i++) {
        int T = L->ntok[i];
        int32_t *y = xmalloc(sizeof(int32_t) * (T + 1));
        if (ali_tokens(&c, f->e[i].utt_id, T, ts, y)) { if (!missing++) first = f->e[i].utt_id; free(y); continue; }
        lb->ids[i] = xmalloc(sizeof(int) * (T + 1));
        for (int t = 0; t < T; t++) lb->ids[i][t] = unit[y[t]];
        lb->n[i] = T;
        lb->crc = crc32_update(lb->crc, f->e[i].utt_id, strlen(f->e[i].utt_id));
        lb->crc = crc32_update(lb->crc, y, sizeof(int32_t) * T);
        free(y);
    }
    free(unit);
    ali_free(&c);
    if (missing) avm_die("%s: %s: %d utterances of %s have no alignment (first: %s)", cmd, ali, missing, f->dir, first);
}

void ft_labels_free(ft_labels *lb, int n) {
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

/* Frame labels of a batch, concatenated over the samples' tokens (the rows of asr.h). */
static int32_t *batch_frames(const ft_labels *lb, const avm_batch_data *d) {
    long n = 0;
    for (int b = 0; b < d->B; b++) n += d->len[b];
    int32_t *y = xmalloc(sizeof(int32_t) * (n + 1));
    long k = 0;
    for (int b = 0; b < d->B; b++)
        for (int t = 0; t < d->len[b]; t++) y[k++] = lb->ids[d->utt[b]][t];
    return y;
}

/* This rank's samples: SpecAugment (keyed by seed, step and the sample's place in the global
 * batch), the encoder's dropout (by seed, step and rank), the CTC mean over the global batch
 * (so that the ranks' losses and gradients add up to the union's); the encoder's backward
 * is skipped while it is frozen. *loss is this rank's share. Frees its buffers before a
 * failure stops the run, so the sanitizers see no leak. */
static int slice_step(ft_run *r, avm_batch_data *d, long step, double denom, double *loss, int *impossible) {
    avm_asr *a = &r->a;
    if (specaug_active(&r->f.aug)) specaug_apply(&r->f.aug, d, a->enc.cfg.audio_in / r->stack, r->stack, r->f.seed, step);
    avm_rng rng;
    train_rng(&rng, r->f.seed, SEED_DROPOUT, step, r->t.dist.rank);
    int drop = a->enc.cfg.dropout > 0 || a->enc.cfg.attn_dropout > 0, frozen = step < r->f.freeze_steps;
    if (r->f.frame) {
        int32_t *y = batch_frames(&r->lb, d);
        *loss = asr_train_frames(a, d, y, denom, frozen, drop ? &rng : NULL, NULL);
        free(y);
        return isnan(*loss) ? -1 : 0;
    }
    int *Lb = xmalloc(sizeof(int) * d->B), *lab = batch_labels(&r->lb, d, Lb);
    double *nll = xmalloc(sizeof(double) * d->B);
    *loss = asr_train_loss(a, d, lab, Lb, frozen, drop ? &rng : NULL, nll);
    for (int b = 0; b < d->B; b++) *impossible += isinf(nll[b]);
    free(Lb); free(lab); free(nll);
    return isnan(*loss) ? -1 : 0;
}

static int task_step(avm_trainer *t, avm_batch_data *d, long step, double *loss) {
    ft_run *r = t->task;
    double sums[2] = {0, 0};   /* this rank's share of the loss, impossible utterances */
    double tokens = 0;         /* the frame objective's mean: over the global batch's tokens */
    if (r->f.frame) {
        for (int b = 0; b < d->B; b++) tokens += d->len[b];
        dist_sum_f64(&t->dist, &tokens, 1);
    }
    int imp = 0;
    if (d->B == 0) params_zero_grad(&r->all);   /* more ranks than samples: no share */
    else if (slice_step(r, d, step, tokens, &sums[0], &imp)) return -1;
    sums[1] = imp;
    dist_sum_f64(&t->dist, sums, 2);
    *loss = sums[0];
    r->impossible = (int)sums[1];
    return 1;
}

static void task_log(avm_trainer *t, const avm_step_log *l) {
    ft_run *r = t->task;
    avm_metric m[] = {{"step", (double)l->step, 1}, {"loss", l->loss, 0}, {"lr", l->lr, 0},
                      {"grad_norm", l->grad_norm, 0}, {"impossible", r->impossible, 1}, {"seconds", l->seconds, 0}};
    metrics_line(t->metrics, m, (int)(sizeof m / sizeof *m));
}

static void task_progress(avm_trainer *t, char *buf, size_t n, double loss, double lr) {
    (void)t; (void)lr;
    snprintf(buf, n, "loss %.4f", loss);
}

/* One utterance's greedy hypothesis scored against its labels. */
static void score_utt(const avm_asr *a, int i, const int *lab, int nl, int T, int *hyp, avm_errs *e) {
    int nh = ctc_greedy(a->logits + (size_t)a->off[i] * a->head.V, T, a->head.V, hyp);
    const char **rs = xmalloc(sizeof(char *) * (nl + 1)), **hs = xmalloc(sizeof(char *) * (nh + 1));
    for (int j = 0; j < nl; j++) rs[j] = a->units.sym[lab[j]];
    for (int j = 0; j < nh; j++) hs[j] = a->units.sym[hyp[j]];
    edit_align(rs, nl, hs, nh, e, NULL);
    free(rs); free(hs);
}

/* The frame objective's share of a validation batch (after asr_forward): the summed token
 * cross-entropy into *sum, the tokens into *n, right and wrong tokens (C, S of e; N the
 * tokens) and the utterances into e. The logits become probabilities. */
static void frame_sums(ft_run *r, const avm_batch_data *d, double *sum, int *n, avm_errs *e) {
    avm_asr *a = &r->a;
    int32_t *y = batch_frames(&r->vlb, d);
    int rows = a->off[d->B], right = 0;
    *sum += xent_forward(a->logits, rows, a->head.V, y, -1, 1.0, a->logits, NULL, &right);
    *n += rows;
    avm_errs x = {right, rows - right, 0, 0, rows, d->B};
    errs_add(e, &x);
    free(y);
}

/* Sums over this rank's slices of the set: v[0] loss_b / max(L_b, 1) over the utterances
 * whose loss is finite, v[1] their count (frame objective: the summed token cross-entropy
 * and the token count), v[2..7] the error counts (frame objective: of tokens). */
static int valid_sums(ft_run *r, double v[8]) {
    avm_asr *a = &r->a;
    avm_loader *L = &r->VL;
    avm_batch_data d = {0};
    avm_ctc_opts co = {CTC_MEAN, 1, 0};
    avm_errs e = {0};
    double sum = 0;
    int n = 0, rc = 0;
    loader_plan(L, 0);
    long most;
    int longest;
    loader_plan_peak(L, &most, &longest);    /* the encoder's inference arena, once */
    if (longest) asr_infer_reserve(a, most, longest);
    for (int b = 0; b < L->nbatch && !rc; b++) {
        if ((rc = loader_get(L, b, r->t.dist.rank, r->t.dist.world, &d)) || d.B == 0) continue;
        if ((rc = asr_forward(a, &d))) break;
        if (r->f.frame) { frame_sums(r, &d, &sum, &n, &e); continue; }
        int *Lb = xmalloc(sizeof(int) * d.B), *hyp = xmalloc(sizeof(int) * (d.T + 1));
        double *nll = xmalloc(sizeof(double) * d.B);
        int *lab = batch_labels(&r->vlb, &d, Lb);
        ctc_loss(a->logits, d.len, d.B, a->head.V, lab, Lb, &co, nll, NULL, &a->ctc);
        for (int i = 0, k = 0; i < d.B; k += Lb[i], i++) {
            if (isfinite(nll[i])) { sum += nll[i] / (Lb[i] > 1 ? Lb[i] : 1); n++; }
            score_utt(a, i, lab + k, Lb[i], d.len[i], hyp, &e);
        }
        free(Lb); free(hyp); free(nll); free(lab);
    }
    batch_data_free(&d);
    double x[8] = {sum, n, e.c, e.s, e.d, e.i, e.n, e.utts};
    memcpy(v, x, sizeof x);
    return rc;
}

/* Mean CTC loss over the utterances whose loss is finite, greedy error rate over the set;
 * frame objective: mean token cross-entropy, frame error rate. */
static int task_validate(avm_trainer *t, double score[2]) {
    ft_run *r = t->task;
    double v[8];
    if (valid_sums(r, v)) return -1;
    dist_sum_f64(&t->dist, v, 8);
    avm_errs e = {(long)v[2], (long)v[3], (long)v[4], (long)v[5], (long)v[6], (long)v[7]};
    double vl = v[1] > 0 ? v[0] / v[1] : NAN, er = err_rate(&e);
    if (trainer_is_root(t)) {
        avm_metric m[] = {{"step", (double)t->step, 1}, {"valid_loss", vl, 0}, {"valid_err", er, 0}};
        metrics_line(t->metrics, m, 3);
        avm_logonly("finetune: step %ld valid loss %.4f err %.2f%%", t->step, vl, er);
    }
    score[0] = er;   /* model-best: the lowest error rate, ties broken by the loss */
    score[1] = vl;
    return 0;
}

static int task_save_best(avm_trainer *t) {
    ft_run *r = t->task;
    char *text = ft_model_config(&r->a.enc, r->a.config, r->init, t->step);
    int rc = asr_save(&r->a, r->bestdir, text);
    free(text);
    return rc;
}

static void task_end(avm_trainer *t, avm_progress *p, double last_loss) {
    ft_run *r = t->task;
    progress_end(p, "finetune: %ld steps, last loss %.4f", t->step, last_loss);
    char *text = ft_model_config(&r->a.enc, r->a.config, r->init, t->step);
    if (asr_save(&r->a, r->modeldir, text)) avm_die("finetune: %s", avm_error());
    printf("finetune: %ld steps, model in %s\n", t->step, r->modeldir);
    free(text);
}

const avm_task_ops ft_task_ops = {task_step, task_log, task_progress, task_validate, task_save_best, ft_check_resume,
                                  task_end, NULL, NULL};
