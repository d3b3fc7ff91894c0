/* The audio-visual model: parameters, workspace, masked-prediction forward and backward.
 * The exported audio branch (avmodel_audio_forward/backward) is in avmodel_audio.c; the
 * per-stream steps they share are here, the fusion steps in avmodel_fusion.c. */
#include "models/avmodel.h"
#include "models/avmodel_internal.h"
#include "common/log.h"
#include "common/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t reg(avm_params *ps, const char *name, int ndim, int a, int b, int decay) {
    int shape[2] = {a, b};
    return params_add(ps, name, ndim, shape, decay);
}

/* An encoder-only model registers no mask embedding (it never masks: mask_emb stays 0 and is
 * never read, avmodel_forward refuses the model). */
static void stream_register(avm_stream *s, avm_params *ps, const char *mod, const avm_config *c,
                            int in, int nlayers) {
    char name[128];
    int d = c->d;
    s->in = in;
    snprintf(name, sizeof name, "%s_frontend.weight", mod); s->front_w = reg(ps, name, 2, d, in, 1);
    snprintf(name, sizeof name, "%s_frontend.bias", mod);   s->front_b = reg(ps, name, 1, d, 0, 0);
    snprintf(name, sizeof name, "%s_pos", mod);             s->pos = reg(ps, name, 2, c->max_len, d, 0);
    snprintf(name, sizeof name, "%s_type", mod);            s->type = reg(ps, name, 1, d, 0, 0);
    snprintf(name, sizeof name, "mask_emb_%s", mod);
    if (!c->encoder_only) s->mask_emb = reg(ps, name, 1, d, 0, 0);
    s->n = nlayers;
    s->layers = xcalloc((size_t)nlayers, sizeof *s->layers);
    s->cache = xcalloc((size_t)nlayers, sizeof *s->cache);
    for (int l = 0; l < nlayers; l++) {
        snprintf(name, sizeof name, "%s_encoder.layers.%d", mod, l);
        layer_register(&s->layers[l], ps, name, d, c->ffn, c->heads);
    }
    snprintf(name, sizeof name, "%s_encoder.norm.weight", mod); s->norm_g = reg(ps, name, 1, d, 0, 0);
    snprintf(name, sizeof name, "%s_encoder.norm.bias", mod);   s->norm_b = reg(ps, name, 1, d, 0, 0);
}

