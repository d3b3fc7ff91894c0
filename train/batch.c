#define _GNU_SOURCE   /* qsort_r */
#include "train/batch.h"
#include "common/util.h"
#include "train/seeding.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int utt_tokens(const avm_feats *f, const avm_index_entry *e, int use_video, int *tok) {
    if (use_video && e->a_frames != f->stack * e->v_frames)
        return avm_fail("%s/index.tsv: %s has %d audio frames and %d video frames (expected %d per video frame)",
                        f->dir, e->utt_id, e->a_frames, e->v_frames, f->stack);
    *tok = e->a_frames / f->stack;
    return 0;
}

static int load_cmvn(avm_loader *L, const char *cmvn_dir) {
    char *p = path_join(cmvn_dir, "cmvn.h5");
    avm_cmvn c;
    int rc = cmvn_read(p, &c);
    if (!rc && c.dim != L->feats.n_mels)
        rc = avm_fail("%s: %d mel bins, the features %s have %d", p, c.dim, L->feats.dir, L->feats.n_mels);
    if (!rc && L->use_video && !(c.pix_std > 0))
        rc = avm_fail("%s: pixel std %g is not positive", p, c.pix_std);
    if (!rc) {
        int n = c.dim;
        L->a_mean = xmalloc(sizeof(float) * n);
        L->a_istd = xmalloc(sizeof(float) * n);
        for (int i = 0; i < n; i++) {
            L->a_mean[i] = (float)c.mean[i];
            L->a_istd[i] = (float)(1.0 / sqrt(fmax(c.var[i], 1e-10)));
        }
        L->pix_mean = (float)c.pix_mean;
        L->pix_istd = c.pix_std > 0 ? (float)(1.0 / c.pix_std) : 1.0f;
        cmvn_free(&c);
    }
    free(p);
    return rc;
}

int loader_open(avm_loader *L, const char *dir, const char *cmvn_dir, int use_video, int max_len,
                long batch_tokens, uint64_t seed, int shuffle, int max_open_shards) {
    memset(L, 0, sizeof *L);
    if (feats_open(&L->feats, dir)) return -1;
    if (use_video && !L->feats.has_video) {
        feats_close(&L->feats);
        return avm_fail("%s: features have no video (use --modalities=audio)", dir);
    }
    if (L->feats.n == 0) {
        feats_close(&L->feats);
        return avm_fail("%s/index.tsv: no utterances", dir);
    }
    L->use_video = use_video;
    L->max_len = max_len;
    L->batch_tokens = batch_tokens;
    L->seed = seed;
    L->shuffle = shuffle;
    L->audio_dim = L->feats.stack * L->feats.n_mels;
    L->video_dim = use_video ? L->feats.height * L->feats.width : 0;
    L->ntok = xmalloc(sizeof(int) * L->feats.n);
    int max_a = 0, max_v = 0, usable = 0;
    for (int i = 0; i < L->feats.n; i++) {
        const avm_index_entry *e = &L->feats.e[i];
        if (utt_tokens(&L->feats, e, use_video, &L->ntok[i])) { loader_close(L); return -1; }
        if (e->a_frames > max_a) max_a = e->a_frames;
        if (e->v_frames > max_v) max_v = e->v_frames;
        usable += L->ntok[i] > 0;
    }
    if (!usable) { loader_close(L); return avm_fail("%s: every utterance is shorter than one token", dir); }
    if (load_cmvn(L, cmvn_dir)) { loader_close(L); return -1; }
    L->fb = xmalloc(sizeof(float) * ((size_t)max_a * L->feats.n_mels + 1));
    if (use_video) L->px = xmalloc((size_t)max_v * L->feats.height * L->feats.width + 1);
    L->reader = shard_reader_new(&L->feats, max_open_shards);
    if (!L->reader) { loader_close(L); return -1; }
    L->order = xmalloc(sizeof(int) * L->feats.n);
    L->bstart = xmalloc(sizeof(int) * (L->feats.n + 1));
    L->epoch = -1;
    return 0;
}

void loader_close(avm_loader *L) {
    if (L->reader) shard_reader_free(L->reader);
    if (L->feats.dir) feats_close(&L->feats);
    free(L->a_mean); free(L->a_istd); free(L->ntok); free(L->order); free(L->bstart);
    free(L->fb); free(L->px);
    labels_close(L->labels);
    free(L->lab);
    memset(L, 0, sizeof *L);
}

