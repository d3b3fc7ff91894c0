/* Fuzz target: a feature dir's index.tsv (data/shard_read.c index_read). Invariants: every
 * entry has a non-empty UTF-8 id and non-negative numbers, and formatting the entries back
 * (index_format) reads back equal. */
#include "fuzz.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/shard.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    avm_index_entry *e, *e2;
    int n, n2;
    if (index_read(fuzz_file("index.tsv", data, size), &e, &n)) return 0;
    for (int i = 0; i < n; i++)
        if (!*e[i].utt_id || !utf8_valid(e[i].utt_id) || e[i].shard < 0 || e[i].row < 0 || e[i].a_frames < 0 || e[i].v_frames < 0)
            fuzz_bug("index entry out of range");
    avm_strbuf b = {0};
    index_format(&b, e, n);
    if (index_read(fuzz_file("index2.tsv", (const uint8_t *)(b.s ? b.s : ""), b.len), &e2, &n2) || n2 != n)
        fuzz_bug("formatted index does not read back");
    for (int i = 0; i < n; i++)
        if (strcmp(e[i].utt_id, e2[i].utt_id) || e[i].shard != e2[i].shard || e[i].row != e2[i].row ||
            e[i].a_frames != e2[i].a_frames || e[i].v_frames != e2[i].v_frames)
            fuzz_bug("formatted index reads back different");
    sb_free(&b);
    index_free(e, n);
    index_free(e2, n2);
    return 0;
}
