/* Label shards (data/labels.h): writing one, and a reader that checks a whole label dir
 * against the feature dir it labels before anyone trains on it. */
#include "data/labels.h"
#include "common/util.h"
#include "common/version.h"
#include "data/h5util.h"
#include <stdlib.h>
#include <string.h>

char *labels_path(const char *dir, int shard) {
    char name[32];
    snprintf(name, sizeof name, "labels-%05d.h5", shard);
    return path_join(dir, name);
}

static int write_body(hid_t f, const char *path, const char *hash, int k, const char *source,
                      const char *feats_shard, const char *ixh, char *const *ids, int n, const int64_t *off,
                      const int32_t *lab) {
    if (h5_write_i32(f, "/labels", lab, off[n], path) || h5_write_i64(f, "/offsets", off, n + 1, path) ||
        h5_write_strs(f, "/utt_ids", ids, n, path) || h5_write_str_attr(f, "codebook_hash", hash, path) ||
        h5_write_i64_attr(f, "k", k, path) || h5_write_str_attr(f, "source", source, path) ||
        h5_write_str_attr(f, "feats_shard", feats_shard, path) || h5_write_str_attr(f, "feats_index_hash", ixh, path) ||
        h5_write_str_attr(f, "avmask_version", AVMASK_VERSION, path))
        return -1;
    return 0;
}

int labels_write_shard(const char *path, const char *hash, int k, const char *source, const char *feats_shard,
                       const char *ixh, char *const *ids, int n, const int64_t *off, const int32_t *lab) {
    char *tmp = xasprintf("%s.tmp", path);
    hid_t f = h5_create(tmp);
    int rc = f < 0 ? -1 : write_body(f, tmp, hash, k, source, feats_shard, ixh, ids, n, off, lab);
    if (f >= 0 && h5_close(f, tmp)) rc = -1;
    if (!rc) rc = atomic_rename(tmp, path);
    if (rc) remove(tmp);
    free(tmp);
    return rc;
}

char *labels_shard_hash(const char *path) {
    hid_t f = h5_open_ro(path);
    if (f < 0) return NULL;
    char *h = h5_read_str_attr(f, "codebook_hash", path);
    H5Fclose(f);
    return h;
}

/* ---- reading ---- */

typedef struct {
    int shard;
    int64_t *off;          /* [n+1] */
    int64_t n;
} label_shard;

struct avm_labels {
    char *dir, *hash;
    const avm_feats *fe;
    int k, nshard;
    label_shard *s;        /* in the order fe's index names the shards */
    int *slot;             /* fe utterance -> its label shard */
    hid_t open_f;          /* the label file read last (-1: none) */
    int open_s;
};

/* The utterances of fe in shard `shard` are rows [i0, i1) of the index: each must have
 * its id at its row in the label file and one label per token. */
static int check_utts(const avm_feats *fe, int i0, int i1, char **ids, const int64_t *off, int64_t n,
                      const char *path) {
    for (int i = i0; i < i1; i++) {
        const avm_index_entry *e = &fe->e[i];
        if (e->row >= n || strcmp(ids[e->row], e->utt_id))
            return avm_fail("%s: utterance %s: not at row %d (the label file belongs to other features)", path,
                            e->utt_id, e->row);
        int64_t got = off[e->row + 1] - off[e->row];
        if (got != e->a_frames / fe->stack)
            return avm_fail("%s: utterance %s: %lld labels for %d tokens", path, e->utt_id, (long long)got,
                            e->a_frames / fe->stack);
    }
    return 0;
}

/* Offsets start at 0, never decrease and end at the label count. */
static int check_offsets(hid_t f, const int64_t *off, int64_t n, char **ids, const char *path) {
    hsize_t d[4];
    if (h5_dims(f, "/labels", d, path) != 1) return avm_fail("%s: /labels is not 1-d", path);
    if (off[0] != 0 || off[n] != (int64_t)d[0]) return avm_fail("%s: /offsets do not span /labels", path);
    for (int64_t i = 0; i < n; i++)
        if (off[i + 1] < off[i]) return avm_fail("%s: utterance %s: offsets decrease", path, ids[i]);
    return 0;
}

