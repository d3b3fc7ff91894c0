/* The audio-visual masked-prediction model (models/README.md "The model"):
 *   per modality: Linear front-end -> [masked rows := learned mask vector] -> + position + type
 *                 -> pre-LN encoder (audio: layers_audio, video: layers_video) -> final LayerNorm
 *   fusion (concat, default): per token Linear(2d -> d) of [audio_t ; video_t] (a dropped
 *           stream's half is zero) -> pre-LN encoder (layers_fusion) over T tokens -> final LN;
 *           (sequence): the encoder over [audio tokens; video tokens] (2T keys; padding and
 *           dropped streams masked out) -> final LayerNorm
 *   heads:  Linear d -> audio_in / video_in at the masked positions (concat: both heads read
 *           the fused token t), reconstructing the input (or batch.audio/video_target).
 *           target=clusters instead: HuBERT's head over the fused audio tokens predicting
 *           their cluster ids (avm_cluster_head, models/avmodel_clusters.c).
 * Loss of a modality over the masked, unpadded tokens of samples whose stream was not dropped
 * (0 when there are none): l1 (default) / l2 = mean of |pred - input| / (pred - input)^2 over
 * those tokens and all feature dims; infonce = mean over those tokens of the InfoNCE loss of
 * picking the token's own input among the sample's masked inputs by cosine / 0.1 (ops.h).
 * total = audio + video.
 * modalities=audio: no video parameters, the fusion encoder runs over the audio tokens only
 * (concat: after a Linear(d -> d), so that it is the graph of an AV model's audio branch).
 * encoder_only (with modalities=audio): that branch alone, without mask embedding and heads,
 * for fine-tuning (avmodel_audio_forward/backward only).
 * Parameter names: see models/README.md. */
#ifndef AVMASK_AVMODEL_H
#define AVMASK_AVMODEL_H
#include <stdint.h>
#include "common/json.h"
#include "common/rng.h"
#include "models/layer.h"
#include "models/params.h"

#define AVM_INFONCE_TAU 0.1f       /* InfoNCE temperature */
#define AVM_CLUSTER_TAU 0.1f       /* cluster logits: cosine / 0.1 (HuBERT's logit_temp) */

typedef enum { AVM_MOD_AV = 0, AVM_MOD_AUDIO = 1 } avm_modalities;
/* concat: per token [audio_t ; video_t] -> Linear(2d -> d) -> fusion layers over T tokens, a
 *         dropped stream entering as zeros (AV-HuBERT); modalities=audio: Linear(d -> d).
 * sequence: fusion layers over the 2T tokens [audio; video] of a sample (the first design;
 *         trained that way the model ignored the video; kept for comparison). */
typedef enum { AVM_FUSION_CONCAT = 0, AVM_FUSION_SEQUENCE = 1 } avm_fusion;
/* features: heads reconstruct the masked input features (loss l1 | l2 | infonce).
 * clusters: HuBERT's masked prediction of the audio tokens' cluster ids: final_proj
 *         Linear(d -> label_dim) of the fused token, cosine with each of the num_classes
 *         label_embs / AVM_CLUSTER_TAU, softmax cross-entropy (models/ops.h cluster_ce_*);
 *         no reconstruction heads, no video loss. */
typedef enum { AVM_TARGET_FEATURES = 0, AVM_TARGET_CLUSTERS = 1 } avm_target;

typedef struct {
    int d, ffn, heads;
    int layers_audio, layers_video, layers_fusion;
    int audio_in, video_in;     /* 4*n_mels = 320 ; H*W = 1024 */
    int max_len;                /* tokens per modality (learned positions) */
    float dropout, attn_dropout;
    avm_loss_kind loss;         /* l1 | l2 | infonce */
    avm_modalities modalities;  /* av | audio */
    avm_fusion fusion;          /* concat | sequence */
    avm_target target;          /* features | clusters */
    int num_classes;            /* clusters: k, the codebook's size */
    int label_dim;              /* clusters: final_proj's output dim (0: d) */
    /* 1: the audio encoder alone, what an export holds (modalities=audio, target=features):
     * no mask embedding and no heads, so fine-tuning carries no parameter it never trains.
     * A choice of what to build, not of the architecture: never in the JSON config. */
    int encoder_only;
} avm_config;