static void head_register(avm_stream *s, avm_params *ps, const char *mod, int d) {
    char name[128];
    snprintf(name, sizeof name, "%s_head.weight", mod); s->head_w = reg(ps, name, 2, s->in, d, 1);
    snprintf(name, sizeof name, "%s_head.bias", mod);   s->head_b = reg(ps, name, 1, s->in, 0, 0);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* normal(0, 0.02) for weights and embeddings, 0 for biases, 1 for LayerNorm gains; in
 * registration order from one seeded stream, so a seed fixes every value. An encoder-only
 * model draws the d values of the mask embedding it lacks where the full model registers it
 * (after audio_type) and drops them, so that both get the same encoder from a seed (a fresh
 * fine-tuning encoder is what it was when it carried the embedding; the heads come last). */
static void init_values(avm_params *ps, uint64_t seed, const avm_config *c) {
    avm_rng r;
    rng_seed(&r, seed, 0x1417);
    for (int i = 0; i < ps->n; i++) {
        const avm_param *p = &ps->p[i];
        float *v = ps->data + p->offset;
        int is_norm = strstr(p->name, "norm") && ends_with(p->name, ".weight");
        for (size_t j = 0; j < p->numel; j++)
            v[j] = ends_with(p->name, ".bias") ? 0.0f : is_norm ? 1.0f : (float)(0.02 * rng_normal(&r));
        if (c->encoder_only && !strcmp(p->name, "audio_type"))
            for (int j = 0; j < c->d; j++) rng_normal(&r);
    }
}

int avmodel_init(avm_model *m, const avm_config *cfg, uint64_t seed) {
    if (avmodel_config_check(cfg)) return -1;
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    avm_params *ps = &m->params;
    int av = cfg->modalities == AVM_MOD_AV;
    stream_register(&m->audio, ps, "audio", cfg, cfg->audio_in, cfg->layers_audio);
    if (av) stream_register(&m->video, ps, "video", cfg, cfg->video_in, cfg->layers_video);
    m->nstreams = av ? 2 : 1;
    if (cfg->fusion == AVM_FUSION_CONCAT) {
        m->fproj_w = reg(ps, "fusion_proj.weight", 2, cfg->d, m->nstreams * cfg->d, 1);
        m->fproj_b = reg(ps, "fusion_proj.bias", 1, cfg->d, 0, 0);
    }
    m->fusion = xcalloc((size_t)cfg->layers_fusion, sizeof *m->fusion);
    m->fusion_cache = xcalloc((size_t)cfg->layers_fusion, sizeof *m->fusion_cache);
    for (int l = 0; l < cfg->layers_fusion; l++) {
        char name[128];
        snprintf(name, sizeof name, "fusion_encoder.layers.%d", l);
        layer_register(&m->fusion[l], ps, name, cfg->d, cfg->ffn, cfg->heads);
    }
    m->fnorm_g = reg(ps, "fusion_encoder.norm.weight", 1, cfg->d, 0, 0);
    m->fnorm_b = reg(ps, "fusion_encoder.norm.bias", 1, cfg->d, 0, 0);
    if (cfg->encoder_only) {
        /* no heads: what an export holds */
    } else if (cfg->target == AVM_TARGET_CLUSTERS) {
        avmodel_clusters_register(m);
    } else {
        head_register(&m->audio, ps, "audio", cfg->d);
        if (av) head_register(&m->video, ps, "video", cfg->d);
    }
    params_alloc(ps);
    init_values(ps, seed, cfg);
    return 0;
}

static void stream_free_bufs(avm_stream *s) {
    free(s->emb); free(s->out); free(s->mean); free(s->rstd); free(s->pad); free(s->mask);
    free(s->idx); free(s->head_in); free(s->pred); free(s->target);
    free(s->goff); free(s->pn); free(s->tn); free(s->pnorm); free(s->probs);
    s->emb = s->out = s->mean = s->rstd = s->head_in = s->pred = s->target = NULL;
    s->pn = s->tn = s->pnorm = s->probs = NULL;
    s->pad = s->mask = NULL;
    s->idx = s->goff = NULL;
}

static void stream_free(avm_stream *s) {
    stream_free_bufs(s);
    for (int l = 0; l < s->n; l++) layer_cache_free(&s->cache[l]);
    free(s->layers);
    free(s->cache);
}

static void ws_free_bufs(avm_model *m) {
    free(m->fin); free(m->fout); free(m->fmean); free(m->frstd); free(m->fpad); free(m->fcat);
    free(m->g1); free(m->g2); free(m->g3);
    m->fin = m->fout = m->fmean = m->frstd = m->fcat = m->g1 = m->g2 = m->g3 = NULL;
    m->fpad = NULL;
}

void avmodel_free(avm_model *m) {
    stream_free(&m->audio);
    stream_free(&m->video);
    avmodel_clusters_free(m);
    for (int l = 0; l < m->cfg.layers_fusion; l++) layer_cache_free(&m->fusion_cache[l]);
    free(m->fusion);
    free(m->fusion_cache);
    ws_free_bufs(m);
    layer_ws_free(&m->ws);
    avmodel_infer_free(m);
    params_free(&m->params);
    memset(m, 0, sizeof *m);
}

static void stream_alloc(avm_stream *s, const avm_config *c, int B, int T, int drop) {
    size_t n = (size_t)B * T, d = c->d;
    stream_free_bufs(s);
    s->emb = xmalloc(n * d * 4); s->out = xmalloc(n * d * 4);
    s->mean = xmalloc(n * 4); s->rstd = xmalloc(n * 4);
    s->pad = xmalloc(n); s->mask = xmalloc(n); s->idx = xmalloc(n * sizeof(int));
    s->head_in = xmalloc(n * d * 4); s->pred = xmalloc(n * s->in * 4); s->target = xmalloc(n * s->in * 4);
    s->goff = xmalloc(((size_t)B + 1) * sizeof(int));
    if (c->loss == AVM_LOSS_INFONCE) {
        s->pn = xmalloc(n * s->in * 4); s->tn = xmalloc(n * s->in * 4);
        s->pnorm = xmalloc(n * 4); s->probs = xmalloc(n * T * 4);     /* sum of m_b^2 <= B T^2 */
    }
    for (int l = 0; l < s->n; l++) layer_cache_reserve(&s->cache[l], &s->layers[l], B, T, drop);
}

/* Grows the workspace (never shrinks) to hold a batch of B samples of T tokens. */
void avmodel_reserve(avm_model *m, int B, int T) {
    if (B <= m->cap_B && T <= m->cap_T) return;
    if (B < m->cap_B) B = m->cap_B;
    if (T < m->cap_T) T = m->cap_T;
    const avm_config *c = &m->cfg;
    int av = c->modalities == AVM_MOD_AV, cat = c->fusion == AVM_FUSION_CONCAT;
    int Tf = av && !cat ? 2 * T : T;
    int drop = c->dropout > 0 || c->attn_dropout > 0;
    size_t nf = (size_t)B * Tf, d = c->d, wide = cat ? (size_t)m->nstreams * d : d;
    if ((size_t)c->audio_in > wide) wide = c->audio_in;
    if (av && (size_t)c->video_in > wide) wide = c->video_in;
    stream_alloc(&m->audio, c, B, T, drop);
    if (av) stream_alloc(&m->video, c, B, T, drop);
    for (int l = 0; l < c->layers_fusion; l++) layer_cache_reserve(&m->fusion_cache[l], &m->fusion[l], B, Tf, drop);
    ws_free_bufs(m);
    m->fin = xmalloc(nf * d * 4); m->fout = xmalloc(nf * d * 4);
    m->fmean = xmalloc(nf * 4); m->frstd = xmalloc(nf * 4); m->fpad = xmalloc(nf);
    if (cat && av) m->fcat = xmalloc((size_t)B * T * 2 * d * 4);
    m->g1 = xmalloc(nf * wide * 4); m->g2 = xmalloc(nf * wide * 4); m->g3 = xmalloc(nf * wide * 4);
    layer_ws_reserve(&m->ws, &m->audio.layers[0], B, T);
    layer_ws_reserve(&m->ws, &m->fusion[0], B, Tf);
    m->cap_B = B;
    m->cap_T = T;
}

/* front-end -> mask -> + pos + type -> encoder layers -> final norm into s->out. */
void avmodel_stream_forward(avm_model *m, avm_stream *s, const float *input, const int *len,
                            const uint8_t *mask, int B, int T, float p, float attn_p, avm_rng *rng) {
    const float *P = m->params.data;
    int d = m->cfg.d, n = B * T;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            s->pad[i] = t >= len[b];
            s->mask[i] = mask && mask[i] && !s->pad[i];
        }
    linear_forward(input, n, s->in, P + s->front_w, P + s->front_b, d, s->emb);
    embed_forward(s->emb, B, T, d, s->keep_masked ? NULL : s->mask, P + s->mask_emb, P + s->pos, P + s->type);
    const float *x = s->emb;
    for (int l = 0; l < s->n; l++) {
        layer_forward(&s->layers[l], &m->params, &s->cache[l], x, s->pad, B, T, p, attn_p, rng, &m->ws);
        x = s->cache[l].y;
    }
    layernorm_forward(x, n, d, P + s->norm_g, P + s->norm_b, s->out, s->mean, s->rstd);
}

