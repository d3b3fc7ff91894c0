#include "train/checkpoint.h"
#include "common/util.h"
#include "common/version.h"
#include "common/crc32.h"
#include "data/h5util.h"
#include <hdf5.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CKPT_FORMAT "avmask-checkpoint-1"
#define MAX_STEP ((int64_t)1 << 40)   /* far beyond any run; keeps step arithmetic exact */

uint32_t ckpt_checksum(const avm_params *ps, const float *buf) {
    uint32_t c = 0;
    for (int k = 0; k < ps->n; k++) c = crc32_update(c, buf + ps->p[k].offset, ps->p[k].numel * sizeof(float));
    return c;
}

/* m then v, chained. */
static uint32_t optim_checksum(const avm_params *ps, const avm_adamw *opt) {
    uint32_t c = 0;
    for (int k = 0; k < ps->n; k++) c = crc32_update(c, opt->m + ps->p[k].offset, ps->p[k].numel * sizeof(float));
    for (int k = 0; k < ps->n; k++) c = crc32_update(c, opt->v + ps->p[k].offset, ps->p[k].numel * sizeof(float));
    return c;
}

/* ---- attributes ---- */

static int attr_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp < 0 ? -1 : H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, mtype, v) >= 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

static int attr_write_str(hid_t loc, const char *name, const char *s) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    int ok = H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
             attr_write(loc, name, t, t, &s) == 0;
    H5Tclose(t);
    return ok ? 0 : -1;
}

static int attr_read(hid_t loc, const char *name, hid_t mtype, void *v) {
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    int ok = a >= 0 && H5Aread(a, mtype, v) >= 0;
    if (a >= 0) H5Aclose(a);
    return ok ? 0 : -1;
}

static char *attr_read_str(hid_t loc, const char *name) {
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t t = H5Tcopy(H5T_C_S1);
    char *s = NULL, *out = NULL;
    if (t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        H5Aread(a, t, &s) >= 0 && s) {
        out = xstrdup(s);
        H5free_memory(s);
    }
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return out;
}

/* ---- datasets ---- */

static int write_views(hid_t file, const char *group, const avm_params *ps, const float *buf) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) return -1;
    hid_t g = H5Gcreate2(file, group, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0) return -1;
    int rc = 0;
    for (int k = 0; k < ps->n && !rc; k++) {
        const avm_param *p = &ps->p[k];
        hsize_t dims[AVM_MAX_DIMS];
        for (int i = 0; i < p->ndim; i++) dims[i] = (hsize_t)p->shape[i];
        hid_t sp = H5Screate_simple(p->ndim, dims, NULL);
        hid_t d = sp < 0 ? -1 : H5Dcreate2(g, p->name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf + p->offset) < 0) rc = -1;
        if (d >= 0) H5Dclose(d);
        if (sp >= 0) H5Sclose(sp);
    }
    H5Gclose(g);
    return rc;
}

/* Every attribute but checksum_meta, in one canonical text (fixed order, integers in
 * decimal, doubles as exact hex floats): checksum_meta is its CRC-32, so that a flipped
 * bit in step, the loader position or the stored config is caught like one in the data. */
typedef struct {
    const char *version, *config;
    int64_t step, epoch, pos, ostep;
    uint64_t seed;
    double best_valid, seconds;
    uint32_t cp, co;
    int has_co;
} ckpt_attrs;

static uint32_t attrs_checksum(const ckpt_attrs *a) {
    char *t = xasprintf("format=%s\nversion=%s\nstep=%" PRId64 "\nepoch=%" PRId64 "\nepoch_pos=%" PRId64
                        "\noptim_step=%" PRId64 "\nseed=%" PRIu64 "\nbest_valid=%a\ntrain_seconds=%a"
                        "\nchecksum_params=%08x\nchecksum_optim=%s%08x\nconfig=",
                        CKPT_FORMAT, a->version, a->step, a->epoch, a->pos, a->ostep, a->seed,
                        a->best_valid, a->seconds, a->cp, a->has_co ? "" : "none ", a->co);
    uint32_t c = crc32_update(crc32_update(0, t, strlen(t)), a->config, strlen(a->config));
    free(t);
    return c;
}