/* Named configs: tiny (d 128, ffn 512, 4 heads, 2/1/1), small (128/512/4, 4/2/2),
 * base (256/1024/4, 4/2/2); all with audio_in 320, video_in 1024, max_len 512,
 * dropout 0.1, attn_dropout 0.1, loss l1, modalities av. -1 + avm_fail if unknown. */
int avmodel_config_named(avm_config *c, const char *name);
/* Overrides one key (d, ffn, heads, layers_audio, layers_video, layers_fusion, audio_in,
 * video_in, max_len, dropout, attn_dropout, loss (l1|l2|infonce), modalities, fusion,
 * target (features|clusters), num_classes, label_dim) from its text value;
 * -1 + avm_fail on an unknown key or a malformed value. */
int avmodel_config_set(avm_config *c, const char *key, const char *value);
/* Checks the whole config (d % heads, zero layers, dropout in [0,1), ...); -1 + avm_fail. */
int avmodel_config_check(const avm_config *c);
/* The config as one JSON object (every key above; target, num_classes and label_dim only
 * with target=clusters, so that a features config reads as it always did), and back
 * (unknown keys are errors; a config without "fusion" was written before the key existed:
 * sequence; one without "target" is target=features). */
void avmodel_config_json(const avm_config *c, avm_jw *w);
int  avmodel_config_from_json(avm_config *c, const json_value *obj);
extern const char *const avmodel_config_keys[];     /* NULL-terminated */

/* One batch. audio [B, T, audio_in] and video [B, T, video_in] share T (both 25 tokens/s).
 * Tokens t >= len[b] are padding. mask_*: 1 = masked (replaced and predicted); may be NULL
 * (nothing masked). drop_*: 1 = that stream of sample b is absent (may be NULL). video,
 * mask_video, drop_video are ignored with modalities=audio. rng drives dropout; rng = NULL
 * turns dropout off (evaluation). The arrays must stay valid until the backward (the struct
 * itself is copied). */
typedef struct {
    int B, T;
    const int *len;
    const float *audio, *video;
    const uint8_t *mask_audio, *mask_video;
    const uint8_t *drop_audio, *drop_video;
    avm_rng *rng;
    /* What the heads predict at masked tokens; NULL = the input itself. A different array
     * (same shape) trains noisy input -> clean target, or corrupted video -> true video. */
    const float *audio_target, *video_target;
    /* 1: the masked video tokens hold substituted frames (AV-HuBERT's corruption: another
     * segment of the same sample) and keep them instead of the mask vector; they are still
     * predicted, against video_target. */
    int video_substituted;
    /* target=clusters: the cluster id of every audio token [B*T] (padding ignored), and the
     * weight of the unmasked tokens' cross-entropy (HuBERT's pred_nomask_weight; 0: masked
     * tokens only). */
    const int32_t *labels;
    float unmasked_weight;
} avm_batch;

typedef struct {
    double total, audio, video;
    int n_audio, n_video;       /* masked tokens that entered each loss */
    int correct_audio;          /* target=clusters: masked tokens whose argmax is the label */
} avm_loss;

/* target=clusters: the HuBERT head and its saved state (models/avmodel_clusters.c). Rows
 * [0, n_masked) are the masked audio tokens, [n_masked, n) the unmasked ones (only with
 * unmasked_weight > 0), all unpadded, of samples whose audio was not dropped. */
typedef struct {
    size_t proj_w, proj_b, emb;          /* final_proj.weight [e, d], .bias [e], label_embs [k, e] */
    int e, k, cap;                       /* cap: rows the buffers hold */
    int n, n_masked;
    float uw;                            /* the unmasked weight of the last forward */
    int *idx;                            /* fusion rows */
    int32_t *y;                          /* labels of the rows */
    float *h, *p, *pn, *pnorm, *probs;   /* [cap, d], [cap, e] x2, [cap], [cap, k] */
    float *en, *enorm, *de, *dp;         /* [k, e], [k], [k, e], [cap, e] */
} avm_cluster_head;

