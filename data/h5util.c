/* Small HDF5 helpers with one-line errors. */
#include "data/h5util.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

void h5_quiet(void) {
    static int done;
    if (done) return;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    done = 1;
}

hid_t h5_create(const char *path) {
    h5_quiet();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) avm_fail("%s: cannot create HDF5 file", path);
    return f;
}

hid_t h5_open_ro(const char *path) {
    h5_quiet();
    if (!file_exists(path)) { avm_fail("%s: no such file", path); return -1; }
    if (h5_check_seal(path)) return -1;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) avm_fail("%s: not a readable HDF5 file", path);
    return f;
}

int h5_close(hid_t f, const char *path) {
    return H5Fclose(f) < 0 ? avm_fail("%s: HDF5 close failed (disk full?)", path) : 0;
}

static hid_t vlen_str_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) { H5Tclose(t); return -1; }
    return t;
}

int h5_write_str_attr(hid_t obj, const char *name, const char *val, const char *path) {
    hid_t t = vlen_str_type(), sp = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    if (t >= 0 && sp >= 0) a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0 && H5Awrite(a, t, &val) >= 0) rc = 0;
    if (a >= 0 && H5Aclose(a) < 0) rc = -1;
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return rc ? avm_fail("%s: cannot write attribute %s", path, name) : 0;
}

char *h5_read_str_attr(hid_t obj, const char *name, const char *path) {
    char *out = NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) { avm_fail("%s: no attribute %s", path, name); return NULL; }
    hid_t ft = H5Aget_type(a);
    if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t t = vlen_str_type();
            char *s = NULL;
            if (t >= 0 && H5Aread(a, t, &s) >= 0 && s) { out = xstrdup(s); H5free_memory(s); }
            if (t >= 0) H5Tclose(t);
        } else {
            size_t n = H5Tget_size(ft);
            char *s = xcalloc(n + 1, 1);
            if (n > 0 && H5Aread(a, ft, s) >= 0) out = s; else free(s);
        }
    }
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    if (!out) avm_fail("%s: attribute %s is not a readable string", path, name);
    return out;
}

static int write_1d(hid_t loc, const char *name, hid_t type, const void *v, int64_t n, const char *path) {
    hsize_t d = n < 0 ? 0 : (hsize_t)n;
    hid_t sp = n < 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &d, NULL), ds = -1;
    int rc = -1;
    if (sp >= 0) ds = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0 && (n == 0 || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)) rc = 0;
    if (ds >= 0 && H5Dclose(ds) < 0) rc = -1;
    if (sp >= 0) H5Sclose(sp);
    return rc ? avm_fail("%s: cannot write dataset %s", path, name) : 0;
}

int h5_write_f64(hid_t loc, const char *name, const double *v, int64_t n, const char *path) {
    return write_1d(loc, name, H5T_NATIVE_DOUBLE, v, n, path);
}

int h5_write_i64(hid_t loc, const char *name, const int64_t *v, int64_t n, const char *path) {
    return write_1d(loc, name, H5T_NATIVE_INT64, v, n, path);
}

/* Opens a dataset and returns its element count (scalar: -1). */
static hid_t open_1d(hid_t loc, const char *name, int64_t *n, const char *path) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) { avm_fail("%s: no dataset %s", path, name); return -1; }
    hid_t sp = H5Dget_space(ds);
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    hsize_t d = 0;
    if (rank == 1 && H5Sget_simple_extent_dims(sp, &d, NULL) < 0) rank = -1;
    if (sp >= 0) H5Sclose(sp);
    if (rank < 0 || rank > 1) { H5Dclose(ds); avm_fail("%s: dataset %s is not 1-d", path, name); return -1; }
    *n = rank == 0 ? -1 : (int64_t)d;
    return ds;
}

int h5_read_f64(hid_t loc, const char *name, double *v, int64_t want, const char *path) {
    int64_t n;
    hid_t ds = open_1d(loc, name, &n, path);
    if (ds < 0) return -1;
    int rc = 0;
    if (n != want) rc = avm_fail("%s: dataset %s has %lld values, expected %lld", path, name, (long long)n, (long long)want);
    else if (n != 0 && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        rc = avm_fail("%s: cannot read dataset %s", path, name);
    H5Dclose(ds);
    return rc;
}

int h5_read_i64_all(hid_t loc, const char *name, int64_t **v, int64_t *n, const char *path) {
    hid_t ds = open_1d(loc, name, n, path);
    if (ds < 0) return -1;
    int rc = 0;
    if (*n < 0) { *n = 0; rc = avm_fail("%s: dataset %s is a scalar", path, name); }
    *v = xcalloc(*n + 1, sizeof **v);
    if (!rc && *n && H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, *v) < 0)
        rc = avm_fail("%s: cannot read dataset %s", path, name);
    H5Dclose(ds);
    if (rc) { free(*v); *v = NULL; }
    return rc;
}

int h5_write_strs(hid_t loc, const char *name, char *const *s, int64_t n, const char *path) {
    hid_t t = vlen_str_type();
    if (t < 0) return avm_fail("%s: cannot make string type", path);
    int rc = write_1d(loc, name, t, s, n, path);
    H5Tclose(t);
    return rc;
}

