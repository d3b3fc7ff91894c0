/* One training step (masks, modality dropout, forward, backward, gradient averaging
 * over ranks) and a validation pass. */
#include "common/util.h"
#include "train/mask.h"
#include "train/pretrain.h"
#include "train/seeding.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

double stats_loss(const avm_step_stats *s) {
    /* the objective: mean masked loss of each modality over the union batch, summed (and
     * in training with --novideo-pass, the mean masked-audio loss of that pass) */
    if (s->n_audio + s->n_video <= 0) return NAN;
    return (s->n_audio > 0 ? s->sum_audio / s->n_audio : 0) + (s->n_video > 0 ? s->sum_video / s->n_video : 0) +
           (s->n_audio_novideo > 0 ? s->sum_audio_novideo / s->n_audio_novideo : 0);
}
double stats_audio(const avm_step_stats *s) { return s->n_audio > 0 ? s->sum_audio / s->n_audio : NAN; }
double stats_video(const avm_step_stats *s) { return s->n_video > 0 ? s->sum_video / s->n_video : NAN; }
double stats_audio_novideo(const avm_step_stats *s) {
    return s->n_audio_novideo > 0 ? s->sum_audio_novideo / s->n_audio_novideo : NAN;
}
double stats_audio_shuffled(const avm_step_stats *s) {
    return s->n_audio_shuffled > 0 ? s->sum_audio_shuffled / s->n_audio_shuffled : NAN;
}
double stats_acc(const avm_step_stats *s) { return s->n_audio > 0 ? s->n_correct / s->n_audio : NAN; }

static void ensure(avm_stepper *s, int B, int T) {
    if ((long)B * T <= s->cap && B <= s->cap) return;
    s->cap = B * T > B ? B * T : B;
    s->mask_a = xrealloc(s->mask_a, s->cap);
    s->mask_v = xrealloc(s->mask_v, s->cap);
    s->drop_a = xrealloc(s->drop_a, s->cap);
    s->drop_v = xrealloc(s->drop_v, s->cap);
    s->all = xrealloc(s->all, s->cap);
    memset(s->all, 1, s->cap);
}

/* vshuf = the video of sample (k+1) mod B for sample k, looped to k's length; with one
 * sample, its own video rotated by half its length. Either way the frames are real but
 * unrelated to the audio they are paired with. */
static void shuffle_video(avm_stepper *s, const avm_batch_data *d, int vdim) {
    size_t n = (size_t)d->B * d->T * vdim;
    if (n > s->cap_vshuf) { s->vshuf = xrealloc(s->vshuf, n * sizeof(float)); s->cap_vshuf = n; }
    memset(s->vshuf, 0, n * sizeof(float));
    for (int k = 0; k < d->B; k++) {
        int p = (k + 1) % d->B, lp = d->len[p], shift = d->B == 1 ? lp / 2 : 0;
        if (lp <= 0) continue;
        for (int t = 0; t < d->len[k]; t++)
            memcpy(s->vshuf + ((size_t)k * d->T + t) * vdim, d->video + ((size_t)p * d->T + (t + shift) % lp) * vdim,
                   (size_t)vdim * sizeof(float));
    }
}

/* Masks (and modality dropout when train) of every sample, keyed by mask_key and the
 * sample's position in the global batch, so that ranks and resumed runs agree. */
static void make_masks(avm_stepper *s, const avm_pretrain_opts *po, const avm_batch_data *d,
                       int64_t mask_key, int train) {
    int B = d->B, T = d->T, av = po->model.modalities == AVM_MOD_AV;
    ensure(s, B, T);
    for (int k = 0; k < B; k++) {
        avm_rng r;
        train_rng(&r, po->seed, SEED_MASK_AUDIO, mask_key, d->gidx[k]);
        mask_spans(&r, s->mask_a + (size_t)k * T, d->len[k], T, po->mask_p_audio, po->mask_l_audio);
        memset(s->mask_v + (size_t)k * T, 0, T);
        if (av && po->video_mask != VMASK_NONE) {
            train_rng(&r, po->seed, SEED_MASK_VIDEO, mask_key, d->gidx[k]);
            mask_spans(&r, s->mask_v + (size_t)k * T, d->len[k], T, po->mask_p_video, po->mask_l_video);
        }
        s->drop_a[k] = s->drop_v[k] = 0;
        if (train && av && (po->drop_audio > 0 || po->drop_video > 0)) {
            train_rng(&r, po->seed, SEED_MODDROP, mask_key, d->gidx[k]);
            double u = rng_uniform(&r);
            if (u < po->drop_video) s->drop_v[k] = 1;
            else if (u < po->drop_video + po->drop_audio) s->drop_a[k] = 1;
        }
    }
}

