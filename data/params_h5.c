/* Parameter files (params_h5.h). */
#include "data/params_h5.h"
#include "common/crc32.h"
#include "common/log.h"
#include "common/util.h"
#include "common/version.h"
#include "data/h5util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checksums ---- */

uint32_t params_h5_crc(uint32_t crc, const avm_tensor *t, int n) {
    for (int i = 0; i < n; i++)   /* x86-64: float32 in memory is already little-endian */
        crc = crc32_update(crc, t[i].data, t[i].numel * sizeof(float));
    return crc;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const avm_tensor *)a)->name, ((const avm_tensor *)b)->name);
}

void params_h5_sort(avm_tensor *t, int n) {
    qsort(t, (size_t)n, sizeof *t, by_name);
}

uint32_t params_h5_crc_by_name(const avm_tensor *t, int n) {
    avm_tensor *s = xmalloc((size_t)(n + 1) * sizeof *s);
    memcpy(s, t, (size_t)n * sizeof *s);
    params_h5_sort(s, n);
    uint32_t c = params_h5_crc(0, s, n);
    free(s);
    return c;
}

/* ---- writing ---- */

static int write_one(hid_t g, const char *path, const char *group, const avm_tensor *t) {
    hsize_t dims[AVM_TENSOR_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) dims[i] = (hsize_t)t->shape[i];
    hid_t sp = t->ndim < 1 || t->ndim > AVM_TENSOR_MAX_DIMS ? -1 : H5Screate_simple(t->ndim, dims, NULL);
    hid_t d = sp < 0 ? -1 : H5Dcreate2(g, t->name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = d >= 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) >= 0;
    if (d >= 0 && H5Dclose(d) < 0) ok = 0;
    if (sp >= 0 && H5Sclose(sp) < 0) ok = 0;
    return ok ? 0 : avm_fail("%s: cannot write dataset %s/%s (disk full?)", path, group, t->name);
}

int params_h5_write_group(hid_t f, const char *path, const char *group, const avm_tensor *t, int n) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t g = lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0 ? -1
              : H5Gcreate2(f, group, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    int rc = g < 0 ? avm_fail("%s: cannot create group %s", path, group) : 0;
    if (lcpl >= 0 && H5Pclose(lcpl) < 0 && !rc) rc = avm_fail("%s: HDF5 error creating group %s", path, group);
    for (int i = 0; i < n && !rc; i++) rc = write_one(g, path, group, &t[i]);
    if (g >= 0 && H5Gclose(g) < 0 && !rc) rc = avm_fail("%s: cannot close group %s", path, group);
    return rc;
}

int params_h5_write(const char *path, const avm_tensor *t, int n, const char *format, const char *config_json) {
    hid_t f = h5_begin_sealed(path);
    if (f < 0) return -1;
    char crc[9];
    snprintf(crc, sizeof crc, "%08x", params_h5_crc_by_name(t, n));
    int rc = params_h5_write_group(f, path, "/params", t, n);
    if (!rc) rc = h5_write_str_attr(f, "format", format, path);
    if (!rc) rc = h5_write_str_attr(f, "avmask_version", AVMASK_VERSION, path);
    if (!rc) rc = h5_write_str_attr(f, "config", config_json, path);
    if (!rc) rc = h5_write_str_attr(f, PARAMS_CRC_KEY, crc, path);
    return h5_commit_sealed(f, path, rc);
}

/* ---- reading ---- */

hid_t params_h5_open(const char *path, const char *format, const char *what) {
    h5_quiet();
    if (!file_exists(path)) { avm_fail("%s: no such %s", path, what); return -1; }
    if (h5_check_seal(path)) return -1;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) { avm_fail("%s: not a readable HDF5 %s (truncated or corrupted)", path, what); return -1; }
    int has = h5_attr_exists(f, "format", path);
    char *fmt = has > 0 ? h5_read_str_attr(f, "format", path) : NULL;
    int ok = fmt && !strcmp(fmt, format);
    if (!has) avm_fail("%s: not an avmask %s (no format attribute)", path, what);
    else if (fmt && !ok) avm_fail("%s: not an avmask %s (format '%s', expected %s)", path, what, fmt, format);
    free(fmt);
    if (!ok) return params_h5_close(f, path, -1);
    return f;
}

int params_h5_close(hid_t f, const char *path, int rc) {
    if (H5Fclose(f) < 0 && !rc) rc = avm_fail("%s: HDF5 close failed", path);
    return rc;
}

static void shape_str(char *s, size_t n, int ndim, const hsize_t *d) {
    int k = snprintf(s, n, "[");
    for (int i = 0; i < ndim && k < (int)n; i++) k += snprintf(s + k, n - k, "%s%llu", i ? "," : "", (unsigned long long)d[i]);
    if (k < (int)n) snprintf(s + k, n - k, "]");
}

