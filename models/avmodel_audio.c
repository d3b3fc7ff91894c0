/* The exported audio branch: audio front-end + audio encoder + (concat) fusion_proj with the
 * video half zero + fusion encoder over the audio tokens alone (what modality dropout trains
 * the fusion encoder for) + fusion final norm. */
#include "models/avmodel.h"
#include "models/avmodel_internal.h"
#include "common/log.h"
#include <string.h>

int avmodel_n_hidden(const avm_model *m) { return 1 + m->cfg.layers_audio + m->cfg.layers_fusion; }

int avmodel_audio_forward(avm_model *m, const float *audio, const int *len, int B, int T,
                          float *out, const float **hidden) {
    return avmodel_audio_forward_rng(m, audio, len, B, T, NULL, out, hidden);
}

/* The checks of a batch every forward of the audio tokens makes. */
int avmodel_check_shape(const avm_model *m, const int *len, int B, int T) {
    if (B < 1 || T < 1) return avm_fail("model: empty batch (B %d, T %d)", B, T);
    if (T > m->cfg.max_len) return avm_fail("model: %d tokens exceed max_len %d", T, m->cfg.max_len);
    for (int b = 0; b < B; b++)
        if (len[b] < 0 || len[b] > T) return avm_fail("model: sample %d has length %d of %d", b, len[b], T);
    return 0;
}

int avmodel_audio_forward_rng(avm_model *m, const float *audio, const int *len, int B, int T,
                              avm_rng *rng, float *out, const float **hidden) {
    if (avmodel_check_shape(m, len, B, T)) return -1;
    avmodel_reserve(m, B, T);
    int d = m->cfg.d, La = m->cfg.layers_audio;
    m->B = B; m->T = T; m->Tf = T; m->branch = 1; memset(&m->batch, 0, sizeof m->batch); m->audio_in = audio;
    m->drop_p = rng ? m->cfg.dropout : 0.0f;
    m->attn_p = rng ? m->cfg.attn_dropout : 0.0f;
    m->audio.keep_masked = 0;
    avmodel_stream_forward(m, &m->audio, audio, len, NULL, B, T, m->drop_p, m->attn_p, rng);
    if (m->cfg.fusion == AVM_FUSION_CONCAT) {
        avmodel_fuse_tokens(m, NULL, NULL, 0, B, T);     /* the video half enters as zeros */
    } else {
        memcpy(m->fin, m->audio.out, (size_t)B * T * d * sizeof(float));
        memcpy(m->fpad, m->audio.pad, (size_t)B * T);
    }
    avmodel_fusion_forward(m, B, T, m->drop_p, m->attn_p, rng);
    memcpy(out, m->fout, (size_t)B * T * d * sizeof(float));
    if (hidden) {
        hidden[0] = m->audio.emb;
        for (int l = 0; l < La; l++) hidden[1 + l] = m->audio.cache[l].y;
        for (int l = 0; l < m->cfg.layers_fusion; l++) hidden[1 + La + l] = m->fusion_cache[l].y;
    }
    return 0;
}

void avmodel_audio_backward(avm_model *m, const float *dout, const float *const *dhidden) {
    if (!m->branch) avm_die("avmodel_audio_backward: the last forward was not avmodel_audio_forward");
    int B = m->B, T = m->T, d = m->cfg.d, n = B * T, La = m->cfg.layers_audio;
    float *g = m->g1;
    memset(g, 0, (size_t)n * d * sizeof(float));
    avmodel_add_rows(g, dout, m->audio.pad, n, d);     /* padded rows of dout are ignored */
    avmodel_fusion_backward(m, g, B, T, m->drop_p, m->attn_p, dhidden ? dhidden + 1 + La : NULL);
    if (m->cfg.fusion == AVM_FUSION_CONCAT) {
        avmodel_unfuse_tokens(m, g, NULL, NULL, B, T, m->g3, m->g2, NULL);
        g = m->g2;
    }
    avmodel_stream_backward(m, &m->audio, m->audio_in, g, B, T, m->drop_p, m->attn_p, dhidden);
}

/* Parameters of the audio branch: the audio front-end and embeddings, the audio encoder, the
 * fusion projection and the fusion encoder (not the heads, mask vectors or video). */
int avmodel_is_branch_param(const char *name) {
    static const char *pre[] = {"audio_frontend.", "audio_encoder.", "fusion_encoder.", "fusion_proj."};
    for (size_t i = 0; i < sizeof pre / sizeof *pre; i++) if (!strncmp(name, pre[i], strlen(pre[i]))) return 1;
    return !strcmp(name, "audio_pos") || !strcmp(name, "audio_type");
}

int avmodel_audio_branch(const avm_model *src, avm_model *dst) {
    avm_config c = src->cfg;
    c.modalities = AVM_MOD_AUDIO;
    c.target = AVM_TARGET_FEATURES;     /* the cluster head is pretraining-only, never exported */
    c.encoder_only = 1;                 /* nor are the mask embedding and the heads */
    if (avmodel_init(dst, &c, 0)) return -1;
    int d = c.d;
    for (int i = 0; i < dst->params.n; i++) {
        const avm_param *p = &dst->params.p[i];
        const avm_param *q = params_find(&src->params, p->name);
        float *to = dst->params.data + p->offset;
        if (!q) { avmodel_free(dst); return avm_fail("model: %s missing from the source model", p->name); }
        if (q->numel == p->numel) { memcpy(to, src->params.data + q->offset, p->numel * sizeof(float)); continue; }
        /* fusion_proj.weight of an AV model is [d, 2d]: keep the columns of the audio half */
        if (strcmp(p->name, "fusion_proj.weight") || q->numel != 2 * p->numel) {
            avmodel_free(dst);
            return avm_fail("model: %s has %zu values in the source model, %zu in the branch", p->name, q->numel, p->numel);
        }
        for (int r = 0; r < d; r++)
            memcpy(to + (size_t)r * d, src->params.data + q->offset + (size_t)r * 2 * d, (size_t)d * sizeof(float));
    }
    return 0;
}
