/* Masked-language-model training of the text encoder as a task of the shared loop (see
 * textlm.h): batches, one step, validation, logs and the model dirs. */
#include "train/textlm.h"
#include "common/util.h"
#include "models/ops.h"
#include "train/metrics.h"
#include "train/seeding.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void reserve(tl_run *r, size_t n) {
    if (n <= r->cap) return;
    free(r->inp); free(r->tgt);
    r->inp = xmalloc(n * sizeof *r->inp);
    r->tgt = xmalloc(n * sizeof *r->tgt);
    r->cap = n;
}

/* Buffers of the contrastive term for a slice of B sentences of T tokens. */
static void reserve_views(tl_run *r, int B, int T) {
    int d = r->m.cfg.d;
    if ((size_t)B * T <= r->cap_v && B <= r->cap_vb) return;
    tl_views *v = &r->v;
    free(v->ids); free(v->len); free(v->pool); free(v->dpool); free(v->an); free(v->pn); free(v->st); free(v->neg);
    v->ids = xmalloc(2 * (size_t)B * T * sizeof *v->ids);
    v->len = xmalloc(2 * B * sizeof *v->len);
    v->pool = xmalloc(2 * (size_t)B * d * sizeof *v->pool);
    v->dpool = xmalloc(2 * (size_t)B * d * sizeof *v->dpool);
    v->an = xmalloc((size_t)B * d * sizeof *v->an);
    v->pn = xmalloc((size_t)B * d * sizeof *v->pn);
    v->st = xmalloc(4 * (size_t)B * sizeof *v->st);
    v->neg = xmalloc(B * sizeof *v->neg);
    r->cap_v = (size_t)B * T;
    r->cap_vb = B;
}

/* The contrastive term (SimCSE, Gao et al. 2021, with the triplet loss): the unmasked slice
 * twice in one batch, so that dropout draws two views of every sentence; anchor: the first
 * view's pooled embedding, positive: the second view's, negative: the hardest other
 * sentence's second view (ops.h triplet_forward, L2-normalised rows, --margin). Its mean
 * is over the n sentences of the global batch; adds weight x its gradient and returns this
 * rank's share of the loss. Negatives come from the rank's own slice. */
static double contrastive(tl_run *r, const avm_textbatch *b, long step, int rank, double n, float weight) {
    int B = b->B, T = b->T, d = r->m.cfg.d;
    size_t bt = (size_t)B * T;
    reserve_views(r, B, T);
    tl_views *v = &r->v;
    memcpy(v->ids, b->ids, bt * sizeof *v->ids);
    memcpy(v->ids + bt, b->ids, bt * sizeof *v->ids);
    memcpy(v->len, b->len, B * sizeof *v->len);
    memcpy(v->len + B, b->len, B * sizeof *v->len);
    avm_triplet tr = {B, d, 1, (float)r->f.margin, v->an, v->pn, v->st, v->st + B, v->neg, v->st + 2 * B,
                      v->st + 3 * B, B};
    avm_rng rng;
    train_rng(&rng, r->f.seed, SEED_TEXT_VIEWS, step, rank);
    if (textenc_forward(&r->m, v->ids, v->len, 2 * B, T, &rng)) return NAN;
    textenc_pool(&r->m, v->pool);
    double loss = triplet_forward(&tr, v->pool, v->pool + (size_t)B * d, NULL, NULL, n, NULL, NULL);
    triplet_backward(&tr, n, weight, v->dpool, v->dpool + (size_t)B * d);
    textenc_backward(&r->m, 0, 0, 0, v->dpool);
    return loss;
}

static int task_plan(avm_trainer *t, long epoch) { return textloader_plan(&((tl_run *)t->task)->L, epoch); }

static int task_get(avm_trainer *t, int b) {
    tl_run *r = t->task;
    return textloader_get(&r->L, b, t->dist.rank, t->dist.world, &r->batch);
}

/* MLM + weight x contrastive over the union batch: the masked tokens and the sentences are
 * counted over the ranks first, so that each rank's sums over those counts are its shares
 * of the means and the summed MLM gradients are those of one process on the union. */
static int task_step(avm_trainer *t, avm_batch_data *d, long step, double *loss) {
    (void)d;
    tl_run *r = t->task;
    const avm_textbatch *b = &r->batch;
    double w = r->f.contrastive, c[2] = {0, b->B}, s[4] = {0, 0, 0, 0};   /* MLM, correct, tokens, contrastive */
    params_zero_grad(&r->m.params);
    if (b->B > 0) {
        reserve(r, (size_t)b->B * b->T);
        c[0] = text_mask(b, r->f.seed, step, r->m.cfg.vocab, r->f.mask_prob, r->inp, r->tgt);
        for (int k = 0; k < b->B; k++) s[2] += b->len[k];
    }
    dist_sum_f64(&t->dist, c, 2);
    if (b->B > 0 && c[0] > 0) {
        avm_rng rng;
        train_rng(&rng, r->f.seed, SEED_DROPOUT, step, t->dist.rank);
        int correct, drop = r->m.cfg.dropout > 0 || r->m.cfg.attn_dropout > 0;
        if (textenc_forward(&r->m, r->inp, b->len, b->B, b->T, drop ? &rng : NULL)) return -1;
        s[0] = textenc_mlm_forward(&r->m, r->tgt, c[0], NULL, &correct);
        s[1] = correct;
        textenc_backward(&r->m, 1, c[0], 1.0f, NULL);
    }
    if (w > 0 && b->B > 0 && isnan(s[3] = contrastive(r, b, step, t->dist.rank, c[1], (float)w))) return -1;
    dist_sum_f64(&t->dist, s, 4);
    r->mlm = s[0];
    r->con = w > 0 ? s[3] : NAN;
    r->acc = c[0] > 0 ? s[1] / c[0] : NAN;
    r->toks += s[2];
    *loss = s[0] + (w > 0 ? w * s[3] : 0);
    return c[0] > 0 || (w > 0 && c[1] > 1);   /* else nothing to learn (only empty sentences): no update */
}

