/* Training checkpoints (checkpoint.h): the tensors through data/params_h5.h, the attributes
 * and their checksum here. */
#include "train/checkpoint.h"
#include "common/util.h"
#include "common/version.h"
#include "common/crc32.h"
#include "data/h5util.h"
#include "data/params_h5.h"
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_FORMAT "avmask-checkpoint-1"
#define MAX_STEP ((int64_t)1 << 40)   /* far beyond any run; keeps step arithmetic exact */

/* buf (params layout) as the tensors of a parameter file; caller frees *t. */
static int views(const avm_params *ps, float *buf, avm_tensor **t) { return params_tensors(ps, buf, NULL, t); }

/* CRC of buf's views in view order, continuing crc. */
static uint32_t views_crc(uint32_t crc, const avm_params *ps, const float *buf) {
    avm_tensor *t;
    int n = views(ps, (float *)buf, &t);   /* only read */
    crc = params_h5_crc(crc, t, n);
    free(t);
    return crc;
}

uint32_t ckpt_checksum(const avm_params *ps, const float *buf) { return views_crc(0, ps, buf); }

/* m then v, chained. */
static uint32_t optim_checksum(const avm_params *ps, const avm_adamw *opt) {
    return views_crc(views_crc(0, ps, opt->m), ps, opt->v);
}

/* One group of buf's views, written or read by io (params_h5_write_group / _read_group). */
typedef int (*group_io)(hid_t f, const char *path, const char *group, const avm_tensor *t, int n);
static int views_io(group_io io, hid_t f, const char *path, const char *group, const avm_params *ps, float *buf) {
    avm_tensor *t;
    int n = views(ps, buf, &t);
    int rc = io(f, path, group, t, n);
    free(t);
    return rc;
}

/* Every attribute but checksum_meta, in one canonical text (fixed order, integers in
 * decimal, doubles as exact hex floats): checksum_meta is its CRC-32, so that a flipped
 * bit in step, the loader position or the stored config is caught like one in the data. */
typedef struct {
    const char *version, *config;
    int64_t step, epoch, pos, ostep;
    uint64_t seed;
    double best_valid, seconds, tie;
    uint32_t cp, co;
    int has_co, has_tie;
} ckpt_attrs;

static uint32_t attrs_checksum(const ckpt_attrs *a) {
    char tie[64] = "";   /* only when written, so files without it keep their checksums */
    if (a->has_tie) snprintf(tie, sizeof tie, "\nbest_valid_tie=%a", a->tie);
    char *t = xasprintf("format=%s\nversion=%s\nstep=%" PRId64 "\nepoch=%" PRId64 "\nepoch_pos=%" PRId64
                        "\noptim_step=%" PRId64 "\nseed=%" PRIu64 "\nbest_valid=%a\ntrain_seconds=%a"
                        "\nchecksum_params=%08x\nchecksum_optim=%s%08x%s\nconfig=",
                        CKPT_FORMAT, a->version, a->step, a->epoch, a->pos, a->ostep, a->seed,
                        a->best_valid, a->seconds, a->cp, a->has_co ? "" : "none ", a->co, tie);
    uint32_t c = crc32_update(crc32_update(0, t, strlen(t)), a->config, strlen(a->config));
    free(t);
    return c;
}

