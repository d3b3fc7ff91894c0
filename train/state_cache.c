/* Encoder states of the training utterances, computed once for a frozen probe (see
 * state_cache.h). */
#include "train/state_cache.h"
#include "common/progress.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

static int n_states(const avm_asr *a) { return a->head.nw ? avmodel_n_hidden(&a->enc) + 1 : 1; }

size_t state_cache_bytes(const avm_asr *a, const avm_loader *L) {
    size_t tokens = 0;
    for (int i = 0; i < L->feats.n; i++) tokens += (size_t)loader_len(L, i);
    return tokens * (size_t)n_states(a) * (size_t)a->enc.cfg.d * sizeof(float);
}

/* Index rows [i0, i1) as one batch through the inference forward, each utterance's states
 * copied out unpadded. */
static int fill_run(avm_state_cache *c, avm_asr *a, avm_loader *L, int i0, int i1, avm_batch_data *d,
                    const float **hidden, float **out, size_t *cap) {
    int B = i1 - i0, *utts = xmalloc(sizeof(int) * B), nh = avmodel_n_hidden(&a->enc);
    for (int b = 0; b < B; b++) utts[b] = i0 + b;
    int rc = loader_get_utts(L, utts, B, d);
    free(utts);
    if (rc) return -1;
    size_t nBT = (size_t)d->B * d->T * c->d;
    *out = xgrow(*out, cap, sizeof(float) * nBT);
    if (avmodel_audio_infer(&a->enc, d->audio, d->len, d->B, d->T, *out, c->nstates > 1 ? hidden : NULL)) return -1;
    hidden[nh] = *out;
    const float *const *src = c->nstates > 1 ? hidden : (const float *const *)&hidden[nh];
    for (int b = 0; b < B; b++) {
        size_t rows = (size_t)d->len[b] * c->d;
        float *dst = c->utt[i0 + b] = xmalloc(sizeof(float) * (rows * c->nstates + 1));
        for (int k = 0; k < c->nstates; k++)
            memcpy(dst + k * rows, src[k] + (size_t)b * d->T * c->d, sizeof(float) * rows);
    }
    return 0;
}

int state_cache_fill(avm_state_cache *c, avm_asr *a, avm_loader *L, long batch_tokens, int show) {
    int n = L->feats.n, nh = avmodel_n_hidden(&a->enc), rc = 0;
    c->n = n;
    c->nstates = n_states(a);
    c->d = a->enc.cfg.d;
    c->utt = xcalloc(n, sizeof *c->utt);
    const float **hidden = xcalloc(nh + 1, sizeof *hidden);
    float *out = NULL;
    size_t cap = 0;
    avm_batch_data d = {0};
    avm_progress p;
    if (show) progress_start(&p, "finetune: the frozen encoder's states", n);
    /* runs of consecutive rows within the token budget (samples x the longest) */
    for (int i0 = 0, i1; i0 < n && !rc; i0 = i1) {
        int longest = loader_len(L, i0);
        for (i1 = i0 + 1; i1 < n; i1++) {
            int l = loader_len(L, i1) > longest ? loader_len(L, i1) : longest;
            if ((long)l * (i1 - i0 + 1) > batch_tokens) break;
            longest = l;
        }
        rc = fill_run(c, a, L, i0, i1, &d, hidden, &out, &cap);
        if (show) progress_update(&p, i1, NULL);
    }
    if (show && !rc) progress_end(&p, "%d utterances, %zu MB kept in memory", n, (state_cache_bytes(a, L) >> 20) + 1);
    batch_data_free(&d);
    free(hidden); free(out);
    return rc;
}

int state_cache_gather(const avm_state_cache *c, const avm_batch_data *d, float *const *hidden) {
    size_t row = (size_t)d->T * c->d;   /* one sample's padded block */
    for (int b = 0; b < d->B; b++) {
        int u = d->utt[b];
        if (u < 0 || u >= c->n || !c->utt[u]) return avm_fail("utterance %d of the batch has no cached states", u);
        size_t rows = (size_t)d->len[b] * c->d;
        for (int k = 0; k < c->nstates; k++) {   /* the states, then zeros over the padding */
            float *dst = hidden[k] + b * row;
            memcpy(dst, c->utt[u] + k * rows, sizeof(float) * rows);
            memset(dst + rows, 0, sizeof(float) * (row - rows));
        }
    }
    return 0;
}

void state_cache_free(avm_state_cache *c) {
    for (int i = 0; i < c->n && c->utt; i++) free(c->utt[i]);
    free(c->utt);
    memset(c, 0, sizeof *c);
}
