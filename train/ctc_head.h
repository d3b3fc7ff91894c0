/* The CTC output layer of a fine-tuned model: logits = x W^T + b, W [V, d], b [V], in its
 * own parameter buffer (names ctc_head.weight, ctc_head.bias) so that the encoder and the
 * head can be optimised (and the encoder frozen) separately. Saved as ctc_head.h5.
 * Optionally (nw > 0) x is a SUPERB-style learned weighted sum of nw encoder states,
 * softmax(ctc_head.layer_weights [nw]) (initialised to 0: a uniform average); the sum
 * itself, of the states or of their parameter-free LayerNorms (asr.json "layer_norm"),
 * is the layer-mix op of models/ops.h, which asr.c runs. Greedy decoding of the logits is here too: it is no op (nothing
 * differentiates it) and both validation (train/) and decode (eval/) use it. */
#ifndef AVMASK_CTC_HEAD_H
#define AVMASK_CTC_HEAD_H
#include <stdint.h>
#include "models/params.h"

#define CTC_HEAD_FORMAT "avmask-ctc-head-1"

typedef struct {
    avm_params p;
    int d, V, nw;
    size_t w, b, lw; /* offsets of weight, bias, layer weights (nw > 0) */
} avm_ctc_head;

/* Weight normal(0, 0.02) from seed, bias 0, layer weights 0 (nw = 0: none). */
void ctc_head_init(avm_ctc_head *h, int d, int V, int nw, uint64_t seed);
void ctc_head_free(avm_ctc_head *h);
/* x [n, d] -> logits [n, V]. */
void ctc_head_forward(const avm_ctc_head *h, const float *x, int n, float *logits);
/* Accumulates dW, db from glogits [n, V]; gx [n, d] = glogits W (NULL: skip). */
void ctc_head_backward(avm_ctc_head *h, const float *x, const float *glogits, int n, float *gx);
int  ctc_head_save(const avm_ctc_head *h, const char *path);
/* Loads into a head initialised with the right d and V. 0 or -1 + avm_fail. */
int  ctc_head_load(avm_ctc_head *h, const char *path);
/* Greedy (best path) decoding of scores [T, V] (logits or log-probs): argmax per
 * frame, collapse repeats, drop blanks. Writes at most T ids to out; returns count. */
int  ctc_greedy(const float *scores, int T, int V, int *out);
#endif
