/* Shard writer: ragged arrays appended to chunked, extendible HDF5 datasets (no
 * compression: extraction must keep up with decoding), written to path.tmp and renamed
 * when complete so that a finished shard is never half-written. */
#include "data/shard.h"
#include "common/util.h"
#include "common/version.h"
#include "data/h5util.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_BYTES (256 * 1024)   /* fits HDF5's default 1 MiB chunk cache */

struct avm_shard_writer {
    char *path, *tmp, *config;
    hid_t f, fbank, frames;
    int n_mels, has_video, height, width;
    int64_t *aoff, *voff;          /* [n+1] */
    char **ids;
    int n, cap;
    char **failed;
    int n_failed, cap_failed;
    avm_cmvn_acc stats;
};

char *shard_path(const char *dir, int shard) {
    char name[32];
    snprintf(name, sizeof name, "shard-%05d.h5", shard);
    return path_join(dir, name);
}

/* An empty extendible dataset [0, row...] chunked by about CHUNK_BYTES. */
static hid_t create_rows(hid_t f, const char *name, hid_t type, int rank, const hsize_t *row, size_t row_bytes) {
    hsize_t dims[4] = {0}, maxd[4] = {H5S_UNLIMITED}, chunk[4];
    hsize_t rows = CHUNK_BYTES / (row_bytes ? row_bytes : 1);
    chunk[0] = rows ? rows : 1;
    for (int i = 1; i < rank; i++) dims[i] = maxd[i] = chunk[i] = row[i - 1];
    hid_t sp = H5Screate_simple(rank, dims, maxd), pl = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
    /* Every row is written once: no fill value pass over new chunks. */
    if (sp >= 0 && pl >= 0 && H5Pset_chunk(pl, rank, chunk) >= 0 && H5Pset_fill_time(pl, H5D_FILL_TIME_NEVER) >= 0)
        ds = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    if (pl >= 0) H5Pclose(pl);
    if (sp >= 0) H5Sclose(sp);
    return ds;
}

/* Appends rows [total, total+n) to an extendible dataset. */
static int append_rows(hid_t ds, hid_t type, int rank, int64_t total, int64_t n, const void *data) {
    if (n == 0) return 0;
    hsize_t start[4] = {(hsize_t)total}, count[4] = {(hsize_t)n}, ext[4];
    hid_t fs = H5Dget_space(ds);
    if (fs < 0) return -1;
    int rank_ok = H5Sget_simple_extent_dims(fs, ext, NULL) == rank;
    H5Sclose(fs);
    if (!rank_ok) return -1;
    for (int i = 1; i < rank; i++) count[i] = ext[i];
    ext[0] = (hsize_t)(total + n);
    if (H5Dset_extent(ds, ext) < 0 || (fs = H5Dget_space(ds)) < 0) return -1;
    hid_t ms = H5Screate_simple(rank, count, NULL);
    int rc = -1;
    if (ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
        H5Dwrite(ds, type, ms, fs, H5P_DEFAULT, data) >= 0)
        rc = 0;
    if (ms >= 0) H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}

static hid_t make_group(hid_t f, const char *name) {
    hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0 && H5Gclose(g) < 0) return -1;
    return g;
}

avm_shard_writer *shard_writer_open(const char *path, const char *config_json, int n_mels,
                                    int has_video, int height, int width) {
    if (n_mels <= 0 || (has_video && (height <= 0 || width <= 0))) {
        avm_fail("%s: bad shard dimensions", path);
        return NULL;
    }
    avm_shard_writer *w = xcalloc(1, sizeof *w);
    w->path = xstrdup(path);
    w->tmp = xasprintf("%s.tmp", path);
    w->config = xstrdup(config_json ? config_json : "{}");
    w->n_mels = n_mels;
    w->has_video = has_video;
    w->height = height;
    w->width = width;
    w->fbank = w->frames = -1;
    w->cap = 64;
    w->aoff = xcalloc(w->cap + 1, sizeof *w->aoff);
    w->voff = xcalloc(w->cap + 1, sizeof *w->voff);
    w->ids = xcalloc(w->cap, sizeof *w->ids);
    cmvn_acc_init(&w->stats, n_mels);
    w->f = h5_create(w->tmp);
    if (w->f < 0) { shard_writer_abort(w); return NULL; }
    hsize_t arow[1] = {(hsize_t)n_mels}, vrow[2] = {(hsize_t)height, (hsize_t)width};
    int ok = make_group(w->f, "/audio") >= 0;
    if (ok) w->fbank = create_rows(w->f, "/audio/fbank", H5T_IEEE_F32LE, 2, arow, n_mels * sizeof(float));
    ok = ok && w->fbank >= 0;
    if (ok && has_video) {
        ok = make_group(w->f, "/video") >= 0;
        if (ok) w->frames = create_rows(w->f, "/video/frames", H5T_STD_U8LE, 3, vrow, (size_t)height * width);
        ok = ok && w->frames >= 0;
    }
    if (!ok) {
        avm_fail("%s: cannot create shard datasets", w->tmp);
        shard_writer_abort(w);
        return NULL;
    }
    return w;
}

