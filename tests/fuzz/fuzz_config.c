/* Fuzz target: a --config file (common/opts.c, opts_read_config). Invariants: every
 * option read has a non-empty key of [-_A-Za-z0-9] and no key is stored twice. */
#include "fuzz.h"
#include "common/opts.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file("config", data, size);
    avm_opts o;
    memset(&o, 0, sizeof o);
    o.cmd = "fuzz";
    if (!opts_read_config(&o, path))
        for (int i = 0; i < o.n; i++) {
            const char *k = o.v[i].key;
            if (!*k || strspn(k, "-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(k))
                fuzz_bug("option key with a character outside [-_A-Za-z0-9]");
            for (int j = 0; j < i; j++)
                if (!strcmp(o.v[j].key, k)) fuzz_bug("option stored twice");
        }
    opts_free(&o);
    return 0;
}
