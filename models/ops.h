/* Tensor ops with forward and backward, row-major float32, activations [rows, features].
 * Conventions shared by every op:
 *  - Linear weights are PyTorch-shaped [out, in]: y = x W^T + b.
 *  - Parameter gradients (dW, db, dg, ...) ACCUMULATE (+=): the caller zeroes the flat
 *    grad buffer once per step. Activation gradients (dx) are OVERWRITTEN.
 *  - Nothing allocates; saved activations and scratch come from the caller.
 *  - Masks are uint8: pad[i] = 1 means token i is padding (or otherwise absent). */
#ifndef AVMASK_OPS_H
#define AVMASK_OPS_H
#include <stddef.h>
#include <stdint.h>
#include "common/rng.h"

/* ---- linear (ops_linear.c) ---- */
/* y[n, out] = x[n, in] W[out, in]^T + b (b may be NULL). */
void linear_forward(const float *x, int n, int in, const float *W, const float *b, int out, float *y);
/* dx = dy W (skipped if dx is NULL); dW += dy^T x; db += column sums of dy (if db). */
void linear_backward(const float *x, int n, int in, const float *W, int out, const float *dy,
                     float *dx, float *dW, float *db);

/* ---- layer norm over the last dimension, eps 1e-5 (ops_norm.c) ---- */
#define AVM_LN_EPS 1e-5f
/* Saves mean[n] and rstd[n] (1/sqrt(var+eps), biased variance) for the backward. */
void layernorm_forward(const float *x, int n, int d, const float *g, const float *b,
                       float *y, float *mean, float *rstd);
/* dx may alias dy. */
void layernorm_backward(const float *x, int n, int d, const float *g, const float *mean,
                        const float *rstd, const float *dy, float *dx, float *dg, float *db);
/* The same plus a residual gradient in the same pass: dx = LN'(dy) + res (res may be
 * NULL; dx may alias dy, not res). */
void layernorm_backward_add(const float *x, int n, int d, const float *g, const float *mean,
                            const float *rstd, const float *dy, const float *res, float *dx, float *dg,
                            float *db);
/* y = the forward's output again, from x and its saved mean and rstd (bit for bit): the
 * backward recomputes it instead of keeping it. */
void layernorm_apply(const float *x, int n, int d, const float *g, const float *b, const float *mean,
                     const float *rstd, float *y);

/* ---- activations and dropout (ops_act.c) ---- */
/* Exact GELU: 0.5 x (1 + erf(x / sqrt 2)), as torch's default. x and y may alias. */
void gelu_forward(const float *x, size_t n, float *y);
/* dx = dy * gelu'(x); x is the GELU input. dy and dx may alias. */
void gelu_backward(const float *x, const float *dy, size_t n, float *dx);
/* Keep mask: mask[i] = 1 with probability 1 - p, drawn serially from rng (16 bits per draw,
 * so p acts as round(p * 65536) / 65536). */
void dropout_mask(uint8_t *mask, size_t n, float p, avm_rng *rng);
/* Inverted dropout: y = x * keep / (1 - p), keep from dropout_mask (stored in mask, 1 = kept).
 * p == 0 is an exact identity (rng and mask untouched). x, y may alias. */
void dropout_forward(const float *x, size_t n, float p, avm_rng *rng, uint8_t *mask, float *y);
void dropout_backward(const float *dy, size_t n, float p, const uint8_t *mask, float *dx);
/* y = res + x (the residual add; y may alias x or res). */
void add_forward(const float *x, const float *res, size_t n, float *y);
/* y = res + dropout(x) in one pass (the residual branches); mask as dropout_forward. y may
 * alias x or res. p == 0 is add_forward. */
void dropout_add_forward(const float *x, const float *res, size_t n, float p, avm_rng *rng,
                         uint8_t *mask, float *y);

/* y = dropout(GELU(x)) and its backward (dx = GELU'(x) * dropout'(dy)) in one pass each;
 * the same values, mask and rng draws as gelu_forward + dropout_forward (and
 * dropout_backward + gelu_backward). y may alias x; dx may alias dy. */
