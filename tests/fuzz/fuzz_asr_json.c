/* Fuzz target: asr.json of a fine-tuned model (train/asr.c asr_load; the rest of the model
 * dir is the base's: units.txt with 4 units, the micro export, ctc_head.h5 without layer
 * weights). Invariant: a description that loads has vocab = the units' count, no layer
 * weights, and layer_norm 0. */
#include "fuzz.h"
#include "fuzzmodel.h"
#include "common/util.h"
#include "train/asr.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *path;
    if (!path) path = path_join(fuzz_base_asr(), "asr.json");
    static uint8_t *orig;
    static size_t orig_len;
    if (!orig && !(orig = fuzz_slurp(path, &orig_len))) fuzz_bug("no base asr.json");
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) fuzz_bug("cannot write asr.json");
    avm_asr a;
    if (!asr_load(&a, fuzz_base_asr())) {
        if (a.units.n != 4 || a.head.V != 4 || a.head.nw != 0 || a.layer_norm) fuzz_bug("asr.json: loaded another model");
        asr_free(&a);
    }
    return 0;
}