static int open_shard(avm_labels *L, label_shard *ls, int i0, int i1) {
    char *path = labels_path(L->dir, ls->shard), *hash = NULL, **ids = NULL;
    int64_t nids = 0, k = 0;
    hid_t f = h5_open_ro(path);
    int rc = f < 0 ? -1 : 0;
    if (!rc && !(hash = h5_read_str_attr(f, "codebook_hash", path))) rc = -1;
    if (!rc && !L->hash) L->hash = xstrdup(hash);
    if (!rc && strcmp(hash, L->hash))
        rc = avm_fail("%s: utterance %s: codebook %s, expected %s (labels of another codebook)", path,
                      L->fe->e[i0].utt_id, hash, L->hash);
    if (!rc) rc = h5_read_i64_attr(f, "k", &k, path);
    if (!rc && (k < 1 || k > 1 << 24 || (L->k && k != L->k))) rc = avm_fail("%s: bad k %lld", path, (long long)k);
    if (!rc) L->k = (int)k;
    if (!rc) rc = h5_read_strs(f, "/utt_ids", &ids, &nids, path);
    if (!rc) rc = h5_read_i64_all(f, "/offsets", &ls->off, &ls->n, path);
    if (!rc && ls->n != nids + 1)
        rc = avm_fail("%s: /offsets has %lld values for %lld utterances", path, (long long)ls->n, (long long)nids);
    if (!rc) rc = check_offsets(f, ls->off, nids, ids, path);
    if (!rc) rc = check_utts(L->fe, i0, i1, ids, ls->off, nids, path);
    ls->n = nids;
    for (int64_t i = 0; ids && i < nids; i++) free(ids[i]);
    free(ids);
    free(hash);
    if (f >= 0) H5Fclose(f);
    free(path);
    return rc;
}

avm_labels *labels_open(const char *dir, const avm_feats *fe, const char *expect_hash) {
    avm_labels *L = xcalloc(1, sizeof *L);
    L->dir = xstrdup(dir);
    L->hash = expect_hash ? xstrdup(expect_hash) : NULL;
    L->fe = fe;
    L->open_f = -1;
    L->slot = xcalloc(fe->n + 1, sizeof *L->slot);
    L->s = xcalloc(fe->n + 1, sizeof *L->s);
    int rc = dir_exists(dir) ? 0 : avm_fail("%s: no such label directory", dir);
    for (int i = 0; !rc && i < fe->n;) {   /* rows of one shard are contiguous in the index */
        int i0 = i, s = fe->e[i].shard;
        while (i < fe->n && fe->e[i].shard == s) L->slot[i++] = L->nshard;
        label_shard *ls = &L->s[L->nshard++];
        ls->shard = s;
        rc = open_shard(L, ls, i0, i);
    }
    if (rc) { labels_close(L); return NULL; }
    return L;
}

int labels_get(avm_labels *L, int i, int32_t *out) {
    if (i < 0 || i >= L->fe->n) return avm_fail("%s: utterance %d out of range", L->dir, i);
    const avm_index_entry *e = &L->fe->e[i];
    label_shard *ls = &L->s[L->slot[i]];
    char *path = labels_path(L->dir, ls->shard);
    int rc = 0;
    if (L->open_s != ls->shard || L->open_f < 0) {
        if (L->open_f >= 0) H5Fclose(L->open_f);
        L->open_s = ls->shard;
        if ((L->open_f = h5_open_ro(path)) < 0) rc = -1;
    }
    int64_t n = e->a_frames / L->fe->stack;
    if (!rc) rc = h5_read_i32_rows(L->open_f, "/labels", ls->off[e->row], n, out, path);
    for (int64_t t = 0; !rc && t < n; t++)
        if (out[t] < 0 || out[t] >= L->k)
            rc = avm_fail("%s: utterance %s: label %d at token %lld outside [0, %d)", path, e->utt_id, out[t],
                          (long long)t, L->k);
    free(path);
    return rc;
}

const char *labels_hash(const avm_labels *L) { return L->hash; }
int labels_k(const avm_labels *L) { return L->k; }

void labels_close(avm_labels *L) {
    if (!L) return;
    if (L->open_f >= 0) H5Fclose(L->open_f);
    for (int i = 0; i < L->nshard; i++) free(L->s[i].off);
    free(L->s); free(L->slot); free(L->dir); free(L->hash);
    free(L);
}