/* --video-mask=substitute: the batch's video input becomes a copy of video whose masked
 * spans hold other spans of the same sample (keyed like the masks); the heads predict d's
 * true video. Otherwise the input is video itself. */
static void video_input(avm_stepper *s, const avm_pretrain_opts *po, const avm_batch_data *d, int64_t mask_key,
                        const float *video, avm_batch *b) {
    b->video = video;
    if (po->video_mask != VMASK_SUBSTITUTE || !video) return;
    int vdim = s->model.cfg.video_in;
    size_t n = (size_t)d->B * d->T * vdim, row = (size_t)d->T * vdim;
    if (n > s->cap_vsub) { s->vsub = xrealloc(s->vsub, n * sizeof(float)); s->cap_vsub = n; }
    for (int k = 0; k < d->B; k++) {
        avm_rng r;
        train_rng(&r, po->seed, SEED_VIDEO_SUBST, mask_key, d->gidx[k]);
        mask_substitute(&r, s->mask_v + (size_t)k * d->T, d->len[k], d->T, video + k * row, s->vsub + k * row, vdim);
    }
    b->video = s->vsub;
    b->video_target = d->video;
    b->video_substituted = 1;
}

static void fill_batch(avm_stepper *s, const avm_batch_data *d, avm_batch *b, avm_rng *rng) {
    memset(b, 0, sizeof *b);
    b->B = d->B;
    b->T = d->T;
    b->len = d->len;
    b->audio = d->audio;
    b->video = d->video;
    b->mask_audio = s->mask_a;
    b->mask_video = d->video ? s->mask_v : NULL;
    b->drop_audio = s->drop_a;
    b->drop_video = s->drop_v;
    b->rng = rng;
    b->labels = d->labels;      /* target=clusters */
}

static void add_stats(avm_step_stats *st, const avm_loss *l, const avm_batch_data *d, int streams) {
    st->n_audio += l->n_audio;
    st->sum_audio += l->n_audio * l->audio;
    st->n_video += l->n_video;
    st->sum_video += l->n_video * l->video;
    st->n_correct += l->correct_audio;
    for (int k = 0; k < d->B; k++) st->tokens += (double)d->len[k] * streams;
}

/* --novideo-pass: after the step's own backward, the same samples, masks and (noisy) input
 * once more with every video dropped and no audio dropped, the exported branch's
 * condition; its mean masked-audio loss over the global batch is one more term of the
 * objective, so the audio-alone path learns from every sample (modality dropout alone
 * gives it only its share of them). Dropout continues the step's stream. */
static int novideo_pass(avm_stepper *s, const avm_pretrain_opts *po, const avm_batch_data *d,
                        const float *audio, avm_rng *drop, avm_step_stats *st) {
    avm_loss l = {0};
    avm_batch b;
    if (d->B > 0) {
        fill_batch(s, d, &b, drop);
        b.unmasked_weight = (float)po->unmasked_weight;
        b.drop_audio = NULL;
        b.drop_video = s->all;      /* (the video encoder still runs; its output is not used) */
        b.audio = audio;            /* the step's input: noisy when it was, against the clean target */
        if (audio != d->audio) b.audio_target = d->audio;
        if (avmodel_forward(&s->model, &b, &l)) return -1;
    }
    double n[2] = {l.n_audio, l.n_audio * l.audio};   /* this pass's global count first, as above */
    dist_sum_f64(&s->dist, n, 2);
    st->n_audio_novideo = n[0];
    st->sum_audio_novideo = n[1];
    if (d->B > 0 && n[0] > 0) avmodel_backward_weighted(&s->model, (float)(l.n_audio / n[0]), 0.0f);
    return 0;
}

