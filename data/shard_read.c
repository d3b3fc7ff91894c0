/* Reading shards: a finished shard's summary (resume, merge), feature dirs
 * (index.tsv + shards) and random access through a bounded cache of open files. */
#include "data/shard.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/h5util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Datasets' shapes: n_mels, has_video, height, width. */
static int read_dims(hid_t f, const char *path, int *n_mels, int *has_video, int *h, int *w) {
    hsize_t d[4];
    int rank = h5_dims(f, "/audio/fbank", d, path);
    if (rank < 0) return -1;
    if (rank != 2 || d[1] == 0) return avm_fail("%s: /audio/fbank is not [frames, n_mels]", path);
    *n_mels = (int)d[1];
    *has_video = h5_exists(f, "/video") && h5_exists(f, "/video/frames");
    *h = *w = 0;
    if (*has_video) {
        rank = h5_dims(f, "/video/frames", d, path);
        if (rank < 0) return -1;
        if (rank != 3) return avm_fail("%s: /video/frames is not [frames, H, W]", path);
        *h = (int)d[1];
        *w = (int)d[2];
    }
    return 0;
}

/* Offsets must start at 0, never decrease and end at the dataset's row count. */
static int check_offsets(hid_t f, const char *name, const char *data, const int64_t *off, int64_t n,
                         const char *path) {
    hsize_t d[4];
    if (h5_dims(f, data, d, path) < 0) return -1;
    if (off[0] != 0 || off[n] != (int64_t)d[0]) return avm_fail("%s: %s do not span %s", path, name, data);
    for (int64_t i = 0; i < n; i++)
        if (off[i + 1] < off[i]) return avm_fail("%s: %s decrease at %lld", path, name, (long long)i);
    return 0;
}

static int read_stats(hid_t f, avm_cmvn_acc *s, const char *path) {
    if (h5_read_f64(f, "/cmvn/sum", s->sum, s->dim, path) || h5_read_f64(f, "/cmvn/sumsq", s->sumsq, s->dim, path) ||
        h5_read_f64(f, "/cmvn/count", &s->count, -1, path) || h5_read_f64(f, "/cmvn/pix_sum", &s->pix_sum, -1, path) ||
        h5_read_f64(f, "/cmvn/pix_sumsq", &s->pix_sumsq, -1, path) ||
        h5_read_f64(f, "/cmvn/pix_count", &s->pix_count, -1, path))
        return -1;
    return 0;
}

static int meta_body(hid_t f, const char *path, avm_shard_meta *m) {
    int64_t n, nf, na, nv;
    int64_t *aoff = NULL, *voff = NULL;
    if (read_dims(f, path, &m->n_mels, &m->has_video, &m->height, &m->width)) return -1;
    if (h5_read_strs(f, "/utt_ids", &m->utt_ids, &n, path)) return -1;
    m->n = (int)n;
    if (h5_read_strs(f, "/failed", &m->failed, &nf, path)) return -1;
    m->n_failed = (int)nf;
    if (!(m->config_json = h5_read_str_attr(f, "config", path))) return -1;
    cmvn_acc_init(&m->stats, m->n_mels);
    if (read_stats(f, &m->stats, path)) return -1;
    int rc = h5_read_i64_all(f, "/audio/offsets", &aoff, &na, path);
    if (!rc && na != n + 1) rc = avm_fail("%s: /audio/offsets has %lld values for %lld utterances", path, (long long)na, (long long)n);
    if (!rc) rc = check_offsets(f, "/audio/offsets", "/audio/fbank", aoff, n, path);
    if (!rc && m->has_video) {
        rc = h5_read_i64_all(f, "/video/offsets", &voff, &nv, path);
        if (!rc && nv != n + 1) rc = avm_fail("%s: /video/offsets has %lld values for %lld utterances", path, (long long)nv, (long long)n);
        if (!rc) rc = check_offsets(f, "/video/offsets", "/video/frames", voff, n, path);
    }
    m->a_frames = xcalloc(n + 1, sizeof *m->a_frames);
    m->v_frames = xcalloc(n + 1, sizeof *m->v_frames);
    for (int64_t i = 0; !rc && i < n; i++) {
        m->a_frames[i] = aoff[i + 1] - aoff[i];
        m->v_frames[i] = voff ? voff[i + 1] - voff[i] : 0;
    }
    free(aoff);
    free(voff);
    return rc;
}

