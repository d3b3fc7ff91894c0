/* Cluster labels in batches (train/batch.c loader_open_labels) on a synthetic feature dir
 * made by tests/tools/train_mkfeats --ramp (fbank[f][0] = f gives each sample's crop offset)
 * with label shards written through data/labels.h: utterance u, token t has label
 * (5 u + t) mod 64, so a label names its token. Checks, over two training epochs (random
 * crops), validation (crops from 0) and two ranks: each sample's labels are the label
 * shard's rows at the sample's crop offset, padding is -1; refusals: another codebook, the
 * labels of another feature dir, a missing label dir. */
#include "check.h"
#include "common/util.h"
#include "train/batch.h"
#include <stdlib.h>
#include <string.h>

#define N 37
#define K 64

#include "mkfeats.h"

static int32_t label_of(int utt, int t) { return (int32_t)((5 * utt + t) % K); }

/* One label shard per feature shard, rows in the shard's order. */
static void mklabels(const char *feats, const char *dir, const char *hash) {
    avm_feats f;
    CHECK(feats_open(&f, feats) == 0);
    CHECK(mkdir_p(dir) == 0);
    for (int i = 0; i < f.n;) {
        int i0 = i, s = f.e[i].shard;
        while (i < f.n && f.e[i].shard == s) i++;
        int n = i - i0;
        char **ids = xcalloc(n, sizeof *ids);
        int64_t *off = xcalloc(n + 1, sizeof *off);
        for (int j = i0; j < i; j++) {      /* rows of a shard follow the index order */
            CHECK(f.e[j].row == j - i0);
            ids[j - i0] = f.e[j].utt_id;
            off[j - i0 + 1] = off[j - i0] + f.e[j].a_frames / f.stack;
        }
        int32_t *lab = xmalloc(sizeof(int32_t) * (off[n] + 1));
        for (int j = i0; j < i; j++)
            for (int t = 0; t < f.e[j].a_frames / f.stack; t++) lab[off[j - i0] + t] = label_of(j, t);
        char *p = labels_path(dir, s);
        CHECK(labels_write_shard(p, hash, K, "test", "x", "y", ids, n, off, lab) == 0);
        free(p); free(ids); free(off); free(lab);
    }
    feats_close(&f);
}

/* Sample k's labels against the label shard at its crop offset (read off its audio ramp). */
static int check_sample(const avm_loader *L, const avm_batch_data *d, int k, int *cropped) {
    int T = d->T, len = d->len[k], utt = d->utt[k];
    const float *a = d->audio + (size_t)k * T * L->audio_dim;
    int off = (int)lround(a[0] / L->a_istd[0] + L->a_mean[0]) / L->feats.stack, ok = off >= 0;
    for (int t = 0; t < T; t++) ok &= d->labels[(size_t)k * T + t] == (t < len ? label_of(utt, off + t) : -1);
    *cropped += off > 0;
    return ok;
}

static void run_epochs(avm_loader *L, int world, int *cropped, int *samples) {
    avm_batch_data d = {0};
    for (long ep = 0; ep < 2; ep++) {
        loader_plan(L, ep);
        for (int b = 0; b < L->nbatch; b++)
            for (int r = 0; r < world; r++) {
                CHECK(loader_get(L, b, r, world, &d) == 0 && d.labels);
                for (int k = 0; k < d.B; k++, (*samples)++)
                    CHECK_MSG(check_sample(L, &d, k, cropped), "labels of %s not at its crop (epoch %ld)",
                              L->feats.e[d.utt[k]].utt_id, ep);
            }
    }
    batch_data_free(&d);
}

int main(void) {
    mkfeats("feats", "");
    mklabels("feats", "lab", "0123456789abcdef");
    avm_loader L;
    int cropped = 0, samples = 0;
    CHECK(loader_open(&L, "feats", "feats", 1, 20, 120, 5, 1, 2) == 0);
    CHECK(loader_open_labels(&L, "lab", NULL) == 0);
    CHECK(labels_k(L.labels) == K && !strcmp(labels_hash(L.labels), "0123456789abcdef"));
    run_epochs(&L, 1, &cropped, &samples);
    run_epochs(&L, 2, &cropped, &samples);
    CHECK_MSG(cropped > 10, "only %d random crops: cropping untested", cropped);
    printf("training: %d samples, %d cropped, labels at the crop offset\n", samples, cropped);
    loader_close(&L);

    /* validation: no shuffling, crops from 0 */
    CHECK(loader_open(&L, "feats", "feats", 0, 20, 120, 5, 0, 2) == 0);
    CHECK(loader_open_labels(&L, "lab", "0123456789abcdef") == 0);
    cropped = samples = 0;
    run_epochs(&L, 1, &cropped, &samples);
    CHECK(cropped == 0 && samples == 2 * N);
    /* refusals: another codebook, another feature dir's labels, no label dir */
    CHECK(loader_open_labels(&L, "lab", "fedcba9876543210") == -1);
    CHECK_MSG(strstr(avm_error(), "lab/labels-00000.h5: utterance") && strstr(avm_error(), "labels of another codebook"),
              "%s", avm_error());
    mkfeats("other", "--seed=9");
    mklabels("other", "lab_other", "0123456789abcdef");
    CHECK(loader_open_labels(&L, "lab_other", NULL) == -1);
    CHECK_MSG(strstr(avm_error(), "lab_other/labels-0000") && strstr(avm_error(), "utterance"), "%s", avm_error());
    printf("refused: %s\n", avm_error());
    CHECK(loader_open_labels(&L, "absent", NULL) == -1 && strstr(avm_error(), "absent"));
    /* the loader still works with its first labels after the refusals */
    CHECK(L.labels && labels_k(L.labels) == K);
    loader_close(&L);

    /* no labels: batches carry none */
    CHECK(loader_open(&L, "feats", "feats", 1, 20, 120, 5, 1, 2) == 0);
    avm_batch_data d = {0};
    loader_plan(&L, 0);
    CHECK(loader_get(&L, 0, 0, 1, &d) == 0 && d.labels == NULL);
    batch_data_free(&d);
    loader_close(&L);
    return check_done("test_train_targets");
}
