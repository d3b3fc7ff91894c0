/* Replay driver (make test, gcc): feeds every file named on the command line, and every
 * file inside every directory named, to the target's LLVMFuzzerTestOneInput, in name order.
 * Prints "<target>: N inputs replayed" and exits 0; an input that crashes the target or
 * breaks an invariant aborts (with ASan/UBSan in the SAN build: a sanitizer report). */
#include "fuzz.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_one(const char *path) {
    size_t n;
    uint8_t *d = fuzz_slurp(path, &n);
    if (!d) { fprintf(stderr, "replay: cannot read %s\n", path); return -1; }
    if (getenv("FUZZ_REPLAY_VERBOSE")) fprintf(stderr, "replay: %s\n", path);
    LLVMFuzzerTestOneInput(d, n);
    free(d);
    return 0;
}

int main(int argc, char **argv) {
    int count = 0, bad = 0;
    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st)) { fprintf(stderr, "replay: %s: no such file or directory\n", argv[a]); bad++; continue; }
        if (!S_ISDIR(st.st_mode)) { bad += run_one(argv[a]) != 0; count++; continue; }
        DIR *dp = opendir(argv[a]);
        if (!dp) { fprintf(stderr, "replay: cannot open %s\n", argv[a]); bad++; continue; }
        char **names = NULL;
        int n = 0;
        for (struct dirent *e; (e = readdir(dp));) {
            if (e->d_name[0] == '.') continue;
            if (!(names = realloc(names, (n + 1) * sizeof *names))) abort();
            names[n++] = strdup(e->d_name);
        }
        closedir(dp);
        qsort(names, n, sizeof *names, by_name);
        for (int i = 0; i < n; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], names[i]);
            bad += run_one(path) != 0;
            count++;
            free(names[i]);
        }
        free(names);
    }
    const char *me = strrchr(argv[0], '/');
    printf("%s: %d inputs replayed\n", me ? me + 1 : argv[0], count);
    return bad ? 1 : 0;
}