int shard_meta_read(const char *path, avm_shard_meta *m) {
    memset(m, 0, sizeof *m);
    hid_t f = h5_open_ro(path);
    if (f < 0) return -1;
    int rc = meta_body(f, path, m);
    H5Fclose(f);
    if (rc) shard_meta_free(m);
    return rc;
}

void shard_meta_free(avm_shard_meta *m) {
    for (int i = 0; m->utt_ids && i < m->n; i++) free(m->utt_ids[i]);
    for (int i = 0; m->failed && i < m->n_failed; i++) free(m->failed[i]);
    free(m->utt_ids); free(m->failed); free(m->a_frames); free(m->v_frames); free(m->config_json);
    if (m->stats.sum) cmvn_acc_free(&m->stats);
    memset(m, 0, sizeof *m);
}

/* ---- index.tsv ---- */

void index_format(avm_strbuf *b, const avm_index_entry *e, int n) {
    sb_add(b, "");
    for (int i = 0; i < n; i++)
        sb_printf(b, "%s\t%d\t%d\t%d\t%d\n", e[i].utt_id, e[i].shard, e[i].row, e[i].a_frames, e[i].v_frames);
}

int index_write(const char *path, const avm_index_entry *e, int n) {
    avm_strbuf b = {0};
    index_format(&b, e, n);
    int rc = write_file_atomic(path, b.s, b.len);
    sb_free(&b);
    return rc;
}

static int parse_nonneg(const char *s, int *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < 0 || x > 2000000000L) return -1;
    *v = (int)x;
    return 0;
}

int index_read(const char *path, avm_index_entry **out, int *nout) {
    avm_lines r;
    *out = NULL;
    *nout = 0;
    if (lines_open(&r, path)) return -1;
    int n = 0, cap = 0, rc = 0;
    avm_index_entry *e = NULL;
    char *line, *f[6];
    while ((line = lines_next(&r))) {
        if (!utf8_valid(line)) { rc = avm_fail("%s:%d: not valid UTF-8 (utterance ids are)", path, r.lineno); break; }
        if (split_ws(line, f, 6) != 5) { rc = avm_fail("%s:%d: expected 5 columns", path, r.lineno); break; }
        avm_index_entry x;
        if (parse_nonneg(f[1], &x.shard) || parse_nonneg(f[2], &x.row) || parse_nonneg(f[3], &x.a_frames) ||
            parse_nonneg(f[4], &x.v_frames)) {
            rc = avm_fail("%s:%d: bad number", path, r.lineno);
            break;
        }
        if (n == cap) e = xrealloc(e, (cap = cap ? 2 * cap : 256) * sizeof *e);
        x.utt_id = xstrdup(f[0]);
        e[n++] = x;
    }
    if (lines_close(&r) && !rc) rc = -1;
    if (rc) { index_free(e, n); return -1; }
    *out = e;
    *nout = n;
    return 0;
}

void index_free(avm_index_entry *e, int n) {
    for (int i = 0; i < n; i++) free(e[i].utt_id);
    free(e);
}

/* ---- feature dirs ---- */

/* Audio frames per token, as extract recorded it: the one source of the stacking. */
static int read_stack(avm_feats *fe, const char *path) {
    json_value *v = json_parse(fe->config_json);
    long long k = 0;
    int rc = !v ? avm_fail("%s: the feature configuration is not JSON", path)
             : json_int_range(v, "audio_frames_per_video_frame", 1, 1000, JSON_REQUIRED, &k)
                 ? avm_fail("%s: feature configuration: %s (audio frames per token)", path, avm_error()) : 0;
    json_free(v);
    fe->stack = (int)k;
    return rc;
}

/* One shard's dims must equal the first's; its row count must cover the index. */
static int check_shard(avm_feats *fe, int shard, int max_row, int first) {
    char *path = shard_path(fe->dir, shard);
    hid_t f = h5_open_ro(path);
    int rc = f < 0 ? -1 : 0, nm, hv, h, w;
    hsize_t d[4];
    if (!rc) rc = read_dims(f, path, &nm, &hv, &h, &w);
    if (!rc && h5_dims(f, "/utt_ids", d, path) < 0) rc = -1;
    if (!rc && (int64_t)d[0] <= max_row) rc = avm_fail("%s: has %d utterances, index.tsv names row %d", path, (int)d[0], max_row);
    if (!rc && first) {
        fe->n_mels = nm; fe->has_video = hv; fe->height = h; fe->width = w;
        fe->config_json = h5_read_str_attr(f, "config", path);
        rc = fe->config_json ? read_stack(fe, path) : -1;
    } else if (!rc && (nm != fe->n_mels || hv != fe->has_video || h != fe->height || w != fe->width)) {
        rc = avm_fail("%s: dimensions differ from the first shard's", path);
    }
    if (f >= 0) H5Fclose(f);
    free(path);
    return rc;
}