/* Adds dh to g on unpadded rows (dh may be NULL). */
void avmodel_add_rows(float *g, const float *dh, const uint8_t *pad, int n, int d) {
    if (!dh) return;
    for (int i = 0; i < n; i++)
        if (!pad[i]) for (int j = 0; j < d; j++) g[(size_t)i * d + j] += dh[(size_t)i * d + j];
}

/* dX [B*T, d] (gradient w.r.t. s->out) in place down to the front-end's parameters.
 * dhidden (NULL or 1 + s->n pointers) is added at the embeddings and each layer output. */
void avmodel_stream_backward(avm_model *m, avm_stream *s, const float *input, float *dX, int B, int T,
                             float p, float attn_p, const float *const *dhidden) {
    const float *P = m->params.data;
    float *G = m->params.grad;
    int d = m->cfg.d, n = B * T;
    const float *last = s->n ? s->cache[s->n - 1].y : s->emb;
    layernorm_backward(last, n, d, P + s->norm_g, s->mean, s->rstd, dX, dX, G + s->norm_g, G + s->norm_b);
    for (int l = s->n - 1; l >= 0; l--) {
        if (dhidden) avmodel_add_rows(dX, dhidden[l + 1], s->pad, n, d);
        layer_backward(&s->layers[l], &m->params, &s->cache[l], s->pad, B, T, p, attn_p, dX, dX, &m->ws);
    }
    if (dhidden) avmodel_add_rows(dX, dhidden[0], s->pad, n, d);
    embed_backward(dX, B, T, d, s->keep_masked ? NULL : s->mask, G + s->mask_emb, G + s->pos, G + s->type);
    linear_backward(input, n, s->in, P + s->front_w, d, dX, NULL, G + s->front_w, G + s->front_b);
}

