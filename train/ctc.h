/* CTC (Graves et al., 2006): loss and gradient in log space, blank = 0, and greedy
 * decoding. Matches torch.nn.functional.ctc_loss applied to log_softmax(logits):
 * the gradient is taken with respect to the LOGITS (the input of log-softmax), which
 * is what a CTC head needs and is unambiguous (torch's own gradient with respect to
 * log-probs is exp(lp) - gamma, which only makes sense after a log-softmax).
 *
 * Layout: a batch of B utterances is ragged: logits of utterance b are T[b] rows of
 * V floats, utterances concatenated ([sum T, V]); labels likewise concatenated
 * (L[b] ids in 1..V-1 each). */
#ifndef AVMASK_CTC_H
#define AVMASK_CTC_H

enum { CTC_SUM = 0, CTC_MEAN = 1 };

typedef struct {
    int reduction;      /* CTC_SUM: sum of per-utterance losses; CTC_MEAN: as torch's
                           'mean': mean over the batch of loss_b / max(L_b, 1) */
    int zero_infinity;  /* impossible utterances (loss inf) count 0 instead of inf */
    int batch;          /* CTC_MEAN divides by this many utterances (0: B): data-parallel ranks
                           pass the global batch, so that their losses and gradients sum to
                           those of the union batch */
} avm_ctc_opts;

/* Row-wise log-softmax of x [T, V] into out (may alias x). */
void ctc_log_softmax(const float *x, int T, int V, float *out);

/* One utterance from log-probs lp [T, V]: returns the negative log-likelihood
 * (INFINITY when no alignment exists, e.g. T < L + number of repeated neighbours).
 * If gamma != NULL it receives [T, V] posteriors of each label at each frame
 * (rows sum to 1; all zero when the loss is infinite). */
double ctc_nll(const float *lp, int T, int V, const int *labels, int L, float *gamma);

/* Batched loss over logits (see layout above), OpenMP-parallel over utterances.
 * nll (optional, [B]) receives per-utterance losses (INFINITY when impossible, also
 * with zero_infinity). grad (optional, same shape as logits) receives d loss / d logits.
 * Impossible utterances get a zero gradient (torch gives NaN without zero_infinity).
 * Returns the reduced loss, or NAN + avm_fail on invalid labels or lengths. */
double ctc_loss(const float *logits, const int *T, int B, int V, const int *labels,
                const int *L, const avm_ctc_opts *o, double *nll, float *grad);

/* Greedy (best path) decoding of scores [T, V] (logits or log-probs): argmax per
 * frame, collapse repeats, drop blanks. Writes at most T ids to out; returns count. */
int ctc_greedy(const float *scores, int T, int V, int *out);
#endif
