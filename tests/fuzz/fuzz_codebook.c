/* Fuzz target: codebook.h5 (cluster/codebook.c codebook_read, as kmeans --apply reads it).
 * The input is an edit list over a base sealed codebook (k 3, dim 4, source fbank with 1
 * mel bin). Invariant: refused, or loaded with the base's centres, normalisation and hash. */
#include "fuzz.h"
#include "cluster/codebook.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

static km_codebook want;

static void make_base(void) {
    km_centres_init(&want.C, 3, 4);
    for (int i = 0; i < 12; i++) want.C.c[i] = (float)(i * 0.25 - 1);
    km_centres_update_norms(&want.C);
    km_feat_init(&want.kf, KM_SRC_FBANK, 1, 4);
    double mean[4] = {0, 1, 2, 3}, std[4] = {1, 2, 0.5, 4};
    km_feat_set_norm(&want.kf, mean, std);
    km_hash(km_source_name(want.kf.src), &want.C, want.kf.mean, want.kf.std, want.hash);
    want.feature_config = codebook_feature_config(&want.kf, NULL);
    if (codebook_write(fuzz_file("base-codebook.h5", NULL, 0), &want, NULL)) fuzz_bug("cannot write the base codebook");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t *base;
    static size_t base_len;
    if (!base) {
        make_base();
        char *p = xasprintf("%s/base-codebook.h5", fuzz_dir());
        if (!(base = fuzz_slurp(p, &base_len))) fuzz_bug("no base codebook");
        free(p);
    }
    size_t n;
    const uint8_t *file = fuzz_raw_or_edit(base, base_len, data, size, NULL, &n);
    km_codebook cb;
    if (codebook_read(fuzz_file("codebook.h5", file, n), &cb)) return 0;
    if (cb.C.k != 3 || cb.C.dim != 4 || memcmp(cb.C.c, want.C.c, 12 * sizeof(float)) ||
        memcmp(cb.kf.mean, want.kf.mean, 4 * sizeof(double)) || memcmp(cb.kf.std, want.kf.std, 4 * sizeof(double)) ||
        strcmp(cb.hash, want.hash))
        fuzz_bug("codebook: loaded other values");
    codebook_free(&cb);
    return 0;
}