void gelu_dropout_forward(const float *x, size_t n, float p, avm_rng *rng, uint8_t *mask, float *y);
void gelu_dropout_backward(const float *x, const float *dy, size_t n, float p, const uint8_t *mask, float *dx);

/* ---- multi-head scaled dot-product self-attention core (ops_attn.c) ----
 * qkv [B*T, 3d] holds q | k | v packed as torch.nn.MultiheadAttention's in_proj makes them;
 * head h uses columns h*dh .. h*dh+dh-1 of each block, dh = d / heads. Padded keys get
 * -inf before the softmax; padded query rows produce ctx = 0 (and receive no gradient).
 * A row whose keys are all padded yields 0, not NaN. */
typedef struct {
    int B, T, d, heads;
    float p_drop;           /* dropout on the attention weights */
    int slots;              /* scratch slots (threads) the scratch holds; 0: omp_get_max_threads() */
} avm_attn_dims;
/* Floats of scratch for `slots` threads (2 T*T blocks each); slots 0: omp_get_max_threads(). */
size_t attn_scratch_floats(int T, int slots);
/* probs [B*heads*T*T]: softmax saved for the backward; dmask [same] dropout keep mask
 * (unused if p_drop == 0); ctx [B*T, d] is written. Masks are drawn serially from rng
 * before the parallel part, so results do not depend on the thread count. */
void attn_forward(const avm_attn_dims *a, const float *qkv, const uint8_t *pad, avm_rng *rng,
                  float *probs, uint8_t *dmask, float *ctx, float *scratch);
/* Inference: attn_forward with p_drop 0 (ignored) that keeps no softmax: each (sample, head)
 * works in its thread's T*T block of scratch (attn_infer_floats(T, slots) floats); ctx is
 * attn_forward's bit for bit. */
size_t attn_infer_floats(int T, int slots);
void attn_infer(const avm_attn_dims *a, const float *qkv, const uint8_t *pad, float *ctx, float *scratch);
/* dqkv [B*T, 3d] is overwritten. */
void attn_backward(const avm_attn_dims *a, const float *qkv, const uint8_t *pad, const float *probs,
                   const uint8_t *dmask, const float *dctx, float *dqkv, float *scratch);

/* ---- embeddings (ops_embed.c) ----
 * x [B*T, d] in place: rows with mask[i] = 1 are replaced by mask_emb, then every row gets
 * pos[t] + type added (t = position within the sample). mask and mask_emb may be NULL; type
 * NULL adds positions only (text). */
void embed_forward(float *x, int B, int T, int d, const uint8_t *mask, const float *mask_emb,
                   const float *pos, const float *type);
/* dx [B*T, d] in place: dpos[t] += sum_b dx, dtype += sum of all rows, dmask_emb += masked
 * rows; then masked rows of dx are zeroed (the front-end did not produce them). dtype NULL:
 * no type embedding. */
void embed_backward(float *dx, int B, int T, int d, const uint8_t *mask, float *dmask_emb,
                    float *dpos, float *dtype);

/* ---- text (ops_token.c) ---- */
/* y [n, d] = rows ids[i] of table [V, d] (ids in [0, V): the caller checks). */
void token_embed_forward(const int32_t *ids, int n, const float *table, int d, float *y);
/* dtable[ids[i]] += dy[i] for every i with ids[i] != pad (pad < 0: every i): the padding
 * token's row gets no gradient. Rows are added in order of i, on any thread count. */
void token_embed_backward(const int32_t *ids, int n, const float *dy, int d, int pad, float *dtable);
/* y [B, d] = mean over the unpadded rows t (pad[b*T + t] == 0; pad NULL: all) of x[b*T + t]
 * [B*T, d]; a sample without unpadded rows gets 0. */
void mean_pool_forward(const float *x, int B, int T, int d, const uint8_t *pad, float *y);
/* dx [B*T, d] = dy[b] / (unpadded rows of b) on unpadded rows, 0 on padded ones (overwritten). */
void mean_pool_backward(const float *dy, int B, int T, int d, const uint8_t *pad, float *dx);