static int check_batch(const avm_model *m, const avm_batch *bt) {
    if (m->cfg.encoder_only) return avm_fail("model: an encoder-only model has no masked-prediction heads");
    if (bt->B < 1 || bt->T < 1) return avm_fail("model: empty batch (B %d, T %d)", bt->B, bt->T);
    if (bt->T > m->cfg.max_len) return avm_fail("model: %d tokens exceed max_len %d", bt->T, m->cfg.max_len);
    if (!bt->len || !bt->audio) return avm_fail("model: batch without audio or lengths");
    if (m->cfg.modalities == AVM_MOD_AV && !bt->video) return avm_fail("model: modalities=av but the batch has no video");
    if (m->cfg.target == AVM_TARGET_CLUSTERS && !bt->labels) return avm_fail("model: target=clusters but the batch has no labels");
    for (int b = 0; b < bt->B; b++)
        if (bt->len[b] < 0 || bt->len[b] > bt->T) return avm_fail("model: sample %d has length %d of %d", b, bt->len[b], bt->T);
    return 0;
}

/* Copies a stream's outputs into its half of the fusion input and sets its padding there. */
static void to_fusion(avm_model *m, const avm_stream *s, const uint8_t *drop, int B, int T, int Tf, int off) {
    int d = m->cfg.d;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            size_t src = (size_t)b * T + t, dst = (size_t)b * Tf + off + t;
            memcpy(m->fin + dst * d, s->out + src * d, (size_t)d * sizeof(float));
            m->fpad[dst] = s->pad[src] || (drop && drop[b]);
        }
}

/* Head over the masked tokens of a stream that was not dropped; returns its loss against
 * the rows of target. */
static double head_forward(avm_model *m, avm_stream *s, const float *target, const uint8_t *drop,
                           int B, int T, int Tf, int off) {
    const float *P = m->params.data;
    int d = m->cfg.d, k = 0;
    for (int b = 0; b < B; b++) {
        s->goff[b] = k;
        if (drop && drop[b]) continue;
        for (int t = 0; t < T; t++)
            if (s->mask[b * T + t]) {
                memcpy(s->target + (size_t)k * s->in, target + ((size_t)b * T + t) * s->in, (size_t)s->in * sizeof(float));
                s->idx[k++] = b * Tf + off + t;
            }
    }
    s->goff[B] = k;
    s->n_pred = k;
    gather_rows(m->fout, d, s->idx, k, s->head_in);
    linear_forward(s->head_in, k, d, P + s->head_w, P + s->head_b, s->in, s->pred);
    if (m->cfg.loss == AVM_LOSS_INFONCE)
        return infonce_forward(s->pred, s->target, k, s->in, s->goff, B, AVM_INFONCE_TAU, s->pn, s->tn,
                               s->pnorm, s->probs);
    return recon_loss_forward(m->cfg.loss, s->pred, s->target, k, s->in);
}

static int all_dropped(const uint8_t *drop, int B) {
    if (!drop) return 0;
    for (int b = 0; b < B; b++)
        if (!drop[b]) return 0;
    return 1;
}

int avmodel_forward(avm_model *m, const avm_batch *bt, avm_loss *loss) {
    if (check_batch(m, bt)) return -1;
    int B = bt->B, T = bt->T, av = m->cfg.modalities == AVM_MOD_AV, seq = m->cfg.fusion == AVM_FUSION_SEQUENCE;
    int Tf = av && seq ? 2 * T : T, voff = seq ? T : 0;
    avmodel_reserve(m, B, T);
    float p = bt->rng ? m->cfg.dropout : 0.0f, ap = bt->rng ? m->cfg.attn_dropout : 0.0f;
    m->B = B; m->T = T; m->Tf = Tf; m->branch = 0; m->batch = *bt; m->drop_p = p; m->attn_p = ap;
    m->audio.keep_masked = 0;
    m->video.keep_masked = bt->video_substituted;
    /* Per-token fusion replaces a dropped video by zeros, so a batch without any video (the
     * no-video pass, validation's dropped-video score) skips the video encoder. */
    m->video_ran = av && (seq || !all_dropped(bt->drop_video, B));
    avmodel_stream_forward(m, &m->audio, bt->audio, bt->len, bt->mask_audio, B, T, p, ap, bt->rng);
    if (m->video_ran) avmodel_stream_forward(m, &m->video, bt->video, bt->len, bt->mask_video, B, T, p, ap, bt->rng);
    if (seq) {
        to_fusion(m, &m->audio, bt->drop_audio, B, T, Tf, 0);
        if (av) to_fusion(m, &m->video, bt->drop_video, B, T, Tf, T);
    } else {
        avmodel_fuse_tokens(m, bt->drop_audio, bt->drop_video, m->video_ran, B, T);
    }
    avmodel_fusion_forward(m, B, Tf, p, ap, bt->rng);
    memset(loss, 0, sizeof *loss);
    if (m->cfg.target == AVM_TARGET_CLUSTERS) {     /* the audio tokens' cluster ids only */
        if (avmodel_clusters_forward(m, bt, Tf, loss)) return -1;
        loss->total = loss->audio;
        return 0;
    }
    loss->audio = head_forward(m, &m->audio, bt->audio_target ? bt->audio_target : bt->audio, bt->drop_audio, B, T, Tf, 0);
    loss->n_audio = m->audio.n_pred;
    if (av) {
        loss->video = head_forward(m, &m->video, bt->video_target ? bt->video_target : bt->video, bt->drop_video, B, T, Tf, voff);
        loss->n_video = m->video.n_pred;
    }
    loss->total = loss->audio + loss->video;
    return 0;
}