static int write_meta(hid_t f, const char *path, const avm_params *ps, const avm_adamw *opt, const avm_ckpt_meta *m) {
    int64_t step = m->step, epoch = m->epoch, pos = m->epoch_pos, ostep = opt ? opt->step : 0;
    uint64_t seed = m->seed;
    uint32_t cp = ckpt_checksum(ps, ps->data), co = opt ? optim_checksum(ps, opt) : 0;
    const char *config = m->config_json ? m->config_json : "{}";
    ckpt_attrs a = {AVMASK_VERSION, config, step, epoch, pos, ostep, seed, m->best_valid, m->seconds, m->best_tie,
                    cp, co, opt != NULL, m->best_tie != 0};
    uint32_t cm = attrs_checksum(&a);
    const hid_t I64 = H5T_STD_I64LE, NI64 = H5T_NATIVE_INT64, F64 = H5T_IEEE_F64LE, NF64 = H5T_NATIVE_DOUBLE;
    const hid_t U32 = H5T_STD_U32LE, NU32 = H5T_NATIVE_UINT32;
    if (h5_write_str_attr(f, "format", CKPT_FORMAT, path) || h5_write_str_attr(f, "avmask_version", AVMASK_VERSION, path) ||
        h5_write_str_attr(f, "config", config, path) ||
        h5_write_num_attr(f, "step", I64, NI64, &step, path) ||
        h5_write_num_attr(f, "epoch", I64, NI64, &epoch, path) ||
        h5_write_num_attr(f, "epoch_pos", I64, NI64, &pos, path) ||
        h5_write_num_attr(f, "optim_step", I64, NI64, &ostep, path) ||
        h5_write_num_attr(f, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed, path) ||
        h5_write_num_attr(f, "best_valid", F64, NF64, &m->best_valid, path) ||
        h5_write_num_attr(f, "train_seconds", F64, NF64, &m->seconds, path) ||
        h5_write_num_attr(f, "checksum_params", U32, NU32, &cp, path) ||
        (opt && h5_write_num_attr(f, "checksum_optim", U32, NU32, &co, path)) ||
        (a.has_tie && h5_write_num_attr(f, "best_valid_tie", F64, NF64, &a.tie, path)) ||
        h5_write_num_attr(f, "checksum_meta", U32, NU32, &cm, path))
        return -1;
    return 0;
}

int ckpt_save(const char *path, const avm_params *ps, const avm_adamw *opt, const avm_ckpt_meta *meta) {
    hid_t f = h5_begin_sealed(path);
    if (f < 0) return -1;
    int rc = views_io(params_h5_write_group, f, path, "/params", ps, ps->data);
    if (!rc && opt) rc = views_io(params_h5_write_group, f, path, "/optim/m", ps, opt->m);
    if (!rc && opt) rc = views_io(params_h5_write_group, f, path, "/optim/v", ps, opt->v);
    if (!rc) rc = write_meta(f, path, ps, opt, meta);
    return h5_commit_sealed(f, path, rc);
}

/* Reads every attribute the checksum covers; -1 + avm_fail if one is missing or unreadable. */
static int read_attrs(hid_t f, const char *path, ckpt_attrs *a, char **version, char **config) {
    memset(a, 0, sizeof *a);
    *version = h5_read_str_attr(f, "avmask_version", path);
    *config = *version ? h5_read_str_attr(f, "config", path) : NULL;
    const hid_t NI64 = H5T_NATIVE_INT64, NU32 = H5T_NATIVE_UINT32;
    if (!*config || h5_read_num_attr(f, "step", NI64, &a->step, path) ||
        h5_read_num_attr(f, "epoch", NI64, &a->epoch, path) || h5_read_num_attr(f, "epoch_pos", NI64, &a->pos, path) ||
        h5_read_num_attr(f, "optim_step", NI64, &a->ostep, path) ||
        h5_read_num_attr(f, "seed", H5T_NATIVE_UINT64, &a->seed, path) ||
        h5_read_num_attr(f, "best_valid", H5T_NATIVE_DOUBLE, &a->best_valid, path) ||
        h5_read_num_attr(f, "train_seconds", H5T_NATIVE_DOUBLE, &a->seconds, path) ||
        h5_read_num_attr(f, "checksum_params", NU32, &a->cp, path) ||
        (a->has_co = h5_attr_exists(f, "checksum_optim", path)) < 0 ||
        (a->has_co && h5_read_num_attr(f, "checksum_optim", NU32, &a->co, path)) ||
        (a->has_tie = h5_attr_exists(f, "best_valid_tie", path)) < 0 ||
        (a->has_tie && h5_read_num_attr(f, "best_valid_tie", H5T_NATIVE_DOUBLE, &a->tie, path)))
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
    if (isnan(a->best_valid) || a->best_valid == -INFINITY || !isfinite(a->seconds) || a->seconds < 0 ||
        isnan(a->tie) || a->tie == -INFINITY)
        return avm_fail("%s: attribute best_valid %g, best_valid_tie %g or train_seconds %g is not a possible value: "
                        "corrupted checkpoint refused", path, a->best_valid, a->tie, a->seconds);
    return 0;
}

