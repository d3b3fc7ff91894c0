/* CTC output layer and greedy decoding of its logits (see ctc_head.h). */
#include "train/ctc_head.h"
#include "common/rng.h"
#include "data/params_h5.h"
#include "models/ops.h"
#include <stdlib.h>
#include <string.h>

void ctc_head_init(avm_ctc_head *h, int d, int V, int nw, uint64_t seed) {
    memset(h, 0, sizeof *h);
    h->d = d; h->V = V; h->nw = nw;
    int ws[2] = {V, d}, bs[1] = {V}, ls[1] = {nw};
    h->w = params_add(&h->p, "ctc_head.weight", 2, ws, 1);
    h->b = params_add(&h->p, "ctc_head.bias", 1, bs, 0);
    if (nw > 0) h->lw = params_add(&h->p, "ctc_head.layer_weights", 1, ls, 0);
    params_alloc(&h->p);
    avm_rng r;
    rng_seed(&r, seed, 0x4354);
    float *w = h->p.data + h->w;
    for (int i = 0; i < V * d; i++) w[i] = (float)(0.02 * rng_normal(&r));
}

void ctc_head_free(avm_ctc_head *h) {
    params_free(&h->p);
    memset(h, 0, sizeof *h);
}

/* The linear op of models/: the same sgemm calls and in-order bias sums as before. */
void ctc_head_forward(const avm_ctc_head *h, const float *x, int n, float *logits) {
    linear_forward(x, n, h->d, h->p.data + h->w, h->p.data + h->b, h->V, logits);
}

void ctc_head_backward(avm_ctc_head *h, const float *x, const float *glogits, int n, float *gx) {
    linear_backward(x, n, h->d, h->p.data + h->w, h->V, glogits, gx, h->p.grad + h->w, h->p.grad + h->b);
}

/* A parameter file (data/params_h5.h) of every view. */
int ctc_head_save(const avm_ctc_head *h, const char *path) {
    avm_tensor *t;
    int n = params_tensors(&h->p, h->p.data, NULL, &t);
    int rc = params_h5_write(path, t, n, CTC_HEAD_FORMAT, "{}");
    free(t);
    return rc;
}

int ctc_head_load(avm_ctc_head *h, const char *path) {
    avm_tensor *t;
    int n = params_tensors(&h->p, h->p.data, NULL, &t);
    int rc = params_h5_read(path, t, n, CTC_HEAD_FORMAT);
    free(t);
    return rc;
}

int ctc_greedy(const float *scores, int T, int V, int *out) {
    int n = 0, prev = -1;
    for (int t = 0; t < T; t++) {
        const float *r = scores + (size_t)t * V;
        int best = 0;
        for (int k = 1; k < V; k++) if (r[k] > r[best]) best = k;
        if (best != 0 && best != prev) out[n++] = best;
        prev = best;
    }
    return n;
}
