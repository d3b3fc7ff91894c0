/* Pre-LN transformer encoder layer, the same computation as torch.nn.TransformerEncoderLayer
 * (norm_first=True, activation="gelu", batch_first=True):
 *   h = x + Drop(out_proj(MHA(LN1(x))))
 *   y = h + Drop(fc2(Drop(GELU(fc1(LN2(h))))))
 * Parameters (under a prefix such as "audio_encoder.layers.0"): norm1.{weight,bias},
 * attn.in_proj.{weight [3d,d], bias}, attn.out_proj.{weight [d,d], bias}, norm2.*,
 * ffn.fc1.{weight [ffn,d], bias}, ffn.fc2.{weight [d,ffn], bias}. */
#ifndef AVMASK_LAYER_H
#define AVMASK_LAYER_H
#include "models/params.h"
#include "models/ops.h"

typedef struct {
    int d, ffn, heads;
    /* offsets into the flat parameter (and gradient) buffer */
    size_t ln1_g, ln1_b, in_w, in_b, out_w, out_b, ln2_g, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
} avm_layer;

/* What the forward saves for the backward, sized for up to B*T rows. */
typedef struct {
    int cap_rows, cap_BT2;      /* capacity: rows, and B*T*T for the attention */
    const float *x;             /* the input (caller keeps it alive until the backward) */
    float *mean1, *rstd1, *qkv, *probs, *ctx, *h, *mean2, *rstd2, *f, *g, *y;   /* LN outputs: recomputed */
    uint8_t *m_attn, *m1, *m2, *m3;   /* dropout keep masks (attention, attn out, ffn, ffn out) */
} avm_layer_cache;

/* Temporaries shared by every layer of a model (c also holds the forward's LN outputs). */
typedef struct {
    int cap_rows, cap_T, d_cap, ffn_cap, slots;   /* slots: threads the attention scratch serves */
    float *a, *b, *c, *qkv, *f, *attn;
} avm_layer_ws;

/* Scratch of the inference-only layer (layer_infer) for up to `rows` = B*T tokens, carved
 * by the caller (the model's inference arena): ln and h [rows, d], f [rows, max(3d, ffn)],
 * stats [2 rows], attn (attn_infer_floats(T, slots) floats). */
typedef struct {
    float *ln, *h, *f, *stats, *attn;
    int slots;                  /* threads the attention scratch serves */
} avm_layer_scratch;

/* Registers the layer's parameters in ps under prefix (before params_alloc). */
void layer_register(avm_layer *L, avm_params *ps, const char *prefix, int d, int ffn, int heads);
/* Initialisation: normal(0, std) weights, zero biases, unit LayerNorm gains. */
void layer_init(const avm_layer *L, avm_params *ps, avm_rng *rng, float std);

/* (Re)allocates c for B*T rows if it is smaller; with_dropout allocates the masks. */
void layer_cache_reserve(avm_layer_cache *c, const avm_layer *L, int B, int T, int with_dropout);
void layer_cache_free(avm_layer_cache *c);
/* Grows w (never shrinks) to serve layer L on B*T rows; call it for every layer shape used. */
void layer_ws_reserve(avm_layer_ws *w, const avm_layer *L, int B, int T);
void layer_ws_free(avm_layer_ws *w);

/* x [B*T, d] -> c->y [B*T, d]. pad [B*T]: 1 = padded key/query. Dropout masks come from rng
 * (unused when p and attn_p are 0). c and w must be reserved for B, T. */
void layer_forward(const avm_layer *L, const avm_params *ps, avm_layer_cache *c, const float *x,
                   const uint8_t *pad, int B, int T, float p, float attn_p, avm_rng *rng, avm_layer_ws *w);
/* Inference: x [B*T, d] -> y [B*T, d] keeping nothing for a backward and drawing no dropout;
 * the same operations in the same order as layer_forward with p = attn_p = 0, so y is its
 * c->y bit for bit on the same thread count. y may be x (the layer then runs in place). */
void layer_infer(const avm_layer *L, const avm_params *ps, const float *x, const uint8_t *pad, int B, int T,
                 float *y, const avm_layer_scratch *s);
/* dy [B*T, d] -> dx [B*T, d] (overwritten; may alias dy); parameter gradients accumulate
 * into ps->grad. Uses the cache of the last forward. */
void layer_backward(const avm_layer *L, avm_params *ps, const avm_layer_cache *c, const uint8_t *pad,
                    int B, int T, float p, float attn_p, const float *dy, float *dx, avm_layer_ws *w);
#endif
