/* Fuzz target: a data dir (data/datadir.c). The input is up to three parts separated by
 * lines "%%": the scp (media.scp, or wav.scp when the first byte is odd), segments and
 * crops (each written only if its part is present). Invariants of a data dir that reads:
 * utterance ids strictly sorted and valid UTF-8, times finite with 0 <= start and
 * end == 0 or end > start, crop boxes positive. */
#include "fuzz.h"
#include "common/util.h"
#include "data/datadir.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *part[3];
    size_t len[3];
    int np = fuzz_split(data, size, part, len, 3);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/d", fuzz_dir());
    mkdir_p(dir);
    static const char *files[] = {"d/media.scp", "d/wav.scp", "d/segments", "d/crops"};
    for (int i = 0; i < 4; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", fuzz_dir(), files[i]);
        unlink(p);
    }
    fuzz_file(size && (data[0] & 1) ? "d/wav.scp" : "d/media.scp", part[0], len[0]);
    if (np > 1) fuzz_file("d/segments", part[1], len[1]);
    if (np > 2) fuzz_file("d/crops", part[2], len[2]);
    avm_datadir d;
    if (datadir_read(&d, dir)) return 0;
    for (int i = 0; i < d.n; i++) {
        const avm_utt *u = &d.u[i];
        if (!utf8_valid(u->id) || !utf8_valid(u->path)) fuzz_bug("id or path not UTF-8");
        if (i && strcmp(d.u[i - 1].id, u->id) >= 0) fuzz_bug("ids not strictly sorted");
        if (!isfinite(u->start) || !isfinite(u->end) || u->start < 0 || (u->end != 0 && u->end <= u->start))
            fuzz_bug("bad segment times");
        if (u->crop[2] < 0 || u->crop[3] < 0 || (u->crop[2] > 0) != (u->crop[3] > 0)) fuzz_bug("bad crop box");
    }
    datadir_free(&d);
    return 0;
}