static void task_log(avm_trainer *t, const avm_step_log *l) {
    tl_run *r = t->task;
    r->rate = r->toks / fmax(l->interval, 1e-9);
    avm_metric m[] = {{"step", (double)l->step, 1}, {"loss", l->loss, 0}, {"loss_mlm", r->mlm, 0},
                      {"loss_contrastive", r->con, 0}, {"acc", r->acc, 0}, {"lr", l->lr, 0},
                      {"grad_norm", l->grad_norm, 0}, {"tokens_per_s", r->rate, 0}, {"seconds", l->seconds, 0}};
    metrics_line(t->metrics, m, (int)(sizeof m / sizeof *m));
    avm_logonly("step %ld: loss %.6f (mlm %.6f, contrastive %.6f) acc %.4f lr %.3e grad_norm %.4f tokens/s %.0f", l->step,
                l->loss, r->mlm, r->con, r->acc, l->lr, l->grad_norm, r->rate);
    r->toks = 0;
}

static void task_progress(avm_trainer *t, char *buf, size_t n, double loss, double lr) {
    tl_run *r = t->task;
    snprintf(buf, n, "step %ld loss %.4f acc %.3f lr %.2e %.0f tok/s", t->step, loss, r->acc, lr, r->rate);
}

/* The masked-token cross-entropy over the whole validation set: masks fixed per batch (the
 * same at every validation), no dropout. */
static int task_validate(avm_trainer *t, double score[2]) {
    tl_run *r = t->task;
    avm_textloader *L = &r->VL;
    avm_textbatch b = {0};
    double v[3] = {0, 0, 0};   /* cross-entropy sum, masked tokens, correct */
    int rc = 0, nb = textloader_plan(L, 0);
    for (int bi = 0; bi < nb && !rc; bi++) {
        if ((rc = textloader_get(L, bi, t->dist.rank, t->dist.world, &b)) || b.B == 0) continue;
        reserve(r, (size_t)b.B * b.T);
        if (!text_mask(&b, r->f.seed, -1 - (int64_t)bi, r->m.cfg.vocab, r->f.mask_prob, r->inp, r->tgt)) continue;
        if ((rc = textenc_forward(&r->m, r->inp, b.len, b.B, b.T, NULL))) break;
        int count, correct;
        v[0] += textenc_mlm_forward(&r->m, r->tgt, 1, &count, &correct);   /* denominator 1: the sum */
        v[1] += count;
        v[2] += correct;
    }
    textbatch_free(&b);
    if (rc) return -1;
    dist_sum_f64(&t->dist, v, 3);
    double loss = v[1] > 0 ? v[0] / v[1] : NAN, acc = v[1] > 0 ? v[2] / v[1] : NAN;
    if (!isfinite(loss)) trainer_stop(t, "the validation loss", loss);
    if (trainer_is_root(t)) {
        avm_metric m[] = {{"step", (double)t->step, 1}, {"valid_loss", loss, 0}, {"valid_acc", acc, 0}};
        metrics_line(t->metrics, m, 3);
        avm_logonly("step %ld: valid_loss %.6f (masked accuracy %.4f over %.0f tokens)", t->step, loss, acc, v[1]);
    }
    score[0] = loss;
    score[1] = 0;
    return 0;
}

static int task_save_best(avm_trainer *t) {
    tl_run *r = t->task;
    return tl_model_save(&r->m, &r->vocab, r->bestdir, t->step);
}

/* The stored model and vocabulary must be this run's. */
static void check_resume(avm_trainer *t, const char *path, const avm_ckpt_meta *m) {
    tl_run *r = t->task;
    json_value *v = json_parse(m->config_json), *mine = json_parse(r->run_json);
    if (!v) avm_die("textlm: %s: stored configuration is not JSON", path);
    char key[160], *msg = NULL;   /* built first, so nothing is left allocated when the run dies */
    const char *part[2] = {"model", "vocab"};
    for (int k = 0; k < 2 && !msg; k++)
        if (json_first_diff(json_get(v, part[k]), json_get(mine, part[k]), part[k], key, sizeof key)) {
            char *a = json_text(json_path(v, key)), *b = json_text(json_path(mine, key));
            msg = xasprintf("%s holds a checkpoint of another text model (%s is %s; this run: %s); use another --out", path,
                            key, a, b);
            free(a);
            free(b);
        }
    json_free(v);
    json_free(mine);
    if (msg) {
        avm_fail("%s", msg);
        free(msg);
        avm_die("textlm: %s", avm_error());
    }
}

static void task_end(avm_trainer *t, avm_progress *p, double last_loss) {
    tl_run *r = t->task;
    progress_end(p, "textlm: %ld steps, last loss %.4f", t->step, last_loss);
    if (tl_model_save(&r->m, &r->vocab, r->modeldir, t->step)) avm_die("textlm: %s", avm_error());
    printf("textlm: %ld steps, model in %s\n", t->step, r->modeldir);
}

const avm_task_ops tl_task_ops = {task_step, task_log, task_progress, task_validate, task_save_best, check_resume,
                                  task_end, task_plan, task_get};
