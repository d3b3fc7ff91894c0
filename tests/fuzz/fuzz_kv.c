/* Fuzz target: "<utt-id> <rest>" files of a data dir (text, phones, utt2spk, conditions;
 * data/datadir.c kv_read), read with and without empty values (first byte's low bit).
 * Invariants: keys strictly sorted, keys and values UTF-8, every key found by kv_get. */
#include "fuzz.h"
#include "common/util.h"
#include "data/datadir.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file("text", data, size);
    avm_kv kv;
    if (kv_read(&kv, path, size && (data[0] & 1))) return 0;
    for (int i = 0; i < kv.n; i++) {
        if (!*kv.keys[i] || !utf8_valid(kv.keys[i]) || !utf8_valid(kv.vals[i])) fuzz_bug("key or value not UTF-8");
        if (i && strcmp(kv.keys[i - 1], kv.keys[i]) >= 0) fuzz_bug("keys not strictly sorted");
        if (kv_get(&kv, kv.keys[i]) != kv.vals[i]) fuzz_bug("kv_get misses a key");
    }
    kv_free(&kv);
    return 0;
}
