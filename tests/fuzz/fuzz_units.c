/* Fuzz target: units.txt of a fine-tuned model (train/units.c units_read). Invariants: ids
 * 0 and 1 are <blank> and <unk>, every symbol is UTF-8 and found by units_id at its id,
 * and a transcript made of the symbols encodes and decodes without error. */
#include "fuzz.h"
#include "common/util.h"
#include "train/units.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    avm_units u;
    if (units_read(&u, fuzz_file("units.txt", data, size))) return 0;
    if (u.n < 2 || strcmp(u.sym[0], "<blank>") || strcmp(u.sym[1], "<unk>")) fuzz_bug("specials missing");
    for (int i = 0; i < u.n; i++)
        if (units_id(&u, u.sym[i]) != i) fuzz_bug("units_id does not find a symbol at its id");
        else if (!utf8_valid(u.sym[i])) fuzz_bug("a unit that is not UTF-8");
    int ids[3] = {0, 1, u.n - 1};
    char *t = units_decode(&u, UNITS_WORD, ids, 3);
    int *enc = NULL, ne = 0;
    if (units_encode(&u, UNITS_WORD, "utt", t, 0, &enc, &ne)) fuzz_bug("decoded transcript does not encode");
    free(enc);
    free(t);
    units_free(&u);
    return 0;
}
