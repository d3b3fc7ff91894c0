/* Fuzz target: config.json of an export (train/export_io.c export_load: JSON, the model
 * configuration, then audio_encoder.h5 and model.safetensors against it). Invariant: a
 * config that loads gives the base export's parameters, and its CMVN reads without error
 * or with one. */
#include "fuzz.h"
#include "fuzzmodel.h"
#include "common/json.h"
#include "train/export.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *dir = fuzz_export_with("w-config", "config.json", data, size);
    avm_model m;
    json_value *cfg = NULL;
    if (export_load(dir, &m, &cfg)) return 0;
    if (!fuzz_same_params(&m.params, 1, export_is_branch)) fuzz_bug("config.json: loaded other parameters");
    float mean[2], istd[2];
    if (m.cfg.audio_in == 8 && !export_cmvn(cfg, mean, istd, 2))
        for (int i = 0; i < 2; i++)
            if (!(istd[i] > 0)) fuzz_bug("CMVN with a non-positive inverse deviation");
    json_free(cfg);
    avmodel_free(&m);
    return 0;
}