/* Checkpoints written before checksum_meta existed are accepted with a warning (their
 * attributes are still range-checked): refusing them would strand running experiments. */
static int check_attrs_sum(hid_t f, const char *path, const ckpt_attrs *a, int warn) {
    uint32_t want, got = attrs_checksum(a);
    int has = h5_attr_exists(f, "checksum_meta", path);
    if (has < 0) return -1;
    if (!has) {
        if (warn) avm_warn("%s: written before attributes were checksummed: step, loader position and config are unchecked", path);
        return 0;
    }
    if (h5_read_num_attr(f, "checksum_meta", H5T_NATIVE_UINT32, &want, path)) return -1;
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
    int rc = read_attrs(f, path, &a, &version, &config)
                 ? avm_fail("%s: checkpoint attributes missing or unreadable (corrupted?): %s", path, avm_error()) : 0;
    if (!rc) rc = check_attrs_sum(f, path, &a, warn);
    if (!rc) rc = check_ranges(path, &a);
    free(version);
    if (rc) { free(config); return -1; }
    m->step = a.step; m->epoch = a.epoch; m->epoch_pos = a.pos; m->seed = a.seed;
    m->best_valid = a.best_valid; m->seconds = a.seconds; m->best_tie = a.tie; m->config_json = config;
    if (ostep) *ostep = a.ostep;
    return 0;
}

static hid_t open_checked(const char *path) { return params_h5_open(path, CKPT_FORMAT, "checkpoint"); }

int ckpt_has_param(const char *path, const char *name) {
    hid_t f = open_checked(path);
    if (f < 0) return -1;
    char *link = xasprintf("/params/%s", name);
    int has = h5_exists(f, "/params") && h5_exists(f, link);
    free(link);
    return params_h5_close(f, path, 0) ? -1 : has;
}

int ckpt_read_meta(const char *path, avm_ckpt_meta *meta) {
    hid_t f = open_checked(path);
    if (f < 0) return -1;
    return params_h5_close(f, path, read_meta(f, path, meta, NULL, 0));
}

static int check_sum(hid_t f, const char *path, const char *attr, uint32_t got) {
    uint32_t want;
    if (h5_read_num_attr(f, attr, H5T_NATIVE_UINT32, &want, path)) return -1;
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
    if (!rc) rc = views_io(params_h5_read_group, f, path, "/params", ps, p);
    if (!rc) rc = check_sum(f, path, "checksum_params", ckpt_checksum(ps, p));
    if (!rc && opt) {
        om = xcalloc(ps->total ? ps->total : 1, sizeof(float));
        ov = xcalloc(ps->total ? ps->total : 1, sizeof(float));
        if (!h5_exists(f, "/optim")) rc = avm_fail("%s: no optimizer state (/optim)", path);
        if (!rc) rc = views_io(params_h5_read_group, f, path, "/optim/m", ps, om);
        if (!rc) rc = views_io(params_h5_read_group, f, path, "/optim/v", ps, ov);
        if (!rc) {
            avm_adamw tmp = *opt;
            tmp.m = om; tmp.v = ov;
            rc = check_sum(f, path, "checksum_optim", optim_checksum(ps, &tmp));
        }
    }
    rc = params_h5_close(f, path, rc);
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