int shard_writer_add(avm_shard_writer *w, const char *utt_id, const float *fbank, int64_t a_frames,
                     const uint8_t *video, int64_t v_frames) {
    if (a_frames < 0 || v_frames < 0 || (!w->has_video && v_frames > 0))
        return avm_fail("%s: %s: bad frame counts (%lld audio, %lld video)", w->tmp, utt_id,
                        (long long)a_frames, (long long)v_frames);
    if (w->n == w->cap) {
        w->cap *= 2;
        w->aoff = xrealloc(w->aoff, (w->cap + 1) * sizeof *w->aoff);
        w->voff = xrealloc(w->voff, (w->cap + 1) * sizeof *w->voff);
        w->ids = xrealloc(w->ids, w->cap * sizeof *w->ids);
    }
    int64_t a0 = w->aoff[w->n], v0 = w->voff[w->n];
    if (append_rows(w->fbank, H5T_NATIVE_FLOAT, 2, a0, a_frames, fbank) < 0 ||
        (w->has_video && append_rows(w->frames, H5T_NATIVE_UINT8, 3, v0, v_frames, video) < 0))
        return avm_fail("%s: %s: HDF5 write failed (disk full?)", w->tmp, utt_id);
    cmvn_acc_add(&w->stats, fbank, a_frames);
    if (v_frames) cmvn_acc_add_pixels(&w->stats, video, v_frames * w->height * w->width);
    w->ids[w->n] = xstrdup(utt_id);
    w->n++;
    w->aoff[w->n] = a0 + a_frames;
    w->voff[w->n] = v0 + v_frames;
    return 0;
}

void shard_writer_add_failure(avm_shard_writer *w, const char *utt_id, const char *path, const char *reason) {
    if (w->n_failed == w->cap_failed) {
        w->cap_failed = w->cap_failed ? 2 * w->cap_failed : 16;
        w->failed = xrealloc(w->failed, w->cap_failed * sizeof *w->failed);
    }
    w->failed[w->n_failed++] = xasprintf("%s %s %s", utt_id, path, reason);
}

/* /cmvn: the shard's statistics, so merging never re-reads features. */
static int write_stats(avm_shard_writer *w) {
    const avm_cmvn_acc *s = &w->stats;
    if (make_group(w->f, "/cmvn") < 0) return avm_fail("%s: cannot create /cmvn", w->tmp);
    if (h5_write_f64(w->f, "/cmvn/sum", s->sum, s->dim, w->tmp) ||
        h5_write_f64(w->f, "/cmvn/sumsq", s->sumsq, s->dim, w->tmp) ||
        h5_write_f64(w->f, "/cmvn/count", &s->count, -1, w->tmp) ||
        h5_write_f64(w->f, "/cmvn/pix_sum", &s->pix_sum, -1, w->tmp) ||
        h5_write_f64(w->f, "/cmvn/pix_sumsq", &s->pix_sumsq, -1, w->tmp) ||
        h5_write_f64(w->f, "/cmvn/pix_count", &s->pix_count, -1, w->tmp))
        return -1;
    return 0;
}

static int finish(avm_shard_writer *w) {
    if (h5_write_i64(w->f, "/audio/offsets", w->aoff, w->n + 1, w->tmp) ||
        (w->has_video && h5_write_i64(w->f, "/video/offsets", w->voff, w->n + 1, w->tmp)) ||
        h5_write_strs(w->f, "/utt_ids", w->ids, w->n, w->tmp) ||
        h5_write_strs(w->f, "/failed", w->failed, w->n_failed, w->tmp) ||
        write_stats(w) ||
        h5_write_str_attr(w->f, "config", w->config, w->tmp) ||
        h5_write_str_attr(w->f, "avmask_version", AVMASK_VERSION, w->tmp))
        return -1;
    int rc = 0;
    if (H5Dclose(w->fbank) < 0) rc = -1;
    if (w->frames >= 0 && H5Dclose(w->frames) < 0) rc = -1;
    w->fbank = w->frames = -1;
    if (rc) return avm_fail("%s: HDF5 write failed (disk full?)", w->tmp);
    rc = h5_close(w->f, w->tmp);
    w->f = -1;
    return rc;
}

static void writer_free(avm_shard_writer *w) {
    for (int i = 0; i < w->n; i++) free(w->ids[i]);
    for (int i = 0; i < w->n_failed; i++) free(w->failed[i]);
    free(w->ids); free(w->failed); free(w->aoff); free(w->voff);
    cmvn_acc_free(&w->stats);
    free(w->path); free(w->tmp); free(w->config);
    free(w);
}

int shard_writer_close(avm_shard_writer *w) {
    int rc = finish(w);
    if (!rc) rc = atomic_rename(w->tmp, w->path);
    if (rc) { shard_writer_abort(w); return -1; }
    writer_free(w);
    return 0;
}

int shard_writer_finish(avm_shard_writer *w) {
    if (finish(w)) { shard_writer_abort(w); return -1; }
    writer_free(w);
    return 0;
}

void shard_writer_abort(avm_shard_writer *w) {
    if (!w) return;
    if (w->fbank >= 0) H5Dclose(w->fbank);
    if (w->frames >= 0) H5Dclose(w->frames);
    if (w->f >= 0) H5Fclose(w->f);
    unlink(w->tmp);
    writer_free(w);
}
