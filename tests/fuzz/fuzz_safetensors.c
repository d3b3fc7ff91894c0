/* Fuzz target: model.safetensors of an export (train/safetensors.c st_read via
 * export_load). The input is a whole safetensors file (after a prefix "RAW:") or an
 * edit list over the base export's file (fuzz_edit: bit flips, truncation). Invariant: the
 * export is refused, or loads exactly the base parameters (never a corrupted model). */
#include "fuzz.h"
#include "fuzzmodel.h"
#include "common/util.h"
#include "train/export.h"
#include "train/safetensors.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t *base;
    static size_t base_len;
    if (!base) {
        char *p = path_join(fuzz_base_export(), "model.safetensors");
        if (!(base = fuzz_slurp(p, &base_len))) fuzz_bug("no base model.safetensors");
        free(p);
    }
    size_t n;
    const uint8_t *file = fuzz_raw_or_edit(base, base_len, data, size, "RAW:", &n);
    if (file == data) { file += 4; n -= 4; }
    const char *dir = fuzz_export_with("w-st", "model.safetensors", file, n);
    st_file f;
    if (!st_read(fuzz_file("x.safetensors", file, n), &f)) {
        for (int i = 0; i < f.n; i++)
            if (f.t[i].data < f.raw || f.t[i].data + f.t[i].bytes > f.raw + f.size) fuzz_bug("tensor outside the file");
        st_free(&f);
    }
    avm_model m;
    if (export_load(dir, &m, NULL)) return 0;
    if (!fuzz_same_params(&m.params, 1, export_is_branch)) fuzz_bug("model.safetensors: loaded other parameters");
    avmodel_free(&m);
    return 0;
}
