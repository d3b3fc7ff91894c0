/* The training unit tests' feature dirs: N utterances of 3-50 tokens in shards of 8, with
 * the ramp pattern (tests/tools/train_mkfeats.c), made by the tool the build puts beside
 * the tests. Include after check.h, with N defined. */
#ifndef AVMASK_TEST_MKFEATS_H
#define AVMASK_TEST_MKFEATS_H
#include "common/util.h"
#include <stdlib.h>

static void mkfeats(const char *dir, const char *extra) {
    const char *b = getenv("AVMASK_BUILD") ? getenv("AVMASK_BUILD") : "build";
    char *cmd = xasprintf("%s/tools/train_mkfeats --out=%s --n=%d --min-tokens=3 --max-tokens=50 "
                          "--shard-size=8 --ramp %s", b, dir, N, extra);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    free(cmd);
}
#endif