/* ---- reconstruction losses and row gathers (ops_loss.c) ---- */
typedef enum { AVM_LOSS_L1 = 0, AVM_LOSS_L2 = 1, AVM_LOSS_INFONCE = 2 } avm_loss_kind;
/* Mean over n*f elements of |pred - target| (L1) or (pred - target)^2 (L2); 0 if n == 0.
 * Accumulated in double. */
double recon_loss_forward(avm_loss_kind k, const float *pred, const float *target, int n, int f);
/* dpred = scale * d(mean)/d(pred) (overwritten). L1 uses sign(0) = 0, like torch. */
void recon_loss_backward(avm_loss_kind k, const float *pred, const float *target, int n, int f,
                         float scale, float *dpred);
/* InfoNCE (ops_infonce.c). Rows are grouped: group g = rows off[g] .. off[g+1]-1 (one sample's
 * masked tokens). s_ij = cos(pred_i, target_j) / tau within a group, cos(a, b) = a.b /
 * (max(|a|, 1e-8) max(|b|, 1e-8)); loss = mean over all n rows of -log softmax_j(s_i.)[i].
 * Saves normalised rows pn, tn [n, f], pred norms [n] and the softmax (probs, one m*m block
 * per group, infonce_probs_floats() floats). No gradient flows to the targets. */
size_t infonce_probs_floats(const int *off, int ngroups);
double infonce_forward(const float *pred, const float *target, int n, int f, const int *off, int ngroups,
                       float tau, float *pn, float *tn, float *pnorm, float *probs);
/* dpred = scale * d(loss)/d(pred) (overwritten). */
void infonce_backward(const float *pn, const float *tn, const float *pnorm, const float *probs, int n, int f,
                      const int *off, int ngroups, float tau, float scale, float *dpred);
/* Cluster targets (ops_cluster_ce.c, HuBERT): s_ij = cos(x_i, emb_j) / tau for the n rows of
 * x [n, e] against the k rows of emb [k, e] (cos with norms clamped at 1e-8, as InfoNCE);
 * loss = (sum over rows i < nm of -log softmax(s_i.)[y_i] + uw * the same over rows i >= nm)
 * / nm, 0 if nm == 0 (rows [0, nm) are the masked tokens, the rest unmasked). *correct =
 * masked rows whose argmax (first maximum) is y_i. Saves xn [n, e], xnorm [n], en [k, e],
 * enorm [k] and the softmax probs [n, k]. */
double cluster_ce_forward(const float *x, int n, int nm, float uw, int e, const float *emb, int k, float tau,
                          const int32_t *y, float *xn, float *xnorm, float *en, float *enorm, float *probs,
                          int *correct);
/* dx [n, e] = scale * d loss / d x (overwritten); demb [k, e] += scale * d loss / d emb.
 * probs is consumed (turned into the logits' gradient); de [k, e] is scratch. */
void cluster_ce_backward(const float *xn, const float *xnorm, const float *en, const float *enorm, float *probs,
                         const int32_t *y, int n, int nm, float uw, int e, int k, float tau, float scale, float *dx,
                         float *demb, float *de);
/* Row helpers shared by the losses (ops_rows.c). unit_row: y = v / max(|v|, eps) over f
 * floats, returns max(|v|, eps); unit_row_backward: g := (g - u (u . g)) / nrm, the gradient
 * through it (u = y, nrm its return; a clamped norm is a constant). softmax_xent_row: the
 * row r of k logits becomes its softmax (max subtracted, sums in double); returns
 * -log softmax(r)[y], *arg (if arg) the first arg-max. */
#define AVM_UNIT_EPS 1e-8f
float  unit_row(const float *v, int f, float *y);
void   unit_row_backward(const float *u, float nrm, int f, float *g);
double softmax_xent_row(float *r, int k, int y, int *arg);
/* Cross-entropy over a vocabulary (ops_xent.c), torch's F.cross_entropy with ignore_index:
 * loss = sum over rows i with y[i] != ignore of -log softmax(logits_i)[y_i], divided by denom
 * (denom 0: the number of those rows, torch's 'mean'; data-parallel ranks pass the global
 * count so that their losses and gradients add up); 0 when there is no row. probs [n, V]
 * receives each counted row's softmax (ignored rows: a copy of their logits; may alias
 * logits). *count: rows counted, *correct: those whose first arg-max is y_i (either may be
 * NULL). */