int feats_open(avm_feats *fe, const char *dir) {
    memset(fe, 0, sizeof *fe);
    if (!dir_exists(dir)) return avm_fail("%s: no such feature directory", dir);
    fe->dir = xstrdup(dir);
    char *ipath = path_join(dir, "index.tsv");
    int rc = file_exists(ipath) ? index_read(ipath, &fe->e, &fe->n)
                                : avm_fail("%s: missing (extraction unfinished or not merged?)", ipath);
    if (!rc && fe->n == 0) rc = avm_fail("%s: no utterances", ipath);
    /* Rows of one shard are contiguous in the index: check each shard once. */
    for (int i = 0, first = 1; !rc && i < fe->n;) {
        int s = fe->e[i].shard, max_row = 0;
        for (; i < fe->n && fe->e[i].shard == s; i++)
            if (fe->e[i].row > max_row) max_row = fe->e[i].row;
        rc = check_shard(fe, s, max_row, first);
        first = 0;
    }
    free(ipath);
    if (rc) feats_close(fe);
    return rc;
}

void feats_close(avm_feats *fe) {
    index_free(fe->e, fe->n);
    free(fe->dir);
    free(fe->config_json);
    memset(fe, 0, sizeof *fe);
}

/* ---- random access ---- */

typedef struct {
    int shard;                 /* -1: empty slot */
    hid_t f, fbank, frames;
    int64_t *aoff, *voff;
    int64_t n;
    unsigned long last_use;
} open_shard;

struct avm_shard_reader {
    const avm_feats *fe;
    open_shard *slot;
    int max_open;
    unsigned long tick;
};

avm_shard_reader *shard_reader_new(const avm_feats *fe, int max_open) {
    avm_shard_reader *r = xcalloc(1, sizeof *r);
    r->fe = fe;
    r->max_open = max_open > 0 ? max_open : 1;
    r->slot = xcalloc(r->max_open, sizeof *r->slot);
    for (int i = 0; i < r->max_open; i++) r->slot[i].shard = -1;
    return r;
}

static void slot_close(open_shard *s) {
    if (s->shard < 0) return;
    if (s->frames >= 0) H5Dclose(s->frames);
    if (s->fbank >= 0) H5Dclose(s->fbank);
    if (s->f >= 0) H5Fclose(s->f);
    free(s->aoff);
    free(s->voff);
    memset(s, 0, sizeof *s);
    s->shard = -1;
}

static int slot_open(avm_shard_reader *r, open_shard *s, int shard) {
    char *path = shard_path(r->fe->dir, shard);
    s->shard = shard;
    s->fbank = s->frames = -1;
    s->f = h5_open_ro(path);
    int64_t nv = 0;
    int rc = s->f < 0 ? -1 : 0;
    if (!rc) rc = h5_read_i64_all(s->f, "/audio/offsets", &s->aoff, &s->n, path);
    if (!rc && r->fe->has_video) rc = h5_read_i64_all(s->f, "/video/offsets", &s->voff, &nv, path);
    if (!rc && r->fe->has_video && nv != s->n) rc = avm_fail("%s: audio and video offsets differ in length", path);
    if (!rc && (s->fbank = H5Dopen2(s->f, "/audio/fbank", H5P_DEFAULT)) < 0) rc = avm_fail("%s: no /audio/fbank", path);
    if (!rc && r->fe->has_video && (s->frames = H5Dopen2(s->f, "/video/frames", H5P_DEFAULT)) < 0)
        rc = avm_fail("%s: no /video/frames", path);
    s->n--;   /* offsets hold n + 1 values */
    free(path);
    if (rc) slot_close(s);
    return rc;
}

/* The open shard, opening it in the least recently used slot if needed. */
static open_shard *get_shard(avm_shard_reader *r, int shard) {
    open_shard *lru = &r->slot[0];
    for (int i = 0; i < r->max_open; i++) {
        open_shard *s = &r->slot[i];
        if (s->shard == shard) { s->last_use = ++r->tick; return s; }
        if (s->shard < 0 || (lru->shard >= 0 && s->last_use < lru->last_use)) lru = s;
    }
    slot_close(lru);
    if (slot_open(r, lru, shard)) return NULL;
    lru->last_use = ++r->tick;
    return lru;
}

