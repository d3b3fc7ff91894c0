/* The noise feature set and the batch mixer (see noise.h). */
#include "train/noise.h"
#include "common/util.h"
#include "train/seeding.h"
#include <stdlib.h>
#include <string.h>

int noise_open(avm_noise *N, const char *dir, const avm_loader *train, double prob, double snr_lo,
               double snr_hi, uint64_t seed, int max_open_shards) {
    memset(N, 0, sizeof *N);
    if (feats_open(&N->feats, dir)) return -1;
    if (noise_config_check(&train->feats, &N->feats)) { noise_close(N); return -1; }
    N->usable = xmalloc(sizeof(int) * N->feats.n);
    for (int i = 0; i < N->feats.n; i++)
        if (N->feats.e[i].a_frames > 0) N->usable[N->n_usable++] = i;
    if (!N->n_usable) { noise_close(N); return avm_fail("%s: every noise utterance is empty", dir); }
    N->reader = shard_reader_new(&N->feats, max_open_shards);
    N->n_mels = train->feats.n_mels;
    N->stack = train->feats.stack;
    N->mean = xmalloc(sizeof(float) * N->n_mels);
    N->istd = xmalloc(sizeof(float) * N->n_mels);
    memcpy(N->mean, train->a_mean, sizeof(float) * N->n_mels);
    memcpy(N->istd, train->a_istd, sizeof(float) * N->n_mels);
    N->prob = prob;
    N->snr_lo = snr_lo;
    N->snr_hi = snr_hi;
    N->seed = seed;
    return 0;
}

void noise_close(avm_noise *N) {
    if (N->reader) shard_reader_free(N->reader);
    if (N->feats.dir) feats_close(&N->feats);
    free(N->usable); free(N->mean); free(N->istd); free(N->out); free(N->seg);
    memset(N, 0, sizeof *N);
}

void noise_pick(const avm_noise *N, long step, int gidx, avm_noise_pick *p) {
    avm_rng r;
    train_rng(&r, N->seed, SEED_NOISE, step, gidx);
    memset(p, 0, sizeof *p);
    if (!(rng_uniform(&r) < N->prob)) return;
    p->mixed = 1;
    p->snr_db = N->snr_lo + (N->snr_hi - N->snr_lo) * rng_uniform(&r);
    p->utt = N->usable[rng_below(&r, (uint32_t)N->n_usable)];
    p->offset = (int)rng_below(&r, (uint32_t)N->feats.e[p->utt].a_frames);
}

/* frames noise frames from p->offset on, looping: at most two reads (the tail from the
 * offset, then the head), the rest copied, since frame j equals frame j - len. */
static int read_segment(avm_noise *N, const avm_noise_pick *p, int frames, float *dst) {
    int len = N->feats.e[p->utt].a_frames, nm = N->n_mels;
    int first = len - p->offset < frames ? len - p->offset : frames;
    if (shard_reader_get_audio(N->reader, p->utt, p->offset, first, dst)) return -1;
    int second = frames - first < p->offset ? frames - first : p->offset;
    if (second > 0 && shard_reader_get_audio(N->reader, p->utt, 0, second, dst + (size_t)first * nm)) return -1;
    for (size_t i = (size_t)len * nm; i < (size_t)frames * nm; i++) dst[i] = dst[i - (size_t)len * nm];
    return 0;
}

/* Undoes CMVN into raw log-mel, mixes, applies CMVN again (n values, whole frames). */
static void mix_row(const avm_noise *N, const avm_noise_pick *p, float *row, const float *noise, size_t n) {
    int nm = N->n_mels;
    for (size_t i = 0; i < n; i++) row[i] = row[i] / N->istd[i % nm] + N->mean[i % nm];
    noise_add_logmel(row, row, noise, n, noise_gain(row, noise, n, p->snr_db));
    for (size_t i = 0; i < n; i++) row[i] = (row[i] - N->mean[i % nm]) * N->istd[i % nm];
}

const float *noise_mix(avm_noise *N, const avm_batch_data *d, long step) {
    size_t row = (size_t)d->T * N->stack * N->n_mels, total = (size_t)d->B * row;
    if (total > N->cap) {
        free(N->out); free(N->seg);
        N->out = xmalloc(sizeof(float) * total);
        N->seg = xmalloc(sizeof(float) * total);
        N->cap = total;
    }
    if (total) memcpy(N->out, d->audio, sizeof(float) * total);
    avm_noise_pick *pk = xmalloc(sizeof *pk * (d->B ? d->B : 1));
    int rc = 0;
    for (int k = 0; k < d->B && !rc; k++) {   /* draws and reads in order: HDF5 is serial */
        noise_pick(N, step, d->gidx[k], &pk[k]);
        if (pk[k].mixed) rc = read_segment(N, &pk[k], d->len[k] * N->stack, N->seg + k * row);
    }
    if (!rc) {
        /* samples are independent: the result does not depend on the thread count */
#pragma omp parallel for schedule(dynamic)
        for (int k = 0; k < d->B; k++)
            if (pk[k].mixed)
                mix_row(N, &pk[k], N->out + k * row, N->seg + k * row, (size_t)d->len[k] * N->stack * N->n_mels);
    }
    free(pk);
    return rc ? NULL : N->out;
}
