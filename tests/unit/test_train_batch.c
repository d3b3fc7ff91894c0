/* train/batch.c on a synthetic feature dir made by tests/tools/train_mkfeats (--ramp:
 * fbank[f][0] = f, pixel[t][0] = t): every utterance once per epoch, token budget,
 * determinism by (seed, epoch), crops aligned across modalities and within bounds,
 * CMVN applied, rank slices partition the global batch, bounded shard cache. */
#include "check.h"
#include "common/util.h"
#include "train/batch.h"
#include <stdlib.h>
#include <string.h>

#define N 37

#include "mkfeats.h"

/* Checks one sample's tokens: consecutive frame indices from a crop offset. */
static void check_sample(const avm_loader *L, const avm_batch_data *d, int k, int *crops) {
    int T = d->T, len = d->len[k], nm = L->feats.n_mels, utt = d->utt[k], S = L->feats.stack;
    const float *a = d->audio + (size_t)k * T * L->audio_dim;
    int off = -1, ok = 1;
    for (int t = 0; t < len; t++)
        for (int s = 0; s < S; s++) {
            double f = a[(size_t)t * L->audio_dim + s * nm] / L->a_istd[0] + L->a_mean[0];
            if (t == 0 && s == 0) off = (int)lround(f) / S;
            ok &= fabs(f - (S * (off + t) + s)) < 1e-2 * (1 + f);
        }
    CHECK_MSG(ok, "audio tokens of %s not consecutive frames", L->feats.e[utt].utt_id);
    CHECK(off >= 0 && off + len <= L->ntok[utt]);
    *crops += off > 0;
    if (d->video) {
        const float *v = d->video + (size_t)k * T * L->video_dim;
        int vok = 1;
        for (int t = 0; t < len; t++)
            vok &= lround(v[(size_t)t * L->video_dim] / L->pix_istd + L->pix_mean) == (off + t) % 256;
        CHECK_MSG(vok, "video crop of %s not aligned with audio", L->feats.e[utt].utt_id);
    }
    int zero = 1;   /* padding rows are zero */
    for (size_t i = (size_t)len * L->audio_dim; i < (size_t)T * L->audio_dim; i++) zero &= a[i] == 0;
    CHECK(zero);
}

static void epoch_signature(avm_loader *L, long epoch, int *sig) {
    loader_plan(L, epoch);
    for (int k = 0; k < L->feats.n; k++) sig[k] = L->order[k];
    sig[L->feats.n] = L->nbatch;
}

int main(void) {
    mkfeats("feats", "");
    avm_loader L;
    CHECK(loader_open(&L, "feats", "feats", 1, 20, 120, 5, 1, 2) == 0);
    avm_batch_data d = {0};
    int seen[N] = {0}, crops = 0, slices_ok = 1;
    loader_plan(&L, 0);
    for (int b = 0; b < L.nbatch; b++) {
        CHECK(loader_get(&L, b, 0, 1, &d) == 0);
        int maxlen = 0;
        for (int k = 0; k < d.B; k++) {
            seen[d.utt[k]]++;
            maxlen = d.len[k] > maxlen ? d.len[k] : maxlen;
            CHECK(d.len[k] <= 20 && d.gidx[k] == k);
            check_sample(&L, &d, k, &crops);
        }
        CHECK(d.T == maxlen && (long)d.B * d.T <= 120);
        /* two ranks: contiguous halves, same rows as the single-process batch */
        avm_batch_data r0 = {0}, r1 = {0};
        CHECK(loader_get(&L, b, 0, 2, &r0) == 0 && loader_get(&L, b, 1, 2, &r1) == 0);
        slices_ok &= r0.B + r1.B == d.B && r0.global_B == d.B && r1.global_B == d.B;
        for (int k = 0; k < r1.B; k++) slices_ok &= r1.utt[k] == d.utt[r0.B + k] && r1.gidx[k] == r0.B + k;
        for (int k = 0; k < r0.B && slices_ok; k++)
            slices_ok &= !memcmp(r0.audio + (size_t)k * r0.T * L.audio_dim, d.audio + (size_t)k * d.T * L.audio_dim,
                                 sizeof(float) * d.len[k] * L.audio_dim);
        batch_data_free(&r0); batch_data_free(&r1);
    }
    CHECK(slices_ok);
    int once = 1;
    for (int i = 0; i < N; i++) once &= seen[i] == 1;
    CHECK_MSG(once, "every utterance exactly once per epoch");
    CHECK(crops > 0);                               /* long utterances were cropped at random offsets */
    CHECK(shard_reader_open_count(L.reader) <= 2);  /* bounded cache: 5 shards, 2 open */
    printf("epoch 0: %d batches, %d cropped samples off 0\n", L.nbatch, crops);

    int s0[N + 1], s0b[N + 1], s1[N + 1];
    epoch_signature(&L, 0, s0);
    epoch_signature(&L, 1, s1);
    epoch_signature(&L, 0, s0b);
    CHECK(!memcmp(s0, s0b, sizeof s0));             /* same (seed, epoch): same plan */
    CHECK(memcmp(s0, s1, sizeof s0) != 0);          /* next epoch: another order */
    loader_close(&L);

    /* validation mode: no shuffle, crops from 0, batches in length order */
    CHECK(loader_open(&L, "feats", "feats", 1, 20, 120, 5, 0, 2) == 0);
    loader_plan(&L, 0);
    int prev = 0, sorted = 1, c2 = 0;
    for (int b = 0; b < L.nbatch; b++) {
        CHECK(loader_get(&L, b, 0, 1, &d) == 0);
        for (int k = 0; k < d.B; k++) { sorted &= d.len[k] >= prev; prev = d.len[k]; check_sample(&L, &d, k, &c2); }
    }
    CHECK(sorted && c2 == 0);
    loader_close(&L);

    /* audio-only: the video is ignored; no-video dir asked for video: clear error */
    CHECK(loader_open(&L, "feats", "feats", 0, 20, 120, 5, 1, 2) == 0);
    loader_plan(&L, 0);
    CHECK(loader_get(&L, 0, 0, 1, &d) == 0 && d.video == NULL);
    loader_close(&L);
    mkfeats("novideo", "--no-video");
    CHECK(loader_open(&L, "novideo", "novideo", 1, 20, 120, 5, 1, 2) == -1 && strstr(avm_error(), "no video"));
    CHECK(loader_open(&L, "absent", "absent", 1, 20, 120, 5, 1, 2) == -1 && strstr(avm_error(), "absent"));

    /* another stacking (2 frames per token, --fps=50): tokens, token width and the frames of
     * each token come from the shards' configuration */
    mkfeats("stack2", "--stack=2");
    CHECK(loader_open(&L, "stack2", "stack2", 1, 20, 120, 5, 1, 2) == 0);
    CHECK(L.feats.stack == 2 && L.audio_dim == 2 * L.feats.n_mels && L.ntok[0] * 2 == L.feats.e[0].a_frames);
    loader_plan(&L, 0);
    int c3 = 0;
    for (int b = 0; b < L.nbatch; b++) {
        CHECK(loader_get(&L, b, 0, 1, &d) == 0);
        for (int k = 0; k < d.B; k++) check_sample(&L, &d, k, &c3);
    }
    loader_close(&L);
    batch_data_free(&d);
    return check_done("test_train_batch");
}
