/* A fine-tuned CTC model, or a frame-level classifier (the frame-level probe, objective
 * "frame": one unit per 25 Hz token, <blank> standing for silence): the audio encoder
 * (export format) + a linear head (ctc_head.h) + units.
 * Its directory (written by finetune, read by decode):
 *   config.json, audio_encoder.h5, model.safetensors   the encoder (train/export.h)
 *   ctc_head.h5                                         ctc_head.weight [V, d], .bias [V]
 *   units.txt                                           train/units.h
 *   asr.json                                            {"format","units": char|phone|word,"vocab":V,
 *                                                        "objective": ctc|frame (absent: ctc),
 *                                                        "layer_weights": nw (0: the encoder output),
 *                                                        "layer_norm": 0|1 (absent: 0)}
 * With layer weights the head reads sum_k p_k S_k over the nw encoder states, p = softmax of
 * the learned weights, S_k = state k (layer_norm 0) or state k normalised over d per token by
 * a LayerNorm without affine parameters, eps 1e-5 (layer_norm 1, s3prl's normalize option).
 * The CMVN inside config.json is what the encoder was trained with; it replaces the
 * statistics of whatever feature dir is decoded. */
#ifndef AVMASK_ASR_H
#define AVMASK_ASR_H
#include "common/json.h"
#include "train/ctc_head.h"
#include "train/units.h"
#include "models/avmodel.h"
#include "models/ops.h"
#include "train/batch.h"

#define ASR_FORMAT "avmask-asr-1"

typedef struct {
    avm_model enc;
    avm_ctc_head head;
    avm_units units;
    avm_unit_kind kind;
    int layer_norm;              /* 1: every weighted state is layer-normed (head.nw > 0 only) */
    int frame;                   /* 1: objective "frame", a label per token, else CTC */
    json_value *config;          /* config.json */
    /* workspace of asr_forward / asr_train_loss */
    float *enc_out, *rows, *logits, *rep, *probs, *glog, *grows, *drep, *dhid;
    size_t cap_out, cap_rows, cap_logits, cap_rep, cap_glog, cap_grows, cap_drep, cap_dhid;
    float *lnh, *lnstat, *ln_one;   /* the layer mix's buffers (models/ops.h avm_layer_mix):
                                     * layer_norm: normed states, their means and rstd, [4][d] */
    size_t cap_lnh, cap_lnstat;
    avm_ctc_ws ctc;              /* the CTC loss's scratch (training and validation) */
    const float **hidden;        /* [n_hidden + 1] encoder states of the last forward, then its output
                                  * (after asr_forward with layer_norm: normed in place) */
    float **dhidden;             /* [n_hidden + 1] their gradients (the last one is drep) */
    int *off;                    /* [B + 1] row offsets of the utterances in rows/logits */
    int cap_b;
    /* a frozen probe's encoder states (train/state_cache.h; NULL: the encoder runs): the
     * training forward gathers them instead of running the encoder */
    const struct avm_state_cache *cache;
    float *cstates;              /* the gathered hidden states, [n_hidden][B*T, d] */
    size_t cap_cstates;
} avm_asr;

int  asr_load(avm_asr *a, const char *dir);
/* Writes dir (created) from the parts; config_json is config.json's text. */
int  asr_save(const avm_asr *a, const char *dir, const char *config_json);
void asr_free(avm_asr *a);
/* Replaces the loader's CMVN with the model's (config.json); refuses features of another
 * stacking (config.json features.stack) or input size, naming the shard. */
int  asr_apply_cmvn(const avm_asr *a, avm_loader *L);
/* The same for any encoder and its config.json (S2I models, train/s2i.h). */
int  encoder_apply_cmvn(const avm_model *enc, const json_value *config, avm_loader *L);
/* Encoder + head on a batch: a->rows [sum len, d] (unpadded encoder outputs, or their
 * learned weighted sum over the embeddings, every layer output and the final output when
 * head.nw > 0, each layer-normed first when layer_norm), a->logits [sum len, V], a->off.
 * The encoder runs its inference-only forward (avmodel_audio_infer: nothing kept for a
 * backward, no dropout), so the logits are asr_train_loss's without dropout bit for bit on
 * the same thread count. 0 or -1 + avm_fail. */
int  asr_forward(avm_asr *a, const avm_batch_data *d);
/* Sizes the encoder's inference arena once for batches of up to `tokens` samples x padded
 * tokens of at most T tokens each (optional: asr_forward grows it as needed). */
void asr_infer_reserve(avm_asr *a, long tokens, int T);
/* Forward, CTC loss (torch 'mean', zero_infinity) against labels (concatenated, L[b]
 * each), and backward: zeroes and fills head.p.grad and, unless frozen, enc.params.grad.
 * rng draws the encoder's dropout (enc.cfg.dropout, attn_dropout); NULL: no dropout.
 * nll [B] (optional) receives per-utterance losses. Returns the loss, NAN + avm_fail. */
double asr_train_loss(avm_asr *a, const avm_batch_data *d, const int *labels, const int *L,
                      int frozen, avm_rng *rng, double *nll);
/* The frame objective: forward, softmax cross-entropy of every unpadded token's logits
 * against y [sum len] (torch's F.cross_entropy, sum / denom: the global token count so that
 * ranks add up), and the backward as asr_train_loss's. *correct (optional): tokens whose
 * first arg-max is y. Returns the loss, NAN + avm_fail. */
double asr_train_frames(avm_asr *a, const avm_batch_data *d, const int32_t *y, double denom, int frozen,
                        avm_rng *rng, int *correct);
/* Weighted states of a fresh model: nw for the encoder (n_hidden + 1). */
int  asr_n_states(const avm_asr *a);
#endif