/* One dataset: it must exist with exactly the tensor's shape. */
static int read_one(hid_t g, const char *path, const char *group, const avm_tensor *t) {
    htri_t e = H5Lexists(g, t->name, H5P_DEFAULT);
    if (e <= 0)
        return avm_fail("%s: %s/%s %s: a file of a different architecture", path, group, t->name,
                        e < 0 ? "unreadable" : "missing");
    hid_t d = H5Dopen2(g, t->name, H5P_DEFAULT);
    hid_t sp = d < 0 ? -1 : H5Dget_space(d);
    int nd = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    hsize_t dims[AVM_TENSOR_MAX_DIMS] = {0}, want[AVM_TENSOR_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) want[i] = (hsize_t)t->shape[i];
    int rc = 0;
    if (nd < 0 || nd > AVM_TENSOR_MAX_DIMS || H5Sget_simple_extent_dims(sp, dims, NULL) < 0)
        rc = avm_fail("%s: %s/%s unreadable (corrupted?)", path, group, t->name);
    else if (nd != t->ndim || memcmp(dims, want, sizeof(hsize_t) * (size_t)nd)) {
        char a[96], b[96];
        shape_str(a, sizeof a, nd, dims);
        shape_str(b, sizeof b, t->ndim, want);
        rc = avm_fail("%s: %s/%s has shape %s, another shape than the configuration says (%s): a file of a "
                      "different architecture", path, group, t->name, a, b);
    } else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->data) < 0)
        rc = avm_fail("%s: %s/%s unreadable (truncated or corrupted)", path, group, t->name);
    if (sp >= 0 && H5Sclose(sp) < 0 && !rc) rc = avm_fail("%s: %s/%s: HDF5 close failed", path, group, t->name);
    if (d >= 0 && H5Dclose(d) < 0 && !rc) rc = avm_fail("%s: %s/%s: HDF5 close failed", path, group, t->name);
    return rc;
}

int params_h5_read_group(hid_t f, const char *path, const char *group, const avm_tensor *t, int n) {
    htri_t e = H5Lexists(f, group, H5P_DEFAULT);
    if (e <= 0) return avm_fail("%s: group %s %s", path, group, e < 0 ? "unreadable" : "missing");
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    H5G_info_t info;
    int rc = g < 0 || H5Gget_info(g, &info) < 0 ? avm_fail("%s: group %s unreadable", path, group) : 0;
    if (!rc && info.nlinks != (hsize_t)n)
        rc = avm_fail("%s: %s holds %llu tensors, the configuration %d: a file of a different architecture",
                      path, group, (unsigned long long)info.nlinks, n);
    for (int i = 0; i < n && !rc; i++) rc = read_one(g, path, group, &t[i]);
    if (g >= 0 && H5Gclose(g) < 0 && !rc) rc = avm_fail("%s: group %s: HDF5 close failed", path, group);
    return rc;
}

/* The tensors just read against the file's avmask_crc32 (absent: written before the
 * checksum existed; loaded with a warning). */
static int check_crc(hid_t f, const char *path, const avm_tensor *t, int n) {
    int has = h5_attr_exists(f, PARAMS_CRC_KEY, path);
    if (has < 0) return -1;
    if (!has) {
        avm_warn("%s: written before exports carried a checksum (%s): loaded unchecked", path, PARAMS_CRC_KEY);
        return 0;
    }
    char *s = h5_read_str_attr(f, PARAMS_CRC_KEY, path);
    uint32_t want, got = params_h5_crc_by_name(t, n);
    int rc = 0;
    if (!s || crc_hex_parse(s, &want)) rc = avm_fail("%s: attribute %s is not 8 hex digits", path, PARAMS_CRC_KEY);
    else if (want != got)
        rc = avm_fail("%s: checksum mismatch (stored %s, data %08x): corrupted file refused", path, s, got);
    free(s);
    return rc;
}

int params_h5_read(const char *path, const avm_tensor *t, int n, const char *format) {
    if (n < 1) return avm_fail("%s: no parameters", path);
    hid_t f = params_h5_open(path, format, "file");
    if (f < 0) return -1;
    /* read into scratch so that a refused file leaves the destination untouched */
    size_t total = 0;
    for (int i = 0; i < n; i++) total += t[i].numel;
    float *buf = xmalloc((total + 1) * sizeof *buf);
    avm_tensor *s = xmalloc((size_t)n * sizeof *s);
    total = 0;
    for (int i = 0; i < n; i++) {
        s[i] = t[i];
        s[i].data = buf + total;
        total += t[i].numel;
    }
    int rc = params_h5_read_group(f, path, "/params", s, n);
    if (!rc) rc = check_crc(f, path, s, n);
    rc = params_h5_close(f, path, rc);
    for (int i = 0; i < n && !rc; i++) memcpy(t[i].data, s[i].data, t[i].numel * sizeof(float));
    free(s);
    free(buf);
    return rc;
}