static int write_meta(hid_t f, const avm_params *ps, const avm_adamw *opt, const avm_ckpt_meta *m) {
    int64_t step = m->step, epoch = m->epoch, pos = m->epoch_pos, ostep = opt ? opt->step : 0;
    uint64_t seed = m->seed;
    uint32_t cp = ckpt_checksum(ps, ps->data), co = opt ? optim_checksum(ps, opt) : 0;
    const char *config = m->config_json ? m->config_json : "{}";
    ckpt_attrs a = {AVMASK_VERSION, config, step, epoch, pos, ostep, seed, m->best_valid, m->seconds, cp, co, opt != NULL};
    uint32_t cm = attrs_checksum(&a);
    if (attr_write_str(f, "format", CKPT_FORMAT) || attr_write_str(f, "avmask_version", AVMASK_VERSION) ||
        attr_write_str(f, "config", config) ||
        attr_write(f, "step", H5T_STD_I64LE, H5T_NATIVE_INT64, &step) ||
        attr_write(f, "epoch", H5T_STD_I64LE, H5T_NATIVE_INT64, &epoch) ||
        attr_write(f, "epoch_pos", H5T_STD_I64LE, H5T_NATIVE_INT64, &pos) ||
        attr_write(f, "optim_step", H5T_STD_I64LE, H5T_NATIVE_INT64, &ostep) ||
        attr_write(f, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed) ||
        attr_write(f, "best_valid", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->best_valid) ||
        attr_write(f, "train_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &m->seconds) ||
        attr_write(f, "checksum_params", H5T_STD_U32LE, H5T_NATIVE_UINT32, &cp) ||
        (opt && attr_write(f, "checksum_optim", H5T_STD_U32LE, H5T_NATIVE_UINT32, &co)) ||
        attr_write(f, "checksum_meta", H5T_STD_U32LE, H5T_NATIVE_UINT32, &cm))
        return -1;
    return 0;
}

int ckpt_save(const char *path, const avm_params *ps, const avm_adamw *opt, const avm_ckpt_meta *meta) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char *tmp = xasprintf("%s.tmp", path);
    hid_t f = h5_create_sealed(tmp);
    int rc = f < 0 ? -1 : 0;
    if (!rc) rc = write_views(f, "/params", ps, ps->data);
    if (!rc && opt) rc = write_views(f, "/optim/m", ps, opt->m);
    if (!rc && opt) rc = write_views(f, "/optim/v", ps, opt->v);
    if (!rc) rc = write_meta(f, ps, opt, meta);
    if (f >= 0 && H5Fclose(f) < 0) rc = -1;
    if (!rc) rc = h5_seal(tmp);
    if (rc) {
        unlink(tmp);
        free(tmp);
        return avm_fail("%s: cannot write checkpoint (HDF5 error; disk full?)", path);
    }
    rc = atomic_rename(tmp, path);
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

static hid_t open_checked(const char *path) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!file_exists(path)) { avm_fail("%s: no such checkpoint", path); return -1; }
    if (h5_check_seal(path)) return -1;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) { avm_fail("%s: not a readable HDF5 checkpoint (truncated or corrupted)", path); return -1; }
    char *fmt = attr_read_str(f, "format");
    int ok = fmt && !strcmp(fmt, CKPT_FORMAT);
    free(fmt);
    if (!ok) { H5Fclose(f); avm_fail("%s: not an avmask checkpoint (format attribute missing or wrong)", path); return -1; }
    return f;
}

/* Reads every attribute the checksum covers; -1 if one is missing or unreadable. */
static int read_attrs(hid_t f, ckpt_attrs *a, char **version, char **config) {
    memset(a, 0, sizeof *a);
    *version = attr_read_str(f, "avmask_version");
    *config = attr_read_str(f, "config");
    a->has_co = H5Aexists(f, "checksum_optim") > 0;
    if (!*version || !*config || attr_read(f, "step", H5T_NATIVE_INT64, &a->step) ||
        attr_read(f, "epoch", H5T_NATIVE_INT64, &a->epoch) || attr_read(f, "epoch_pos", H5T_NATIVE_INT64, &a->pos) ||
        attr_read(f, "optim_step", H5T_NATIVE_INT64, &a->ostep) || attr_read(f, "seed", H5T_NATIVE_UINT64, &a->seed) ||
        attr_read(f, "best_valid", H5T_NATIVE_DOUBLE, &a->best_valid) ||
        attr_read(f, "train_seconds", H5T_NATIVE_DOUBLE, &a->seconds) ||
        attr_read(f, "checksum_params", H5T_NATIVE_UINT32, &a->cp) ||
        (a->has_co && attr_read(f, "checksum_optim", H5T_NATIVE_UINT32, &a->co)))
        return -1;
    a->version = *version;
    a->config = *config;
    return 0;
}

