/* The text encoder (models/README.md "The text encoder"), avmask's stand-in for BERT:
 *   x = tok_emb[id] + pos[t]                 token embedding (ops_token.c) + learned position
 *   -> pre-LN encoder layers (layer.c, the audio encoder's) with the padding mask
 *   -> final LayerNorm -> h [B*T, d]
 *   sentence embedding: the mean of h over the sample's unpadded tokens (<cls> included)
 *   MLM head (BERT's), at the predicted tokens only: u = LN(GELU(dense(h))), logits = u E^T
 *   + bias with E = tok_emb (tied), cross-entropy to the original token (ops_xent.c).
 * Token ids: 0 <pad> (its embedding row is zero and never trains), 1 <unk>, 2 <mask>,
 * 3 <cls> (train/vocab.h builds the rest). Parameter names: text_encoder.tok_emb [V, d],
 * text_encoder.pos [max_len, d], text_encoder.layers.{i}.* (as the audio encoder's),
 * text_encoder.norm.{weight,bias}; mlm_head.dense.{weight [d, d], bias}, mlm_head.norm.*,
 * mlm_head.bias [V] (training only: an exported encoder has none). */
#ifndef AVMASK_TEXTENC_H
#define AVMASK_TEXTENC_H
#include <stdint.h>
#include "common/json.h"
#include "common/rng.h"
#include "models/layer.h"
#include "models/params.h"

enum { AVM_TEXT_PAD = 0, AVM_TEXT_UNK = 1, AVM_TEXT_MASK = 2, AVM_TEXT_CLS = 3, AVM_TEXT_SPECIALS = 4 };

typedef struct {
    int vocab, d, ffn, heads, layers, max_len;
    float dropout, attn_dropout;
    int mlm_head;               /* 1: with the MLM head (training); 0: the encoder alone */
} avm_text_config;

/* vocab 0 (set from the vocabulary), d 128, ffn 512, 4 heads, 2 layers (BERT-tiny's size),
 * max_len 64 tokens, dropout and attention dropout 0.1, with the MLM head. */
void textenc_config_default(avm_text_config *c);
int  textenc_config_check(const avm_text_config *c);          /* -1 + avm_fail */
/* JSON object of every key but mlm_head, and back (unknown keys and missing ones are errors;
 * mlm_head is left as it is). */
void textenc_config_json(const avm_text_config *c, avm_jw *w);
int  textenc_config_from_json(avm_text_config *c, const json_value *obj);

typedef struct {
    avm_text_config cfg;
    avm_params params;
    size_t tok, pos, norm_g, norm_b;
    size_t dense_w, dense_b, hnorm_g, hnorm_b, out_b;      /* the MLM head */
    avm_layer *layers;
    avm_layer_cache *cache;
    avm_layer_ws ws;
    int cap_B, cap_T, cap_pred;
    float *x, *h, *mean, *rstd, *dh;    /* [B*T, d]: embeddings, final output, its LN stats, gradient */
    uint8_t *pad;                       /* [B*T] */
    /* MLM head state of the last mlm forward (n_pred rows) */
    int n_pred;
    int *idx;                           /* rows of h */
    int32_t *y;                         /* their targets */
    float *hin, *a, *ge, *u, *umean, *urstd, *logits, *g1, *g2, *padrow;
    int32_t *tid;                       /* [B*T] the ids, <pad> past each length */
    /* the last forward: shape, dropout, its output [B*T, d] and padding (h and pad after
     * textenc_forward, the inference arena's after textenc_infer) */
    int B, T;
    float drop_p, attn_p;
    const float *out;
    const uint8_t *out_pad;
    /* the inference forward's arena (models/textenc_infer.c) */
    struct {
        void *block;
        int cap_rows, cap_T, slots;
        float *x, *h;
        uint8_t *pad;
        int32_t *tid;
        avm_layer_scratch ls;
    } inf;
} avm_textenc;

/* Registers, allocates and initialises (seeded normal(0, 0.02) for embeddings, positions and
 * Linear weights, the <pad> row zero; zero biases; unit LayerNorm gains). Checks cfg. */
int  textenc_init(avm_textenc *m, const avm_text_config *cfg, uint64_t seed);
void textenc_free(avm_textenc *m);

/* 0, or -1 + avm_fail naming what is wrong with a batch (see textenc_forward). */
int  textenc_check_batch(const avm_textenc *m, const int32_t *ids, const int *len, int B, int T);
/* ids [B*T] (padding: anything past len[b], read as <pad>) -> m->h [B*T, d]. Dropout from
 * rng as configured (rng NULL: none). The arrays must stay valid until the backward.
 * -1 + avm_fail on T > max_len, a length outside [0, T] or an id outside the vocabulary. */
int  textenc_forward(avm_textenc *m, const int32_t *ids, const int *len, int B, int T, avm_rng *rng);
/* The same output for embedding only (models/textenc_infer.c): no dropout, nothing kept for
 * a backward, in an arena of its own (the training workspace is neither allocated nor
 * touched); the training forward's values without dropout bit for bit on the same thread
 * count. m->h is not written: read the output through textenc_pool. -1 + avm_fail as above. */
int  textenc_infer(avm_textenc *m, const int32_t *ids, const int *len, int B, int T);
/* Sentence embeddings of the last forward (either): out [B, d] = mean of its output over the
 * unpadded tokens. */
void textenc_pool(const avm_textenc *m, float *out);
/* MLM loss of the last forward: rows with target[i] >= 0 (unpadded) are predicted, the others
 * ignored; loss = sum of their cross-entropies / denom (0: their count). *count, *correct
 * (arg-max = target) may be NULL. Needs mlm_head. */
double textenc_mlm_forward(avm_textenc *m, const int32_t *target, double denom, int *count, int *correct);
/* Gradients, ACCUMULATED into m->params.grad, of scale * (the last MLM loss, same denom) +
 * sum(pooled * dpool) (dpool [B, d] may be NULL; mlm 0: no MLM term). The <pad> row of the
 * embedding table gets none (the tied decoder's share is dropped too). */
void textenc_backward(avm_textenc *m, int mlm, double denom, float scale, const float *dpool);
/* Part of textenc_backward (textenc_mlm.c): adds the MLM head's gradient at the predicted
 * rows to m->dh and its parameters' gradients. */
void textenc_mlm_backward(avm_textenc *m, double denom, float scale);
#endif