double xent_forward(const float *logits, int n, int V, const int32_t *y, int ignore, double denom, float *probs,
                    int *count, int *correct);
/* dlogits [n, V] = scale * d loss / d logits = scale (P - onehot(y)) / denom, 0 on ignored
 * rows (overwritten; may alias probs). */
void xent_backward(const float *probs, int n, int V, const int32_t *y, int ignore, double denom, float scale,
                   float *dlogits);
/* Triplet margin loss (ops_triplet.c; FaceNet's, torch's F.triplet_margin_loss with p = 2
 * and eps = 0) between anchors a [n, e] and positives p [np, e], np >= n, anchor i paired
 * with p_i (rows n..np-1 of p are candidates for negatives only, e.g. the texts of other
 * ranks' samples):
 *   loss = sum over anchors with a negative k_i of max(0, |a_i - p_i| - |a_i - p_k_i| + margin)
 *          / denom (denom 0: the number of those anchors; 0 when there is none)
 * norm 1: the rows of a and p are L2-normalised first (norms clamped at 1e-8), so distances
 * lie in [0, 2] (|x - y|^2 = 2 - 2 cos). The negative of anchor i is a row of p:
 *   neg given: k_i = neg[i] (-1: none), e.g. a chosen other sentence;
 *   neg NULL:  the hardest in the batch, the row j != i of p closest to a_i (first of
 *              equals), among the rows with cls[j] != cls[i] when cls [np] is given
 *              (anchors of one class share a positive, e.g. one intent's text); none if
 *              no row is left.
 * The caller owns the saved state, sized for n anchors and np positives. */
typedef struct {
    int n, e, norm;
    float margin;
    float *an, *pn;         /* [n, e], [np, e] the rows the distances use (normalised with norm) */
    float *anorm, *pnorm;   /* [n], [np] their norms (norm only) */
    int *neg;               /* [n] the negative of each anchor (-1: none), written */
    float *dpos, *dneg;     /* [n] |a_i - p_i|, |a_i - p_k_i| */
    int np;                 /* rows of p (0: n) */
} avm_triplet;
/* *count: anchors with a negative; *active: of them, those with a positive hinge (either
 * may be NULL). */
double triplet_forward(avm_triplet *s, const float *a, const float *p, const int *neg, const int *cls, double denom,
                       int *count, int *active);
/* da [n, e], dp [np, e] = scale * d loss / d a, d p (overwritten; dp gathers each row's
 * share as a positive and as others' negative; dp NULL: not computed, e.g. a frozen text). */
void triplet_backward(const avm_triplet *s, double denom, float scale, float *da, float *dp);
/* dst[i] = src[idx[i]] for i < n (rows of d floats). */
void gather_rows(const float *src, int d, const int *idx, int n, float *dst);
/* dst[idx[i]] += src[i]; idx must not repeat. */
void scatter_add_rows(const float *src, int d, const int *idx, int n, float *dst);
/* ---- learned layer mix (ops_mix.c) ----
 * SUPERB's featurizer: y [n, d] = sum_k p_k S_k over K states x[k] [n, d], p = softmax(w)
 * of K learned weights, S_k = x[k] or (norm) its LayerNorm over d without affine parameters
 * (eps 1e-5, s3prl's `normalize`: the encoder's layernorm_forward/_backward with gain 1 and
 * bias 0). The caller owns the buffers. */
typedef struct {
    int K, n, d, norm;
    float *p;       /* [K] softmax(w), written by the forward */
    float *xn;      /* norm: [K][n*d] the normed states, saved for the backward */
    float *stats;   /* norm: [K][2][n] their means and 1/std */
    float *ln;      /* norm: [4d] scratch (gain 1, bias 0, their unused gradients) */
} avm_layer_mix;
void layer_mix_forward(const avm_layer_mix *m, const float *const *x, const float *w, float *y);
/* Inference: y as layer_mix_forward's, bit for bit, but the states are normed in place (x is
 * overwritten when norm) and nothing is saved for a backward: xn is unused, stats needs only
 * [2][n]. */