/* dZ += the head's gradient (of weight x this modality's loss) at the predicted rows. */
static void head_backward(avm_model *m, avm_stream *s, float weight, float *dZ) {
    const float *P = m->params.data;
    float *G = m->params.grad;
    int d = m->cfg.d, k = s->n_pred;
    if (!k) return;
    if (m->cfg.loss == AVM_LOSS_INFONCE)
        infonce_backward(s->pn, s->tn, s->pnorm, s->probs, k, s->in, s->goff, m->B, AVM_INFONCE_TAU, weight, m->g2);
    else
        recon_loss_backward(m->cfg.loss, s->pred, s->target, k, s->in, weight, m->g2);
    linear_backward(s->head_in, k, d, P + s->head_w, s->in, m->g2, m->g3, G + s->head_w, G + s->head_b);
    scatter_add_rows(m->g3, d, s->idx, k, dZ);
}

/* Rows [off, off+T) of every sample of dF [B*Tf, d] into dX [B*T, d]. */
static void from_fusion(const float *dF, float *dX, int B, int T, int Tf, int off, int d) {
    for (int b = 0; b < B; b++)
        memcpy(dX + (size_t)b * T * d, dF + ((size_t)b * Tf + off) * d, (size_t)T * d * sizeof(float));
}

void avmodel_backward(avm_model *m) { avmodel_backward_weighted(m, 1.0f, 1.0f); }

void avmodel_backward_weighted(avm_model *m, float w_audio, float w_video) {
    const avm_batch *bt = &m->batch;
    int B = m->B, T = m->T, Tf = m->Tf, d = m->cfg.d, av = m->cfg.modalities == AVM_MOD_AV;
    if (!bt->audio || m->branch) avm_die("avmodel_backward: no masked-prediction forward to differentiate");
    float *dZ = m->g1;
    memset(dZ, 0, (size_t)B * Tf * d * sizeof(float));
    if (m->cfg.target == AVM_TARGET_CLUSTERS) {
        avmodel_clusters_backward(m, w_audio, dZ);
    } else {
        head_backward(m, &m->audio, w_audio, dZ);
        if (av) head_backward(m, &m->video, w_video, dZ);
    }
    avmodel_fusion_backward(m, dZ, B, Tf, m->drop_p, m->attn_p, NULL);
    /* g2 and g3 are free again: each stream's gradient goes through one of them */
    float *dV = m->g3;
    if (m->cfg.fusion == AVM_FUSION_SEQUENCE) {
        from_fusion(dZ, m->g2, B, T, Tf, 0, d);
        if (av) from_fusion(dZ, m->g3, B, T, Tf, T, d);
    } else {
        dV = m->g1;     /* dZ is spent once the projection's backward has read it */
        avmodel_unfuse_tokens(m, dZ, bt->drop_audio, bt->drop_video, B, T, m->g3, m->g2, m->video_ran ? dV : NULL);
    }
    avmodel_stream_backward(m, &m->audio, bt->audio, m->g2, B, T, m->drop_p, m->attn_p, NULL);
    if (m->video_ran) avmodel_stream_backward(m, &m->video, bt->video, dV, B, T, m->drop_p, m->attn_p, NULL);
}
