/* --dump-feats=FILE (a debugging and test aid, not for large corpora: the file holds every
 * vector): the normalised token vectors `avmask kmeans` clusters, as HDF5 /x float32
 * [tokens, dim] in index order, so a reference (scikit-learn) can cluster the same data,
 * and /init [k, dim]: the centres the streamed Lloyd passes start from. */
#include "cluster/km_stream.h"
#include "cluster/kmeans.h"
#include "common/util.h"
#include "data/h5util.h"
#include <stdlib.h>

static int write_rows(hid_t ds, long long at, const float *x, int n, int dim) {
    hsize_t off[2] = {(hsize_t)at, 0}, cnt[2] = {(hsize_t)n, (hsize_t)dim};
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(2, cnt, NULL);
    int rc = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0 &&
             H5Dwrite(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, x) >= 0 ? 0 : -1;
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return rc;
}

void km_dump_feats(const char *path, const avm_feats *fe, const km_feat *kf, long long N, int batch,
                   const km_centres *init) {
    hid_t f = h5_create(path);
    if (f < 0) avm_die("kmeans: %s", avm_error());
    hsize_t d[2] = {(hsize_t)N, (hsize_t)kf->dim};
    hid_t sp = H5Screate_simple(2, d, NULL), ds = -1;
    if (sp >= 0) ds = H5Dcreate2(f, "/x", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (sp >= 0) H5Sclose(sp);
    if (ds < 0) avm_die("kmeans: %s: cannot create /x", path);
    km_stream s;
    km_stream_init(&s, fe, kf, 0, fe->n, batch, 1);
    long long at = 0;
    int rc;
    while ((rc = km_stream_next(&s)) > 0) {
        if (at + s.n > N || write_rows(ds, at, s.x, s.n, kf->dim)) avm_die("kmeans: %s: cannot write /x", path);
        at += s.n;
    }
    if (rc < 0) avm_die("kmeans: %s", avm_error());
    km_stream_free(&s);
    if (H5Dclose(ds) < 0 || h5_write_f32_2d(f, "/init", init->c, init->k, init->dim, path) || h5_close(f, path))
        avm_die("kmeans: %s", avm_error());
}
