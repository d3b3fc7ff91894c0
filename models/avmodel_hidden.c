/* Hidden states of the whole model with every stream present (avmodel.h): what
 * `avmask kmeans --source=layer` clusters (HuBERT iteration >= 2; AV-HuBERT clusters the
 * audio-visual layers, so the audio branch later learns labels the video informed). */
#include "models/avmodel.h"
#include "models/avmodel_internal.h"
#include "common/log.h"
#include <string.h>

/* fusion=sequence: the audio tokens, then the video tokens of each sample (both unmasked). */
static void sequence_input(avm_model *m, int B, int T) {
    int d = m->cfg.d;
    for (int b = 0; b < B; b++)
        for (int s = 0; s < 2; s++) {
            const avm_stream *st = s ? &m->video : &m->audio;
            size_t src = (size_t)b * T, dst = (size_t)b * 2 * T + (size_t)s * T;
            memcpy(m->fin + dst * d, st->out + src * d, (size_t)T * d * sizeof(float));
            memcpy(m->fpad + dst, st->pad + src, (size_t)T);
        }
}

/* Both encoders and the fusion encoder, no masking, no dropout; nothing to differentiate. */
static void av_forward(avm_model *m, const float *audio, const float *video, const int *len, int B, int T) {
    int seq = m->cfg.fusion == AVM_FUSION_SEQUENCE, Tf = seq ? 2 * T : T;
    avmodel_reserve(m, B, T);
    m->B = B; m->T = T; m->Tf = Tf; m->branch = 0; memset(&m->batch, 0, sizeof m->batch);
    m->drop_p = m->attn_p = 0.0f;
    m->audio.keep_masked = m->video.keep_masked = 0;
    avmodel_stream_forward(m, &m->audio, audio, len, NULL, B, T, 0.0f, 0.0f, NULL);
    avmodel_stream_forward(m, &m->video, video, len, NULL, B, T, 0.0f, 0.0f, NULL);
    if (seq) sequence_input(m, B, T);
    else avmodel_fuse_tokens(m, NULL, NULL, 1, B, T);
    avmodel_fusion_forward(m, B, Tf, 0.0f, 0.0f, NULL);
}

int avmodel_layer_forward(avm_model *m, const float *audio, const float *video, const int *len, int B, int T,
                          int layer, float *out) {
    int d = m->cfg.d, La = m->cfg.layers_audio;
    if (layer < 0 || layer >= avmodel_n_hidden(m))
        return avm_fail("model: layer %d outside 0..%d", layer, avmodel_n_hidden(m) - 1);
    if (m->cfg.modalities == AVM_MOD_AUDIO || !video) {   /* the audio branch alone */
        const float *h[avmodel_n_hidden(m)];
        if (avmodel_audio_forward(m, audio, len, B, T, out, h)) return -1;
        memcpy(out, h[layer], (size_t)B * T * d * sizeof(float));
        return 0;
    }
    if (B < 1 || T < 1) return avm_fail("model: empty batch (B %d, T %d)", B, T);
    if (T > m->cfg.max_len) return avm_fail("model: %d tokens exceed max_len %d", T, m->cfg.max_len);
    for (int b = 0; b < B; b++)
        if (len[b] < 0 || len[b] > T) return avm_fail("model: sample %d has length %d of %d", b, len[b], T);
    av_forward(m, audio, video, len, B, T);
    if (layer <= La) {      /* the audio encoder never sees the video */
        const float *h = layer ? m->audio.cache[layer - 1].y : m->audio.emb;
        memcpy(out, h, (size_t)B * T * d * sizeof(float));
        return 0;
    }
    const float *h = m->fusion_cache[layer - La - 1].y;
    for (int b = 0; b < B; b++)     /* the audio tokens' rows (sequence: the first T of 2T) */
        memcpy(out + (size_t)b * T * d, h + (size_t)b * m->Tf * d, (size_t)T * d * sizeof(float));
    return 0;
}