/* Forward state for one modality's encoder stack. */
typedef struct {
    avm_layer *layers;
    avm_layer_cache *cache;
    int n;
    size_t front_w, front_b, pos, type, mask_emb, norm_g, norm_b, head_w, head_b;
    float *emb, *out, *mean, *rstd;  /* embeddings [BT,d]; final-norm output and stats */
    uint8_t *pad, *mask;             /* [BT] */
    int *idx;                        /* fusion rows of the predicted tokens */
    float *head_in, *pred, *target;  /* [n_pred, d], [n_pred, in], [n_pred, in] */
    int *goff;                       /* [B+1] InfoNCE groups (samples) over the predicted rows */
    float *pn, *tn, *pnorm, *probs;  /* InfoNCE saved state (allocated for loss=infonce) */
    int n_pred, in;
    int keep_masked;                 /* 1: masked rows keep their input (no mask vector) */
} avm_stream;

/* The inference arena (models/avmodel_infer.c): one block, sized for the largest batch shape
 * asked and reused by every layer and every batch; nothing in it survives for a backward. */
typedef struct {
    size_t cap_rows;                     /* tokens (B * Tf) every buffer holds */
    int cap_T, cap_states, slots;        /* longest sequence (Tf), kept hidden states, threads */
    void *block;
    float *res;                          /* [rows, d] the residual stream, layers in place */
    float *aout, *vout;                  /* [rows, d] each stream after its final norm (vout: av) */
    float *states;                       /* [cap_states][rows, d] hidden states, when asked */
    uint8_t *pad, *fpad;                 /* [rows] padding of the streams, of the fusion tokens */
    avm_layer_scratch ls;                /* the layers' scratch (also the fusion's [a_t ; v_t]) */
} avm_infer;

typedef struct {
    avm_config cfg;
    avm_params params;
    avm_stream audio, video;
    avm_cluster_head ch;                 /* target=clusters only */
    avm_layer *fusion;
    avm_layer_cache *fusion_cache;
    size_t fnorm_g, fnorm_b;
    size_t fproj_w, fproj_b;             /* fusion=concat: fusion_proj.weight [d, S*d], .bias */
    int nstreams;                        /* S: 2 (av) or 1 (audio) */
    /* workspace, grown on demand to the largest batch seen */
    int cap_B, cap_T;
    float *fin, *fout, *fmean, *frstd;   /* fusion input and final-norm output [B*Tf, d] */
    uint8_t *fpad;                       /* [B*Tf] */
    float *fcat;                         /* concat, av: [B*T, 2d] the projection's input */
    float *g1, *g2, *g3;                 /* backward buffers [B*Tf * max(d, audio_in, video_in)] */
    avm_layer_ws ws;
    /* what the last forward was */
    int B, T, Tf;                        /* Tf = 2T (av, sequence) or T */
    int branch;                          /* 1: the last forward was avmodel_audio_forward */
    int video_ran;                       /* the last forward ran the video encoder */
    avm_batch batch;                     /* a copy; its arrays must outlive the backward */
    const float *audio_in;               /* avmodel_audio_forward input */
    float drop_p, attn_p;
    avm_infer inf;                       /* the inference forwards' arena (apart from the above) */
} avm_model;

/* Registers and allocates the parameters; initialises them from seed: normal(0, 0.02) for
 * Linear weights, positions, type and mask embeddings; zeros for biases; ones for LayerNorm
 * gains. Checks cfg first (-1 + avm_fail). An encoder-only model gets, for a seed, the
 * values the full audio model of its config gets (the draws of the mask embedding are taken
 * and dropped). */
int  avmodel_init(avm_model *m, const avm_config *cfg, uint64_t seed);
void avmodel_free(avm_model *m);

/* Masked-prediction forward (with dropout as configured). Fills *loss; -1 + avm_fail on a
 * batch the model cannot take (T > max_len, missing video with modalities=av, missing or
 * out-of-range labels with target=clusters, ...) and on an encoder-only model. With
 * target=clusters, loss->audio is
 * (sum of the masked tokens' CE + unmasked_weight * sum of the unmasked tokens' CE) / masked
 * tokens (HuBERT's normalisation), loss->video 0. */
