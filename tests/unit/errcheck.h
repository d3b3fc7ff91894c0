/* Helpers of the unit tests of file readers: write a fixture file, and expect a refusal whose
 * one-line message (avm_error) holds a given text. Include after check.h. */
#ifndef AVMASK_ERRCHECK_H
#define AVMASK_ERRCHECK_H
#include "common/log.h"
#include <stdio.h>
#include <string.h>

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void expect(int rc, const char *want) {
    CHECK_MSG(rc == -1, "accepted, but should fail with '%s'", want);
    CHECK_MSG(rc == 0 || strstr(avm_error(), want), "error '%s' lacks '%s'", avm_error(), want);
    CHECK_MSG(rc == 0 || !strchr(avm_error(), '\n'), "error '%s' is not one line", avm_error());
}
#endif