int h5_read_strs(hid_t loc, const char *name, char ***s, int64_t *n, const char *path) {
    hid_t ds = open_1d(loc, name, n, path);
    if (ds < 0) return -1;
    int rc = 0;
    hid_t t = vlen_str_type();
    if (*n < 0) { *n = 0; rc = avm_fail("%s: dataset %s is a scalar", path, name); }
    char **raw = xcalloc(*n + 1, sizeof *raw);
    if (!rc && *n && (t < 0 || H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0))
        rc = avm_fail("%s: cannot read strings %s", path, name);
    *s = xcalloc(*n + 1, sizeof **s);
    for (int64_t i = 0; i < *n; i++) {
        (*s)[i] = xstrdup(raw[i] ? raw[i] : "");
        if (raw[i]) H5free_memory(raw[i]);   /* vlen strings come from HDF5's allocator */
    }
    free(raw);
    if (t >= 0) H5Tclose(t);
    H5Dclose(ds);
    if (rc) {
        for (int64_t i = 0; i < *n; i++) free((*s)[i]);
        free(*s);
        *s = NULL;
    }
    return rc;
}

int h5_exists(hid_t loc, const char *name) {
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

int h5_dims(hid_t loc, const char *name, hsize_t *dims, const char *path) {
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return avm_fail("%s: no dataset %s", path, name);
    hid_t sp = H5Dget_space(ds);
    int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    if (rank > 4) rank = -1;
    if (rank >= 0 && H5Sget_simple_extent_dims(sp, dims, NULL) < 0) rank = -1;
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(ds);
    return rank < 0 ? avm_fail("%s: cannot read the shape of %s", path, name) : rank;
}

int h5_write_num_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *v, const char *path) {
    hid_t sp = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    if (sp >= 0) a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0 && H5Awrite(a, mtype, v) >= 0) rc = 0;
    if (a >= 0 && H5Aclose(a) < 0) rc = -1;
    if (sp >= 0 && H5Sclose(sp) < 0) rc = -1;
    return rc ? avm_fail("%s: cannot write attribute %s", path, name) : 0;
}

int h5_read_num_attr(hid_t obj, const char *name, hid_t mtype, void *v, const char *path) {
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return avm_fail("%s: no attribute %s", path, name);
    hid_t ft = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t want = H5Tget_class(mtype);
    int ok = ft >= 0 && sp >= 0 && want != H5T_NO_CLASS && H5Tget_class(ft) == want &&
             H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, mtype, v) >= 0;
    if (sp >= 0 && H5Sclose(sp) < 0) ok = 0;
    if (ft >= 0 && H5Tclose(ft) < 0) ok = 0;
    if (H5Aclose(a) < 0) ok = 0;
    return ok ? 0 : avm_fail("%s: attribute %s is not one %s", path, name, want == H5T_FLOAT ? "number" : "integer");
}

int h5_attr_exists(hid_t obj, const char *name, const char *path) {
    htri_t e = H5Aexists(obj, name);
    return e < 0 ? avm_fail("%s: cannot look up attribute %s", path, name) : e > 0;
}

int h5_write_i64_attr(hid_t obj, const char *name, int64_t v, const char *path) {
    return h5_write_num_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, path);
}

int h5_read_i64_attr(hid_t obj, const char *name, int64_t *v, const char *path) {
    return h5_read_num_attr(obj, name, H5T_NATIVE_INT64, v, path);
}

int h5_write_i32(hid_t loc, const char *name, const int32_t *v, int64_t n, const char *path) {
    return write_1d(loc, name, H5T_NATIVE_INT32, v, n, path);
}

int h5_read_i32_rows(hid_t loc, const char *name, int64_t start, int64_t n, int32_t *v, const char *path) {
    int64_t len;
    hid_t ds = open_1d(loc, name, &len, path);
    if (ds < 0) return -1;
    int rc = 0;
    if (start < 0 || n < 0 || start + n > len)
        rc = avm_fail("%s: dataset %s has %lld values, rows %lld..%lld asked", path, name, (long long)len,
                      (long long)start, (long long)(start + n));
    hid_t fs = rc ? -1 : H5Dget_space(ds), ms = -1;
    if (!rc && n > 0) {
        hsize_t off = (hsize_t)start, cnt = (hsize_t)n;
        ms = H5Screate_simple(1, &cnt, NULL);
        if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &cnt, NULL) < 0 ||
            H5Dread(ds, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, v) < 0)
            rc = avm_fail("%s: cannot read dataset %s", path, name);
    }
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    H5Dclose(ds);
    return rc;
}

int h5_write_f32_2d(hid_t loc, const char *name, const float *v, int64_t rows, int64_t cols, const char *path) {
    hsize_t d[2] = {(hsize_t)rows, (hsize_t)cols};
    hid_t sp = H5Screate_simple(2, d, NULL), ds = -1;
    int rc = -1;
    if (sp >= 0) ds = H5Dcreate2(loc, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds >= 0 && (rows * cols == 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)) rc = 0;
    if (ds >= 0 && H5Dclose(ds) < 0) rc = -1;
    if (sp >= 0) H5Sclose(sp);
    return rc ? avm_fail("%s: cannot write dataset %s", path, name) : 0;
}

int h5_read_f32_2d(hid_t loc, const char *name, float **v, int64_t *rows, int64_t *cols, const char *path) {
    hsize_t d[4];
    *v = NULL;
    int rank = h5_dims(loc, name, d, path);
    if (rank < 0) return -1;
    if (rank != 2 || d[0] == 0 || d[1] == 0 || d[0] > (1u << 30) / d[1])
        return avm_fail("%s: %s is not a non-empty 2-d dataset", path, name);
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    *v = xmalloc(sizeof(float) * d[0] * d[1]);
    int rc = ds >= 0 && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *v) >= 0 ? 0
             : avm_fail("%s: cannot read dataset %s", path, name);
    if (ds >= 0) H5Dclose(ds);
    if (rc) { free(*v); *v = NULL; return rc; }
    *rows = (int64_t)d[0];
    *cols = (int64_t)d[1];
    return 0;
}