int loader_open_labels(avm_loader *L, const char *dir, const char *expect_hash) {
    avm_labels *lb = labels_open(dir, &L->feats, expect_hash);
    if (!lb) return -1;
    int max_tok = 1;
    for (int i = 0; i < L->feats.n; i++) if (L->ntok[i] > max_tok) max_tok = L->ntok[i];
    labels_close(L->labels);
    free(L->lab);
    L->labels = lb;
    L->lab = xmalloc(sizeof(int32_t) * max_tok);
    return 0;
}

int loader_len(const avm_loader *L, int utt) {
    return L->ntok[utt] < L->max_len ? L->ntok[utt] : L->max_len;
}

/* ascending length; ties by the shuffled rank */
static int by_len(const void *a, const void *b, void *arg) {
    const int *const *c = arg;   /* {len, rank} */
    int i = *(const int *)a, j = *(const int *)b;
    if (c[0][i] != c[0][j]) return c[0][i] < c[0][j] ? -1 : 1;
    return c[1][i] - c[1][j];
}

int batch_plan(const int *len, int N, long budget, uint64_t seed, long epoch, int shuffle, int *order, int *bstart) {
    int n = 0;
    for (int i = 0; i < N; i++)
        if (len[i] > 0) order[n++] = i;
    avm_rng r;
    train_rng(&r, seed, SEED_SHUFFLE, epoch, 0);
    if (shuffle) rng_shuffle(&r, order, n);
    int *rank = xmalloc(sizeof(int) * (N ? N : 1));
    for (int k = 0; k < n; k++) rank[order[k]] = k;
    const int *ctx[2] = {len, rank};
    qsort_r(order, n, sizeof(int), by_len, ctx);
    free(rank);
    /* greedy cut: sorted ascending, so the newest sample is the longest of its batch */
    int nb = 0;
    bstart[0] = 0;
    for (int k = 0, start = 0; k < n; k++) {
        long need = (long)(k - start + 1) * len[order[k]];
        if (k > start && need > budget) { bstart[++nb] = k; start = k; }
    }
    bstart[++nb] = n;
    if (shuffle) {   /* shuffle whole batches: permute a batch index list, rebuild order */
        int *perm = xmalloc(sizeof(int) * nb), *neworder = xmalloc(sizeof(int) * (n ? n : 1));
        int *newstart = xmalloc(sizeof(int) * (nb + 1));
        for (int b = 0; b < nb; b++) perm[b] = b;
        rng_shuffle(&r, perm, nb);
        newstart[0] = 0;
        for (int b = 0, k = 0; b < nb; b++) {
            for (int j = bstart[perm[b]]; j < bstart[perm[b] + 1]; j++) neworder[k++] = order[j];
            newstart[b + 1] = newstart[b] + bstart[perm[b] + 1] - bstart[perm[b]];
        }
        memcpy(order, neworder, sizeof(int) * n);
        memcpy(bstart, newstart, sizeof(int) * (nb + 1));
        free(perm); free(neworder); free(newstart);
    }
    return nb;
}

void loader_plan(avm_loader *L, long epoch) {
    int N = L->feats.n, *len = xmalloc(sizeof(int) * N);
    for (int i = 0; i < N; i++) len[i] = L->ntok[i] > 0 && (!L->use || L->use[i]) ? loader_len(L, i) : 0;
    L->nbatch = batch_plan(len, N, L->batch_tokens, L->seed, epoch, L->shuffle, L->order, L->bstart);
    free(len);
    L->epoch = epoch;
}

void loader_plan_peak(const avm_loader *L, long *tokens, int *T) {
    *tokens = 0;
    *T = 0;
    for (int b = 0; b < L->nbatch; b++) {
        int t = 0;
        for (int k = L->bstart[b]; k < L->bstart[b + 1]; k++)
            if (loader_len(L, L->order[k]) > t) t = loader_len(L, L->order[k]);
        long n = (long)(L->bstart[b + 1] - L->bstart[b]) * t;
        if (n > *tokens) *tokens = n;
        if (t > *T) *T = t;
    }
}

static void ensure(avm_batch_data *d, int B, int T, int adim, int vdim, int labels) {
    if (B > d->cap_b) {
        d->cap_b = B;
        d->len = xrealloc(d->len, sizeof(int) * B);
        d->utt = xrealloc(d->utt, sizeof(int) * B);
        d->gidx = xrealloc(d->gidx, sizeof(int) * B);
    }
    size_t na = (size_t)B * T * adim, nv = (size_t)B * T * vdim;
    if (na > d->cap_a) { free(d->audio); d->audio = xmalloc(sizeof(float) * na); d->cap_a = na; }
    if (nv > d->cap_v) { free(d->video); d->video = xmalloc(sizeof(float) * nv); d->cap_v = nv; }
    if (!vdim) { free(d->video); d->video = NULL; d->cap_v = 0; }
    size_t nl = labels ? (size_t)B * T : 0;
    if (nl > d->cap_l) { free(d->labels); d->labels = xmalloc(sizeof(int32_t) * nl); d->cap_l = nl; }
    if (!labels) { free(d->labels); d->labels = NULL; d->cap_l = 0; }
}