/* Values no run can produce are refused even when the checksum matches (or is absent). */
static int check_ranges(const char *path, const ckpt_attrs *a) {
    const struct { const char *name; int64_t v, max; } r[] = {
        {"step", a->step, MAX_STEP}, {"optim_step", a->ostep, MAX_STEP},
        {"epoch", a->epoch, INT_MAX}, {"epoch_pos", a->pos, INT_MAX}};
    for (size_t i = 0; i < sizeof r / sizeof *r; i++)
        if (r[i].v < 0 || r[i].v > r[i].max)
            return avm_fail("%s: attribute %s = %" PRId64 " is out of range [0, %" PRId64 "]: corrupted checkpoint refused",
                            path, r[i].name, r[i].v, r[i].max);
    if (isnan(a->best_valid) || a->best_valid == -INFINITY || !isfinite(a->seconds) || a->seconds < 0)
        return avm_fail("%s: attribute best_valid %g or train_seconds %g is not a possible value: corrupted checkpoint refused",
                        path, a->best_valid, a->seconds);
    return 0;
}

/* Checkpoints written before checksum_meta existed are accepted with a warning (their
 * attributes are still range-checked): refusing them would strand running experiments. */
static int check_attrs_sum(hid_t f, const char *path, const ckpt_attrs *a, int warn) {
    uint32_t want, got = attrs_checksum(a);
    if (H5Aexists(f, "checksum_meta") <= 0) {
        if (warn) avm_warn("%s: written before attributes were checksummed: step, loader position and config are unchecked", path);
        return 0;
    }
    if (attr_read(f, "checksum_meta", H5T_NATIVE_UINT32, &want))
        return avm_fail("%s: attribute checksum_meta unreadable", path);
    if (want != got)
        return avm_fail("%s: checksum_meta mismatch (stored %08x, attributes %08x): corrupted checkpoint refused",
                        path, want, got);
    return 0;
}

/* The attributes, checked (checksum, ranges); *ostep = optim_step. */
static int read_meta(hid_t f, const char *path, avm_ckpt_meta *m, int64_t *ostep, int warn) {
    ckpt_attrs a;
    char *version = NULL, *config = NULL;
    memset(m, 0, sizeof *m);
    int rc = read_attrs(f, &a, &version, &config)
                 ? avm_fail("%s: checkpoint attributes missing or unreadable (corrupted?)", path) : 0;
    if (!rc) rc = check_attrs_sum(f, path, &a, warn);
    if (!rc) rc = check_ranges(path, &a);
    free(version);
    if (rc) { free(config); return -1; }
    m->step = a.step; m->epoch = a.epoch; m->epoch_pos = a.pos; m->seed = a.seed;
    m->best_valid = a.best_valid; m->seconds = a.seconds; m->config_json = config;
    if (ostep) *ostep = a.ostep;
    return 0;
}

int ckpt_read_meta(const char *path, avm_ckpt_meta *meta) {
    hid_t f = open_checked(path);
    if (f < 0) return -1;
    int rc = read_meta(f, path, meta, NULL, 0);
    H5Fclose(f);
    return rc;
}

static void shape_str(char *s, size_t n, int ndim, const hsize_t *d) {
    int k = snprintf(s, n, "[");
    for (int i = 0; i < ndim && k < (int)n; i++) k += snprintf(s + k, n - k, "%s%llu", i ? "," : "", (unsigned long long)d[i]);
    if (k < (int)n) snprintf(s + k, n - k, "]");
}

