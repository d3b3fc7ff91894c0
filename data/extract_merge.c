/* Joins the per-job files of a feature dir: index.K.tsv -> index.tsv, extract.K.err ->
 * extract.err, and cmvn.h5 from the statistics kept in every shard (summed in shard
 * order, so the result does not depend on the number of jobs). */
#include "data/extract.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"
#include <glob.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int job, nj, first, end, shard_size, total, utts, failed; } job_info;

/* The counts of a job.K.json, each a whole number in [0, INT_MAX] (-1 stays for "absent",
 * which the caller refuses). */
static int job_fields(const json_value *v, job_info *ji) {
    static const char *keys[8] = {"job", "nj", "first_shard", "end_shard", "shard_size", "total_utts", "utts", "failed"};
    int *dst[8] = {&ji->job, &ji->nj, &ji->first, &ji->end, &ji->shard_size, &ji->total, &ji->utts, &ji->failed};
    for (int i = 0; i < 8; i++) {
        long long x;
        if (json_int_range(v, keys[i], 0, INT_MAX, JSON_REQUIRED, &x)) return -1;
        *dst[i] = (int)x;
    }
    return 0;
}

static int read_job(const char *out, int k, job_info *ji) {
    char *name = xasprintf("job.%d.json", k), *p = path_join(out, name);
    free(name);
    char *text = file_exists(p) ? read_file(p, NULL) : NULL;
    int rc = 0;
    if (!text) {
        rc = avm_fail("%s: missing: job %d has not finished (rerun it: finished shards are kept)", p, k);
    } else {
        json_value *v = json_parse(text);
        if (!v) {
            rc = avm_fail("%s: not valid JSON", p);
        } else {
            rc = job_fields(v, ji);
            if (rc) rc = avm_fail("%s: incomplete job description: %s", p, avm_error());
            else if (ji->job != k || ji->nj < 1 || ji->end < ji->first)
                rc = avm_fail("%s: incomplete job description", p);
            json_free(v);
        }
    }
    free(text);
    free(p);
    return rc;
}

/* N from job.*.json when --nj is not given; all must agree. */
static int find_nj(const char *out) {
    char *pat = path_join(out, "job.*.json");
    glob_t g;
    int nj = -1;
    if (glob(pat, 0, NULL, &g) != 0) {
        avm_fail("%s: no job files (nothing extracted yet?)", out);
    } else {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *base = strrchr(g.gl_pathv[i], '/');
            int k = atoi(base ? base + 5 : g.gl_pathv[i] + 4);
            job_info ji;
            if (read_job(out, k, &ji)) { nj = -1; break; }
            if (nj > 0 && ji.nj != nj) {
                nj = avm_fail("%s: job files of different splits (%d and %d jobs); pass --nj", out, nj, ji.nj);
                break;
            }
            nj = ji.nj;
        }
        globfree(&g);
    }
    free(pat);
    return nj;
}

/* Jobs must tile the shards 0 .. ceil(total/shard_size) without gaps. */
static int check_jobs(const char *out, const job_info *ji, int nj) {
    for (int k = 0; k < nj; k++) {
        if (ji[k].nj != nj) return avm_fail("%s: job %d belongs to a split into %d jobs, not %d", out, k + 1, ji[k].nj, nj);
        if (ji[k].first != (k ? ji[k - 1].end : 0) || ji[k].shard_size != ji[0].shard_size || ji[k].total != ji[0].total)
            return avm_fail("%s: job %d does not continue job %d's shards", out, k + 1, k);
    }
    int n_shards = ji[0].shard_size > 0 ? (ji[0].total + ji[0].shard_size - 1) / ji[0].shard_size : -1;
    if (ji[nj - 1].end != n_shards) return avm_fail("%s: the jobs cover %d of %d shards", out, ji[nj - 1].end, n_shards);
    return 0;
}

static int gather(const char *out, int nj, avm_index_entry **idx, int *n_idx, avm_strbuf *err) {
    for (int k = 1; k <= nj; k++) {
        char *name = xasprintf("index.%d.tsv", k), *ip = path_join(out, name);
        free(name);
        name = xasprintf("extract.%d.err", k);
        char *ep = path_join(out, name);
        free(name);
        avm_index_entry *e;
        int n;
        char *text = NULL;
        int rc = index_read(ip, &e, &n);
        if (!rc) {
            *idx = xrealloc(*idx, (*n_idx + n + 1) * sizeof **idx);
            if (n) memcpy(*idx + *n_idx, e, n * sizeof *e);
            *n_idx += n;
            free(e);
            rc = (text = read_file(ep, NULL)) ? 0 : -1;
        }
        if (text) sb_add(err, text);
        free(text); free(ip); free(ep);
        if (rc) return -1;
    }
    return 0;
}

static int merge_stats(const char *out, int n_shards, int n_mels_hint, avm_cmvn_acc *acc) {
    int have = 0;
    for (int s = 0; s < n_shards; s++) {
        char *p = shard_path(out, s);
        avm_shard_meta m;
        int rc = shard_meta_read(p, &m);
        free(p);
        if (rc) { if (have) cmvn_acc_free(acc); return -1; }
        if (!have) { cmvn_acc_init(acc, m.n_mels); have = 1; }
        if (m.n_mels != acc->dim) rc = avm_fail("shard %d: %d mel bins, others have %d", s, m.n_mels, acc->dim);
        else cmvn_acc_merge(acc, &m.stats);
        shard_meta_free(&m);
        if (rc) { cmvn_acc_free(acc); return -1; }
    }
    if (!have) cmvn_acc_init(acc, n_mels_hint);
    return 0;
}

int extract_merge(const char *out, int nj, int *n_utts, int *n_failed) {
    if (!dir_exists(out)) return avm_fail("%s: no such feature directory", out);
    if (nj <= 0 && (nj = find_nj(out)) < 0) return -1;
    job_info *ji = xcalloc(nj, sizeof *ji);
    int rc = 0;
    for (int k = 1; k <= nj && !rc; k++) rc = read_job(out, k, &ji[k - 1]);
    if (!rc) rc = check_jobs(out, ji, nj);
    avm_index_entry *idx = NULL;
    int n_idx = 0;
    avm_strbuf err = {0};
    sb_add(&err, "");
    if (!rc) rc = gather(out, nj, &idx, &n_idx, &err);
    *n_utts = ji[0].total;
    *n_failed = 0;
    for (int k = 0; k < nj; k++) *n_failed += ji[k].failed;
    if (!rc && n_idx + *n_failed != *n_utts)
        rc = avm_fail("%s: the jobs list %d extracted + %d failed utterances, the data dir has %d", out, n_idx,
                      *n_failed, *n_utts);
    avm_cmvn_acc acc;
    if (!rc && !(rc = merge_stats(out, ji[nj - 1].end, 80, &acc))) {
        char *cp = path_join(out, "cmvn.h5"), *ep = path_join(out, "extract.err"), *ip = path_join(out, "index.tsv");
        rc = cmvn_write(cp, &acc) || write_file_atomic(ep, err.s, err.len) || index_write(ip, idx, n_idx) ? -1 : 0;
        free(cp); free(ep); free(ip);
        cmvn_acc_free(&acc);
    }
    index_free(idx, n_idx);
    sb_free(&err);
    free(ji);
    return rc;
}
