/* cmvn.h5: global feature statistics of a feature dir (docs/formats.md). Besides mean
 * and variance it keeps the raw sums so that stats of several dirs can be merged. */
#include "data/shard.h"
#include "common/util.h"
#include "common/version.h"
#include "data/h5util.h"
#include <stdlib.h>
#include <string.h>

static int write_body(hid_t f, const char *path, const avm_cmvn_acc *a) {
    double *mean = xcalloc(a->dim + 1, sizeof *mean), *var = xcalloc(a->dim + 1, sizeof *var);
    double pm, ps;
    cmvn_acc_stats(a, mean, var, &pm, &ps);
    hid_t ga = H5Gcreate2(f, "/audio", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t gv = ga < 0 ? -1 : H5Gcreate2(f, "/video", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = ga < 0 || gv < 0 ? avm_fail("%s: cannot create groups", path) : 0;
    if (!rc)
        rc = h5_write_f64(f, "/audio/mean", mean, a->dim, path) || h5_write_f64(f, "/audio/var", var, a->dim, path) ||
             h5_write_f64(f, "/audio/count", &a->count, -1, path) || h5_write_f64(f, "/audio/sum", a->sum, a->dim, path) ||
             h5_write_f64(f, "/audio/sumsq", a->sumsq, a->dim, path) || h5_write_f64(f, "/video/mean", &pm, -1, path) ||
             h5_write_f64(f, "/video/std", &ps, -1, path) || h5_write_f64(f, "/video/count", &a->pix_count, -1, path) ||
             h5_write_str_attr(f, "avmask_version", AVMASK_VERSION, path) ? -1 : 0;
    if (gv >= 0 && H5Gclose(gv) < 0 && !rc) rc = avm_fail("%s: cannot close /video", path);
    if (ga >= 0 && H5Gclose(ga) < 0 && !rc) rc = avm_fail("%s: cannot close /audio", path);
    free(mean);
    free(var);
    return rc;
}

int cmvn_write(const char *path, const avm_cmvn_acc *acc) {
    hid_t f = h5_begin_sealed(path);
    return h5_commit_sealed(f, path, f < 0 ? -1 : write_body(f, path, acc));
}

int cmvn_read(const char *path, avm_cmvn *c) {
    memset(c, 0, sizeof *c);
    hid_t f = h5_open_ro(path);
    if (f < 0) return -1;
    hsize_t d[4];
    int rc = h5_dims(f, "/audio/mean", d, path) == 1 ? 0 : avm_fail("%s: /audio/mean is not 1-d", path);
    if (!rc) {
        c->dim = (int)d[0];
        c->mean = xcalloc(c->dim + 1, sizeof *c->mean);
        c->var = xcalloc(c->dim + 1, sizeof *c->var);
        rc = h5_read_f64(f, "/audio/mean", c->mean, c->dim, path) || h5_read_f64(f, "/audio/var", c->var, c->dim, path) ||
             h5_read_f64(f, "/audio/count", &c->count, -1, path) || h5_read_f64(f, "/video/mean", &c->pix_mean, -1, path) ||
             h5_read_f64(f, "/video/std", &c->pix_std, -1, path) ? -1 : 0;
    }
    H5Fclose(f);
    if (rc) cmvn_free(c);
    return rc;
}

void cmvn_free(avm_cmvn *c) {
    free(c->mean);
    free(c->var);
    memset(c, 0, sizeof *c);
}