/* One view: the dataset must exist with exactly the view's shape. */
static int read_view(hid_t g, const char *path, const char *group, const avm_param *p, float *dst) {
    if (H5Lexists(g, p->name, H5P_DEFAULT) <= 0)
        return avm_fail("%s: %s/%s missing: checkpoint of a different architecture", path, group, p->name);
    hid_t d = H5Dopen2(g, p->name, H5P_DEFAULT);
    hid_t sp = d < 0 ? -1 : H5Dget_space(d);
    int nd = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    hsize_t dims[AVM_MAX_DIMS] = {0}, want[AVM_MAX_DIMS];
    int rc = 0;
    for (int i = 0; i < p->ndim; i++) want[i] = (hsize_t)p->shape[i];
    if (nd < 0 || nd > AVM_MAX_DIMS) rc = avm_fail("%s: %s/%s unreadable (corrupted?)", path, group, p->name);
    else {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        if (nd != p->ndim || memcmp(dims, want, sizeof(hsize_t) * nd)) {
            char a[96], b[96];
            shape_str(a, sizeof a, nd, dims);
            shape_str(b, sizeof b, p->ndim, want);
            rc = avm_fail("%s: %s/%s has shape %s, the model %s: checkpoint of a different architecture",
                          path, group, p->name, a, b);
        } else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
            rc = avm_fail("%s: %s/%s unreadable (truncated or corrupted)", path, group, p->name);
    }
    if (sp >= 0) H5Sclose(sp);
    if (d >= 0) H5Dclose(d);
    return rc;
}

static int read_views(hid_t f, const char *path, const char *group, const avm_params *ps, float *buf) {
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    if (g < 0) return avm_fail("%s: group %s missing", path, group);
    H5G_info_t info;
    int rc = H5Gget_info(g, &info) < 0 ? avm_fail("%s: group %s unreadable", path, group) : 0;
    if (!rc && info.nlinks != (hsize_t)ps->n)
        rc = avm_fail("%s: %s holds %llu tensors, the model %d: checkpoint of a different architecture",
                      path, group, (unsigned long long)info.nlinks, ps->n);
    for (int k = 0; k < ps->n && !rc; k++) rc = read_view(g, path, group, &ps->p[k], buf + ps->p[k].offset);
    H5Gclose(g);
    return rc;
}

static int check_sum(hid_t f, const char *path, const char *attr, uint32_t got) {
    uint32_t want;
    if (attr_read(f, attr, H5T_NATIVE_UINT32, &want)) return avm_fail("%s: attribute %s missing", path, attr);
    if (want != got)
        return avm_fail("%s: %s mismatch (stored %08x, data %08x): corrupted checkpoint refused", path, attr, want, got);
    return 0;
}

int ckpt_load(const char *path, avm_params *ps, avm_adamw *opt, avm_ckpt_meta *meta) {
    hid_t f = open_checked(path);
    if (f < 0) return -1;
    avm_ckpt_meta m;
    int64_t ostep = 0;
    int rc = read_meta(f, path, &m, &ostep, 1);
    /* read into scratch buffers so that a refused file leaves the model untouched */
    float *p = xcalloc(ps->total ? ps->total : 1, sizeof(float)), *om = NULL, *ov = NULL;
    if (!rc) rc = read_views(f, path, "/params", ps, p);
    if (!rc) rc = check_sum(f, path, "checksum_params", ckpt_checksum(ps, p));
    if (!rc && opt) {
        om = xcalloc(ps->total ? ps->total : 1, sizeof(float));
        ov = xcalloc(ps->total ? ps->total : 1, sizeof(float));
        if (H5Lexists(f, "/optim", H5P_DEFAULT) <= 0) rc = avm_fail("%s: no optimizer state (/optim)", path);
        if (!rc) rc = read_views(f, path, "/optim/m", ps, om);
        if (!rc) rc = read_views(f, path, "/optim/v", ps, ov);
        if (!rc) {
            avm_adamw tmp = *opt;
            tmp.m = om; tmp.v = ov;
            rc = check_sum(f, path, "checksum_optim", optim_checksum(ps, &tmp));
        }
    }
    H5Fclose(f);
    if (!rc) {
        memcpy(ps->data, p, ps->total * sizeof(float));
        if (opt) {
            memcpy(opt->m, om, ps->total * sizeof(float));
            memcpy(opt->v, ov, ps->total * sizeof(float));
            opt->step = ostep;
        }
    }
    free(p); free(om); free(ov);
    if (!rc && meta) *meta = m;
    else ckpt_meta_free(&m);
    return rc;
}

void ckpt_meta_free(avm_ckpt_meta *meta) {
    free(meta->config_json);
    meta->config_json = NULL;
}