int step_train(avm_stepper *s, const avm_pretrain_opts *po, const avm_batch_data *d, long step,
               avm_step_stats *st) {
    memset(st, 0, sizeof *st);
    params_zero_grad(&s->model.params);
    avm_loss l = {0};
    avm_rng drop;
    train_rng(&drop, po->seed, SEED_DROPOUT, step, s->dist.rank);
    const float *audio = d->audio;
    if (d->B > 0) {
        make_masks(s, po, d, step, 1);
        avm_batch b;
        fill_batch(s, d, &b, &drop);
        b.unmasked_weight = (float)po->unmasked_weight;   /* validation: masked tokens only */
        video_input(s, po, d, step, d->video, &b);
        if (s->noise) {   /* noisy input, clean target */
            if (!(b.audio = audio = noise_mix(s->noise, d, step))) return -1;
            b.audio_target = d->audio;
        }
        if (avmodel_forward(&s->model, &b, &l)) return -1;
        add_stats(st, &l, d, d->video ? 2 : 1);
    }
    /* The global masked-token counts first (one small all-reduce): each rank weights its
     * modality losses by its share of them, so the summed gradients are exactly those of
     * the per-modality means over the union batch. */
    dist_sum_f64(&s->dist, (double *)st, (int)(sizeof *st / sizeof(double)));
    if (d->B > 0) {
        float wa = st->n_audio > 0 ? (float)(l.n_audio / st->n_audio) : 0.0f;
        float wv = st->n_video > 0 ? (float)(l.n_video / st->n_video) : 0.0f;
        avmodel_backward_weighted(&s->model, wa, wv);
    }
    if (po->novideo_pass && novideo_pass(s, po, d, audio, &drop, st)) return -1;
    return 0;   /* the trainer sums the ranks' gradients */
}

int step_validate(avm_stepper *s, const avm_pretrain_opts *po, avm_loader *L, avm_batch_data *d,
                  avm_step_stats *st) {
    memset(st, 0, sizeof *st);
    loader_plan(L, 0);
    for (int bi = 0; bi < L->nbatch; bi++) {
        if (loader_get(L, bi, s->dist.rank, s->dist.world, d)) return -1;
        if (d->B == 0) continue;
        int64_t key = -1 - (int64_t)bi;
        make_masks(s, po, d, key, 0);   /* fixed masks: comparable across steps */
        avm_batch b;
        fill_batch(s, d, &b, NULL);
        video_input(s, po, d, key, d->video, &b);
        avm_loss l;
        if (avmodel_forward(&s->model, &b, &l)) return -1;
        add_stats(st, &l, d, d->video ? 2 : 1);
        if (!d->video) continue;
        b.drop_video = s->all;              /* the video absent: what the exported branch sees */
        if (avmodel_forward(&s->model, &b, &l)) return -1;
        st->n_audio_novideo += l.n_audio;
        st->sum_audio_novideo += l.n_audio * l.audio;
        shuffle_video(s, d, s->model.cfg.video_in);
        b.drop_video = s->drop_v;
        video_input(s, po, d, key, s->vshuf, &b);   /* real frames, wrong speaker or wrong moment */
        if (avmodel_forward(&s->model, &b, &l)) return -1;
        st->n_audio_shuffled += l.n_audio;
        st->sum_audio_shuffled += l.n_audio * l.audio;
    }
    dist_sum_f64(&s->dist, (double *)st, (int)(sizeof *st / sizeof(double)));
    return 0;
}

void stepper_free(avm_stepper *s) {
    avmodel_free(&s->model);
    free(s->mask_a); free(s->mask_v); free(s->drop_a); free(s->drop_v); free(s->all); free(s->vshuf); free(s->vsub);
    s->mask_a = s->mask_v = s->drop_a = s->drop_v = s->all = NULL;
    s->vshuf = s->vsub = NULL;
    s->cap = 0;
    s->cap_vshuf = s->cap_vsub = 0;
}
