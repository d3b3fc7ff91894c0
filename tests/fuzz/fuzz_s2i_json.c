/* Fuzz target: s2i.json of an S2I model dir (train/s2i_model.c s2i_load; the rest of the dir
 * is the base's: the micro export, intents.txt with 3 intents, s2i_head.h5 with a 4-wide
 * embedding). Invariant: a description that loads gives the base's head (3 intents,
 * embedding 4, the encoder's width) and its intents: s2i.json cannot resize what the
 * head file holds. */
#include "fuzz.h"
#include "fuzzmodel.h"
#include "common/util.h"
#include "train/s2i.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char *path;
    if (!path) path = path_join(fuzz_base_s2i(), "s2i.json");
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) fuzz_bug("cannot write s2i.json");
    s2i_model m;
    if (!s2i_load(&m, fuzz_base_s2i())) {
        if (m.head.K != 3 || m.head.e != 4 || m.head.d != m.enc.cfg.d || m.intents.n != 3 ||
            strcmp(m.intents.name[2], "weather"))
            fuzz_bug("s2i.json: loaded another model");
        s2i_free(&m);
    }
    return 0;
}