static int read_rows(hid_t ds, hid_t type, int rank, int64_t start, int64_t n, void *buf) {
    if (n == 0) return 0;
    hid_t fs = H5Dget_space(ds);
    if (fs < 0) return -1;
    hsize_t off[4] = {(hsize_t)start}, cnt[4], ext[4];
    if (H5Sget_simple_extent_dims(fs, ext, NULL) != rank) { H5Sclose(fs); return -1; }
    cnt[0] = (hsize_t)n;
    for (int i = 1; i < rank; i++) cnt[i] = ext[i];
    hid_t ms = H5Screate_simple(rank, cnt, NULL);
    int rc = -1;
    if (ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0 &&
        H5Dread(ds, type, ms, fs, H5P_DEFAULT, buf) >= 0)
        rc = 0;
    if (ms >= 0) H5Sclose(ms);
    H5Sclose(fs);
    return rc;
}

int shard_reader_get(avm_shard_reader *r, int i, float *fbank, uint8_t *video) {
    if (i < 0 || i >= r->fe->n) return avm_fail("%s: utterance %d out of range", r->fe->dir, i);
    const avm_index_entry *e = &r->fe->e[i];
    open_shard *s = get_shard(r, e->shard);
    if (!s) return -1;
    if (e->row >= s->n) return avm_fail("%s: shard %d has no row %d", e->utt_id, e->shard, e->row);
    int64_t a0 = s->aoff[e->row], na = s->aoff[e->row + 1] - a0;
    if (na != e->a_frames) return avm_fail("%s: shard %d has %lld audio frames, index.tsv says %d", e->utt_id, e->shard, (long long)na, e->a_frames);
    if (read_rows(s->fbank, H5T_NATIVE_FLOAT, 2, a0, na, fbank))
        return avm_fail("%s: cannot read fbank from shard %d", e->utt_id, e->shard);
    if (video && r->fe->has_video) {
        int64_t v0 = s->voff[e->row], nv = s->voff[e->row + 1] - v0;
        if (nv != e->v_frames) return avm_fail("%s: shard %d has %lld video frames, index.tsv says %d", e->utt_id, e->shard, (long long)nv, e->v_frames);
        if (read_rows(s->frames, H5T_NATIVE_UINT8, 3, v0, nv, video))
            return avm_fail("%s: cannot read video from shard %d", e->utt_id, e->shard);
    }
    return 0;
}

int shard_reader_get_audio(avm_shard_reader *r, int i, int64_t start, int64_t n, float *fbank) {
    if (i < 0 || i >= r->fe->n) return avm_fail("%s: utterance %d out of range", r->fe->dir, i);
    const avm_index_entry *e = &r->fe->e[i];
    if (start < 0 || n < 0 || start + n > e->a_frames)
        return avm_fail("%s: frames %lld..%lld outside its %d", e->utt_id, (long long)start, (long long)(start + n),
                        e->a_frames);
    open_shard *s = get_shard(r, e->shard);
    if (!s) return -1;
    if (e->row >= s->n) return avm_fail("%s: shard %d has no row %d", e->utt_id, e->shard, e->row);
    int64_t a0 = s->aoff[e->row];
    if (s->aoff[e->row + 1] - a0 != e->a_frames)
        return avm_fail("%s: shard %d has %lld audio frames, index.tsv says %d", e->utt_id, e->shard,
                        (long long)(s->aoff[e->row + 1] - a0), e->a_frames);
    if (read_rows(s->fbank, H5T_NATIVE_FLOAT, 2, a0 + start, n, fbank))
        return avm_fail("%s: cannot read fbank from shard %d", e->utt_id, e->shard);
    return 0;
}

void shard_reader_free(avm_shard_reader *r) {
    if (!r) return;
    for (int i = 0; i < r->max_open; i++) slot_close(&r->slot[i]);
    free(r->slot);
    free(r);
}

/* Number of shards the reader holds open (for tests of the bound). */
int shard_reader_open_count(const avm_shard_reader *r) {
    int n = 0;
    for (int i = 0; i < r->max_open; i++) n += r->slot[i].shard >= 0;
    return n;
}
