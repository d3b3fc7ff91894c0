/* Fuzz target: checkpoint loading (train/ckpt_model.c ckpt_load_model, as export and
 * kmeans --source=layer do), and the look-up of one parameter by name (ckpt_has_param, as
 * finetune --resume tells an earlier layout). The input is an edit list over the base sealed
 * checkpoint (fuzz_edit). Invariant: refused, or loaded with exactly the base's parameters
 * and attributes (never a corrupted model or step), and then the look-up finds what the
 * base holds. */
#include "fuzz.h"
#include "fuzzmodel.h"
#include "train/checkpoint.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t *base;
    static size_t base_len;
    if (!base && !(base = fuzz_slurp(fuzz_base_ckpt(), &base_len))) fuzz_bug("no base checkpoint");
    size_t n;
    const uint8_t *file = fuzz_raw_or_edit(base, base_len, data, size, NULL, &n);
    avm_model m;
    avm_ckpt_meta meta;
    const char *path = fuzz_file("ckpt.h5", file, n);
    int has = ckpt_has_param(path, "mask_emb_audio");
    if (has < -1 || has > 1) fuzz_bug("checkpoint: ckpt_has_param returned neither -1, 0 nor 1");
    if (ckpt_load_model(path, &m, &meta)) return 0;
    if (!fuzz_same_params(&m.params, 0, NULL)) fuzz_bug("checkpoint: loaded other parameters");
    if (has != 1) fuzz_bug("checkpoint: loaded, but ckpt_has_param did not find mask_emb_audio");
    if (meta.step != 3 || meta.epoch != 0 || meta.epoch_pos != 1 || meta.seed != 1 || meta.best_valid != 1.5)
        fuzz_bug("checkpoint: loaded other attributes");
    ckpt_meta_free(&meta);
    avmodel_free(&m);
    return 0;
}
