#define _XOPEN_SOURCE 700
#include "data/synth/synth_output.h"
#include "common/util.h"
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *out_path, *tmp_path, *created_top;   /* created_top: first parent we made */
static int overwrite_ok, committed;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

int synth_rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) && errno == ENOENT) return 0;
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS))
        return avm_fail("%s: cannot remove: %s", path, strerror(errno));
    return 0;
}

static void cleanup(void) {
    if (committed || !tmp_path) return;
    synth_rmtree(tmp_path);
    if (created_top) synth_rmtree(created_top);
}

/* The outermost missing ancestor of dir, or NULL if dir exists (as anything: a file
 * in the way is an error for mkdir, never something to clean up). */
static char *first_missing(const char *dir) {
    char *p = xstrdup(dir), *missing = NULL;
    struct stat st;
    while (lstat(p, &st)) {
        free(missing);
        missing = xstrdup(p);
        char *d = xstrdup(p);
        char *parent = xstrdup(dirname(d));
        free(d);
        int root = !strcmp(parent, p);
        free(p);
        p = parent;
        if (root) break;
    }
    free(p);
    return missing;
}

const char *synth_out_begin(const char *out, int overwrite) {
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/') n--;
    out_path = strndup(out, n);
    overwrite_ok = overwrite;
    struct stat st;
    if (!lstat(out_path, &st) && !overwrite)
        return avm_fail("%s: already exists (use --overwrite to replace it)", out_path), NULL;
    if (!lstat(out_path, &st) && !S_ISDIR(st.st_mode))
        return avm_fail("%s: exists and is not a directory", out_path), NULL;
    char *d = xstrdup(out_path), *parent = xstrdup(dirname(d));
    free(d);
    created_top = first_missing(parent);
    tmp_path = xasprintf("%s.tmp-%d", out_path, (int)getpid());
    atexit(cleanup);
    if (created_top && mkdir_p(parent)) {
        free(parent);
        return avm_fail("%s: cannot create the output directory: %s", out_path, avm_error()), NULL;
    }
    free(parent);
    if (mkdir(tmp_path, 0777))
        return avm_fail("%s: cannot create the output directory %s: %s", out_path, tmp_path, strerror(errno)), NULL;
    return tmp_path;
}

int synth_out_commit(void) {
    char *old = NULL;
    struct stat st;
    if (!lstat(out_path, &st)) {
        if (!overwrite_ok) return avm_fail("%s: appeared while generating; not replaced", out_path);
        old = xasprintf("%s.old-%d", out_path, (int)getpid());
        if (rename(out_path, old)) {
            int e = errno;
            free(old);
            return avm_fail("%s: cannot move the old directory away: %s", out_path, strerror(e));
        }
    }
    if (rename(tmp_path, out_path)) {
        int e = errno;
        if (old) { rename(old, out_path); free(old); }
        return avm_fail("%s: cannot rename %s to it: %s", out_path, tmp_path, strerror(e));
    }
    committed = 1;
    int rc = old ? synth_rmtree(old) : 0;
    free(old);
    return rc;
}
