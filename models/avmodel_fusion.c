/* The fusion of the audio-visual model: the per-token projection of [audio_t ; video_t]
 * (fusion=concat) and the fusion encoder with its final norm, forward and backward. */
#include "models/avmodel.h"
#include "models/avmodel_internal.h"
#include <string.h>

/* Fusion encoder over m->fin [B*Tf, d] with m->fpad, then its final norm into m->fout. */
void avmodel_fusion_forward(avm_model *m, int B, int Tf, float p, float attn_p, avm_rng *rng) {
    const float *P = m->params.data;
    const float *x = m->fin;
    for (int l = 0; l < m->cfg.layers_fusion; l++) {
        layer_forward(&m->fusion[l], &m->params, &m->fusion_cache[l], x, m->fpad, B, Tf, p, attn_p, rng, &m->ws);
        x = m->fusion_cache[l].y;
    }
    layernorm_forward(x, B * Tf, m->cfg.d, P + m->fnorm_g, P + m->fnorm_b, m->fout, m->fmean, m->frstd);
}

/* dZ [B*Tf, d] (gradient w.r.t. m->fout) in place down to the fusion input. dhidden (NULL or
 * layers_fusion pointers) is added at each fusion layer output. */
void avmodel_fusion_backward(avm_model *m, float *dZ, int B, int Tf, float p, float attn_p,
                             const float *const *dhidden) {
    const float *P = m->params.data;
    float *G = m->params.grad;
    int L = m->cfg.layers_fusion, d = m->cfg.d, n = B * Tf;
    layernorm_backward(m->fusion_cache[L - 1].y, n, d, P + m->fnorm_g, m->fmean, m->frstd, dZ, dZ,
                       G + m->fnorm_g, G + m->fnorm_b);
    for (int l = L - 1; l >= 0; l--) {
        if (dhidden) avmodel_add_rows(dZ, dhidden[l], m->fpad, n, d);
        layer_backward(&m->fusion[l], &m->params, &m->fusion_cache[l], m->fpad, B, Tf, p, attn_p, dZ, dZ, &m->ws);
    }
}

/* fusion=concat: m->fin = fusion_proj([audio_t ; video_t]) with a dropped stream's half
 * (and the video half when video = 0: the audio branch) zero; modalities=audio: of audio_t.
 * Padding is the audio's: both streams share a sample's length. */
void avmodel_fuse_tokens(avm_model *m, const uint8_t *drop_a, const uint8_t *drop_v, int video, int B, int T) {
    memcpy(m->fpad, m->audio.pad, (size_t)B * T);
    avmodel_fuse_rows(m, m->audio.out, video ? m->video.out : NULL, drop_a, drop_v, B, T, m->fcat, m->fin);
}

void avmodel_fuse_rows(const avm_model *m, const float *a, const float *v, const uint8_t *drop_a,
                       const uint8_t *drop_v, int B, int T, float *cat, float *y) {
    const float *P = m->params.data;
    int d = m->cfg.d, S = m->nstreams, n = B * T;
    const float *x = a;
    if (S == 2) {
        #pragma omp parallel for schedule(static) if ((size_t)n * d > 65536)
        for (int i = 0; i < n; i++) {
            int b = i / T;
            float *r = cat + (size_t)i * 2 * d;
            if (drop_a && drop_a[b]) memset(r, 0, (size_t)d * sizeof(float));
            else memcpy(r, a + (size_t)i * d, (size_t)d * sizeof(float));
            if (!v || (drop_v && drop_v[b])) memset(r + d, 0, (size_t)d * sizeof(float));
            else memcpy(r + d, v + (size_t)i * d, (size_t)d * sizeof(float));
        }
        x = cat;
    }
    linear_forward(x, n, S * d, P + m->fproj_w, P + m->fproj_b, d, y);
}

/* Backward of avmodel_fuse_tokens: dZ [B*T, d] (gradient w.r.t. m->fin; free afterwards)
 * -> the projection's gradients, dA [B*T, d] and (S = 2, dV non-NULL) dV [B*T, d]; rows of a
 * dropped stream get 0. dcat [B*T, 2d] is scratch (S = 2). dV may be dZ. */
void avmodel_unfuse_tokens(avm_model *m, const float *dZ, const uint8_t *drop_a, const uint8_t *drop_v,
                           int B, int T, float *dcat, float *dA, float *dV) {
    const float *P = m->params.data;
    float *G = m->params.grad;
    int d = m->cfg.d, S = m->nstreams, n = B * T;
    if (S == 1) {
        linear_backward(m->audio.out, n, d, P + m->fproj_w, d, dZ, dA, G + m->fproj_w, G + m->fproj_b);
        return;
    }
    linear_backward(m->fcat, n, 2 * d, P + m->fproj_w, d, dZ, dcat, G + m->fproj_w, G + m->fproj_b);
    #pragma omp parallel for schedule(static) if ((size_t)n * d > 65536)
    for (int i = 0; i < n; i++) {
        int b = i / T;
        const float *r = dcat + (size_t)i * 2 * d;
        if (drop_a && drop_a[b]) memset(dA + (size_t)i * d, 0, (size_t)d * sizeof(float));
        else memcpy(dA + (size_t)i * d, r, (size_t)d * sizeof(float));
        if (!dV) continue;
        if (drop_v && drop_v[b]) memset(dV + (size_t)i * d, 0, (size_t)d * sizeof(float));
        else memcpy(dV + (size_t)i * d, r + d, (size_t)d * sizeof(float));
    }
}