/* Reads one utterance, crops it and writes normalised tokens into the batch row. */
static int fill_sample(avm_loader *L, int utt, int T, float *arow, float *vrow, int32_t *lrow) {
    if (shard_reader_get(L->reader, utt, L->fb, L->use_video ? L->px : NULL)) return -1;
    int tok = L->ntok[utt], len = loader_len(L, utt), off = 0;
    if (tok > len && L->shuffle) {
        avm_rng r;
        train_rng(&r, L->seed, SEED_CROP, L->epoch, utt);
        off = (int)rng_below(&r, (uint32_t)(tok - len + 1));
    }
    int nm = L->feats.n_mels, stack = L->feats.stack;
    for (int t = 0; t < len; t++)
        for (int s = 0; s < stack; s++) {
            const float *src = L->fb + ((size_t)(off + t) * stack + s) * nm;
            float *dst = arow + (size_t)t * L->audio_dim + s * nm;
            for (int i = 0; i < nm; i++) dst[i] = (src[i] - L->a_mean[i]) * L->a_istd[i];
        }
    memset(arow + (size_t)len * L->audio_dim, 0, sizeof(float) * (size_t)(T - len) * L->audio_dim);
    if (vrow) {
        int vd = L->video_dim;
        const uint8_t *src = L->px + (size_t)off * vd;
        for (size_t i = 0; i < (size_t)len * vd; i++) vrow[i] = ((float)src[i] - L->pix_mean) * L->pix_istd;
        memset(vrow + (size_t)len * vd, 0, sizeof(float) * (size_t)(T - len) * vd);
    }
    if (lrow) {     /* the same crop as the tokens */
        if (labels_get(L->labels, utt, L->lab)) return -1;
        for (int t = 0; t < T; t++) lrow[t] = t < len ? L->lab[off + t] : -1;
    }
    return 0;
}

/* Samples utts[0..B) as one batch; gidx from g0, global_B gn. */
static int get_utts(avm_loader *L, const int *utts, int B, int g0, int gn, avm_batch_data *out) {
    int T = 0;
    for (int k = 0; k < B; k++) {
        int l = loader_len(L, utts[k]);
        if (l > T) T = l;
    }
    ensure(out, B, T, L->audio_dim, L->video_dim, L->labels != NULL);
    out->B = B;
    out->T = T;
    out->global_B = gn;
    for (int k = 0; k < B; k++) {
        int utt = utts[k];
        out->utt[k] = utt;
        out->gidx[k] = g0 + k;
        out->len[k] = loader_len(L, utt);
        float *arow = out->audio + (size_t)k * T * L->audio_dim;
        float *vrow = out->video ? out->video + (size_t)k * T * L->video_dim : NULL;
        int32_t *lrow = out->labels ? out->labels + (size_t)k * T : NULL;
        if (fill_sample(L, utt, T, arow, vrow, lrow)) return -1;
    }
    return 0;
}

int loader_get(avm_loader *L, int b, int rank, int world, avm_batch_data *out) {
    if (b < 0 || b >= L->nbatch) return avm_fail("%s: batch %d outside the epoch's %d", L->feats.dir, b, L->nbatch);
    int g0 = L->bstart[b], gn = L->bstart[b + 1] - g0;
    int lo = (int)((long)gn * rank / world), hi = (int)((long)gn * (rank + 1) / world);
    return get_utts(L, L->order + g0 + lo, hi - lo, lo, gn, out);
}

int loader_get_utts(avm_loader *L, const int *utts, int B, avm_batch_data *out) {
    if (B < 1) return avm_fail("%s: empty batch", L->feats.dir);
    for (int k = 0; k < B; k++)
        if (utts[k] < 0 || utts[k] >= L->feats.n) return avm_fail("%s: utterance %d outside the index", L->feats.dir, utts[k]);
    return get_utts(L, utts, B, 0, B, out);
}

void batch_data_free(avm_batch_data *d) {
    free(d->len); free(d->utt); free(d->gidx); free(d->audio); free(d->video); free(d->labels);
    memset(d, 0, sizeof *d);
}
