/* Fuzz target: audio_encoder.h5 of an export (data/params_h5.c params_h5_read via
 * train/export_io.c export_load). The input is an edit list over the base export's sealed file (fuzz_edit:
 * bit flips, truncation). Invariant: the export is refused, or loads exactly the base
 * parameters (never a corrupted model). */
#include "fuzz.h"
#include "fuzzmodel.h"
#include "common/util.h"
#include "train/export.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t *base;
    static size_t base_len;
    if (!base) {
        char *p = path_join(fuzz_base_export(), "audio_encoder.h5");
        if (!(base = fuzz_slurp(p, &base_len))) fuzz_bug("no base audio_encoder.h5");
        free(p);
    }
    size_t n;
    const uint8_t *file = fuzz_raw_or_edit(base, base_len, data, size, NULL, &n);
    const char *dir = fuzz_export_with("w-h5", "audio_encoder.h5", file, n);
    avm_model m;
    if (export_load(dir, &m, NULL)) return 0;
    if (!fuzz_same_params(&m.params, 1, export_is_branch)) fuzz_bug("audio_encoder.h5: loaded other parameters");
    avmodel_free(&m);
    return 0;
}