void layer_mix_infer(const avm_layer_mix *m, float *const *x, const float *w, float *y);
/* dw [K] += d loss / d w from dy [n, d]; unless dx is NULL, dx[k] [n, d] = d loss / d x[k]
 * (overwritten; dx[K-1] may alias dy, the others may not). */
void layer_mix_backward(const avm_layer_mix *m, const float *const *x, const float *dy, float *dw,
                        float *const *dx);

/* ---- CTC loss (ops_ctc.c) ----
 * CTC (Graves et al., 2006): loss and gradient in log space, blank = 0. Matches
 * torch.nn.functional.ctc_loss applied to log_softmax(logits): the gradient is taken with
 * respect to the LOGITS (the input of log-softmax), which is what a CTC head needs and is
 * unambiguous (torch's own gradient with respect to log-probs is exp(lp) - gamma, which only
 * makes sense after a log-softmax).
 * Layout: a batch of B utterances is ragged: logits of utterance b are T[b] rows of V floats,
 * utterances concatenated ([sum T, V]); labels likewise concatenated (L[b] ids in 1..V-1
 * each). */
enum { CTC_SUM = 0, CTC_MEAN = 1 };

typedef struct {
    int reduction;      /* CTC_SUM: sum of per-utterance losses; CTC_MEAN: as torch's
                           'mean': mean over the batch of loss_b / max(L_b, 1) */
    int zero_infinity;  /* impossible utterances (loss inf) count 0 instead of inf */
    int batch;          /* CTC_MEAN divides by this many utterances (0: B): data-parallel ranks
                           pass the global batch, so that their losses and gradients sum to
                           those of the union batch */
} avm_ctc_opts;

/* Scratch of ctc_loss, kept by the caller across steps so that a step allocates nothing:
 * the batch's offsets and losses, and one slot per OpenMP thread (log-probs [T, V], alpha
 * [T, 2L+1], beta [2 (2L+1)], sums [V]) sized for the longest utterance so far (T frames, L
 * labels) and grown when a longer one comes. Zero-initialise; ctc_ws_free releases it. */
typedef struct { float *lp; double *alpha, *beta, *acc; } avm_ctc_slot;
typedef struct {
    size_t *toff, *loff;        /* [cap_b] utterance offsets into logits and labels */
    double *loss;               /* [cap_b] */
    int cap_b, nslot;
    avm_ctc_slot *slot;         /* [nslot], nslot >= omp_get_max_threads() when last fitted */
    size_t cap_tv, cap_ts, cap_s, cap_v;   /* each slot's T*V, T*S, S and V */
} avm_ctc_ws;
/* Makes room for an utterance of T frames with L labels over V units in every thread's slot
 * (a caller that knows its longest utterance reserves once; ctc_loss grows it as needed). */
void ctc_ws_reserve(avm_ctc_ws *ws, int T, int L, int V);
void ctc_ws_free(avm_ctc_ws *ws);

/* Row-wise log-softmax of x [T, V] into out (may alias x). */
void ctc_log_softmax(const float *x, int T, int V, float *out);
/* One utterance from log-probs lp [T, V]: returns the negative log-likelihood
 * (INFINITY when no alignment exists, e.g. T < L + number of repeated neighbours).
 * If gamma != NULL it receives [T, V] posteriors of each label at each frame
 * (rows sum to 1; all zero when the loss is infinite). Allocates its own scratch (a helper
 * for one utterance; ctc_loss works in a workspace). */
double ctc_nll(const float *lp, int T, int V, const int *labels, int L, float *gamma);
/* Batched loss over logits (see layout above), OpenMP-parallel over utterances, its scratch
 * in ws (NULL: scratch allocated and freed by this call).
 * nll (optional, [B]) receives per-utterance losses (INFINITY when impossible, also
 * with zero_infinity). grad (optional, same shape as logits) receives d loss / d logits.
 * Impossible utterances get a zero gradient (torch gives NaN without zero_infinity).
 * Returns the reduced loss, or NAN + avm_fail on invalid labels or lengths. */
double ctc_loss(const float *logits, const int *T, int B, int V, const int *labels,
                const int *L, const avm_ctc_opts *o, double *nll, float *grad, avm_ctc_ws *ws);
#endif
