/* Fuzz target: checkpoint loading (train/ckpt_model.c ckpt_load_model, as export and
 * finetune --init do). The input is an edit list over the base sealed checkpoint
 * (fuzz_edit). Invariant: refused, or loaded with exactly the base's parameters and
 * attributes (never a corrupted model or step). */
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
    if (ckpt_load_model(fuzz_file("ckpt.h5", file, n), &m, &meta)) return 0;
    if (!fuzz_same_params(&m.params, 0, NULL)) fuzz_bug("checkpoint: loaded other parameters");
    if (meta.step != 3 || meta.epoch != 0 || meta.epoch_pos != 1 || meta.seed != 1 || meta.best_valid != 1.5)
        fuzz_bug("checkpoint: loaded other attributes");
    ckpt_meta_free(&meta);
    avmodel_free(&m);
    return 0;
}