int avmodel_forward(avm_model *m, const avm_batch *batch, avm_loss *loss);
/* Gradient of loss->total w.r.t. every parameter, ACCUMULATED into m->params.grad. */
void avmodel_backward(avm_model *m);
/* Gradient of w_audio * loss->audio + w_video * loss->video. Data parallelism uses it: with
 * w = (this rank's masked tokens of the modality) / (all ranks' masked tokens of it), the sum
 * of the ranks' gradients is exactly the gradient of the loss over the union batch. */
void avmodel_backward_weighted(avm_model *m, float w_audio, float w_video);

/* The exported audio branch: audio front-end + audio encoder + fusion encoder over the
 * audio tokens only (no masking, no dropout) + fusion final norm -> out [B*T, d].
 * hidden (optional, NULL or an array of avmodel_n_hidden() pointers) receives pointers into
 * the workspace (valid until the next forward): [0] the embeddings, [1..La] the audio layer
 * outputs, [La+1..La+Lf] the fusion layer outputs (before any final norm). Rows t >= len[b]
 * are padding. audio must stay valid until the backward. -1 + avm_fail on a bad shape. */
int avmodel_audio_forward(avm_model *m, const float *audio, const int *len, int B, int T,
                          float *out, const float **hidden);
/* The same with the configured dropout drawn from rng (fine-tuning); rng = NULL is
 * avmodel_audio_forward. */
int avmodel_audio_forward_rng(avm_model *m, const float *audio, const int *len, int B, int T,
                              avm_rng *rng, float *out, const float **hidden);
int avmodel_n_hidden(const avm_model *m);
/* Inference-only forward of the audio branch (models/avmodel_infer.c): out and hidden as
 * avmodel_audio_forward's, bit for bit on the same thread count (the same operations in the
 * same order), but nothing is kept for a backward, no dropout work is done and the training
 * workspace is neither allocated nor touched (there is nothing to differentiate afterwards).
 * Without hidden the layers run in place in one buffer of the arena; with it every state gets
 * a buffer of its own (valid until the next inference forward). -1 + avm_fail on a bad shape. */
int avmodel_audio_infer(avm_model *m, const float *audio, const int *len, int B, int T, float *out,
                        const float **hidden);
/* Sizes the inference arena once for batches of up to `tokens` samples x padded tokens, each
 * of at most T tokens, with room for every hidden state when `hidden` (the forwards grow it
 * when a batch does not fit; only the pages a batch uses become resident). */
void avmodel_infer_reserve(avm_model *m, long tokens, int T, int hidden);
/* Hidden state `layer` (numbered as avmodel_audio_forward's hidden: 0 the audio embeddings,
 * 1..La the audio encoder layers, La+1..La+Lf the fusion layers, each before any final norm)
 * of the audio tokens -> out [B*T, d], no masking, no dropout (models/avmodel_infer.c): an
 * inference forward in the arena above that stops at that layer (the values of the training
 * forward in eval mode, bit for bit).
 * modalities=av with video [B, T, video_in]: both streams enter, so the fusion layers are
 * audio-visual; video NULL or modalities=audio: the audio branch. Rows t >= len[b] are
 * padding. Nothing to differentiate afterwards. -1 + avm_fail on a bad layer or shape. */
int avmodel_layer_forward(avm_model *m, const float *audio, const float *video, const int *len, int B, int T,
                          int layer, float *out);
/* Backward of the last avmodel_audio_forward: dout [B*T, d] (gradient w.r.t. out) and
 * optional dhidden (NULL, or avmodel_n_hidden() pointers, each NULL or [B*T, d]) added to
 * the matching hidden state. Padded rows of dout/dhidden are ignored. Accumulates into
 * m->params.grad. */
void avmodel_audio_backward(avm_model *m, const float *dout, const float *const *dhidden);
/* The audio branch as a model of its own (modalities=audio, encoder_only: what `avmask export`
 * writes): a new model in dst with the branch's parameters of src (avmodel_is_branch_param); an AV model's
 * fusion_proj.weight [d, 2d] keeps its audio half [d, d] (the video half only ever multiplies
 * the zeros of an absent video). Its avmodel_audio_forward equals src's. -1 + avm_fail. */
int avmodel_audio_branch(const avm_model *src, avm_model *dst);
int avmodel_is_branch_param(const char *name);
#endif
