/* One extraction job: its contiguous range of shards, skipping the finished ones. */
#include "data/extract.h"
#include "common/commit.h"
#include "common/json.h"
#include "common/progress.h"
#include "common/strbuf.h"
#include "common/util.h"
#include <omp.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const extract_cfg *c;
    const avm_datadir *d;
    const char *config;
    avm_fbank *fb;
    int has_video, k, n;
    avm_index_entry *idx;     /* rows of this job */
    int n_idx, cap_idx;
    avm_strbuf err;           /* extract.K.err lines */
    int failed, done, skipped;
    double seconds;           /* audio extracted in this run (for x real time) */
    avm_progress prog;
    avm_committer *cm;        /* commits finished shards and job files in the background */
} job_state;

static void add_row(job_state *j, const char *id, int shard, int row, int64_t na, int64_t nv) {
    if (j->n_idx == j->cap_idx)
        j->idx = xrealloc(j->idx, (j->cap_idx = j->cap_idx ? 2 * j->cap_idx : 256) * sizeof *j->idx);
    j->idx[j->n_idx++] = (avm_index_entry){xstrdup(id), shard, row, (int)na, (int)nv};
}

/* A finished shard must hold exactly the utterances [u0, u1) (written or failed) and the
 * same feature configuration; anything else means --out belongs to another run. */
static int check_finished(job_state *j, const char *path, const avm_shard_meta *m, int u0, int u1) {
    if (strcmp(m->config_json, j->config))
        return avm_fail("%s: written with another feature configuration; use a new --out", path);
    int a = 0, b = 0;
    for (int i = u0; i < u1; i++) {
        const char *id = j->d->u[i].id;
        size_t len = strlen(id);
        if (a < m->n && !strcmp(m->utt_ids[a], id)) a++;
        else if (b < m->n_failed && !strncmp(m->failed[b], id, len) && m->failed[b][len] == ' ') b++;
        else return avm_fail("%s: does not hold utterance %s (another data dir or --shard-size?); use a new --out", path, id);
    }
    if (a != m->n || b != m->n_failed) return avm_fail("%s: holds utterances the data dir does not list", path);
    return 0;
}

/* Takes a finished shard's rows and failures as they are: 0; 1 if --retry-failed asks for
 * it to be extracted again (it holds failures; it is replaced only once the new one is
 * complete); -1 + avm_fail if it belongs to another run. */
static int reuse_shard(job_state *j, int s, const char *path, int u0, int u1) {
    avm_shard_meta m;
    if (shard_meta_read(path, &m)) return -1;
    int rc = check_finished(j, path, &m, u0, u1);
    if (!rc && m.n_failed && j->c->retry_failed) {
        avm_logonly("job %d/%d: %s holds %d failed utterances: extracting it again", j->k, j->n, path, m.n_failed);
        shard_meta_free(&m);
        return 1;
    }
    for (int i = 0; !rc && i < m.n; i++) add_row(j, m.utt_ids[i], s, i, m.a_frames[i], m.v_frames[i]);
    for (int i = 0; !rc && i < m.n_failed; i++) sb_printf(&j->err, "%s\n", m.failed[i]);
    if (!rc) { j->failed += m.n_failed; j->skipped += u1 - u0; }
    if (!rc && j->c->shared) { j->c->shared->done += u1 - u0; j->c->shared->failed += m.n_failed; }
    shard_meta_free(&m);
    return rc;
}

static void report_failure(job_state *j, avm_shard_writer *w, const avm_utt *u, const char *reason) {
    avm_warn("%s (%s): %s", u->id, u->path, reason);
    shard_writer_add_failure(w, u->id, u->path, reason);
    sb_printf(&j->err, "%s %s %s\n", u->id, u->path, reason);
    j->failed++;
}

/* Extracts utterances [u0, u1) into a new shard, `threads` utterances at a time (decoding
 * in parallel, writing in order). */
static int write_shard(job_state *j, int s, const char *path, int u0, int u1) {
    const extract_cfg *c = j->c;
    avm_shard_writer *w = shard_writer_open(path, j->config, c->n_mels, j->has_video, c->height, c->width);
    if (!w) return -1;
    int nb = c->threads, row = 0;
    utt_feats *batch = xcalloc(nb, sizeof *batch);
    for (int b0 = u0; b0 < u1; b0 += nb) {
        int b1 = b0 + nb < u1 ? b0 + nb : u1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nb)
        for (int i = b0; i < b1; i++) extract_utt(c, j->fb, j->has_video, &j->d->u[i], &batch[i - b0]);
        for (int i = b0; i < b1; i++) {
            utt_feats *f = &batch[i - b0];
            const avm_utt *u = &j->d->u[i];
            if (f->error) {
                report_failure(j, w, u, f->error);
                if (c->shared) c->shared->failed++;
            } else if (shard_writer_add(w, u->id, f->fbank, f->a_frames, f->video, f->v_frames)) {
                for (int k = i; k < b1; k++) utt_feats_free(&batch[k - b0]);
                free(batch);
                shard_writer_abort(w);
                return -1;
            } else {
                add_row(j, u->id, s, row++, f->a_frames, f->v_frames);
                j->seconds += f->seconds;
                if (c->shared) c->shared->audio_ms += (long)(f->seconds * 1000);
            }
            utt_feats_free(f);
            j->done++;
            if (c->shared) c->shared->done++;
            else progress_update(&j->prog, j->done + j->skipped, "%.1f files/s, %.1fx real time, %d failed",
                            j->done / (now_sec() - j->prog.t0 + 1e-9), j->seconds / (now_sec() - j->prog.t0 + 1e-9),
                            j->failed);
        }
    }
    free(batch);
    if (shard_writer_finish(w)) return -1;
    char *tmp = xasprintf("%s.tmp", path);
    int rc = committer_rename(j->cm, tmp, path);
    free(tmp);
    if (!rc) avm_logonly("job %d/%d: finished %s", j->k, j->n, path);
    return rc;
}

static char *job_file(const char *out, const char *stem, int k, const char *ext) {
    char *name = xasprintf("%s.%d.%s", stem, k, ext), *p = path_join(out, name);
    free(name);
    return p;
}

/* index.K.tsv, extract.K.err, then job.K.json (its presence marks the job finished, so it
 * is committed after the job's shards and the other two files). */
static int write_partials(job_state *j, int s0, int s1, int n_utts) {
    const extract_cfg *c = j->c;
    char *ip = job_file(c->out, "index", j->k, "tsv"), *ep = job_file(c->out, "extract", j->k, "err");
    char *jp = job_file(c->out, "job", j->k, "json");
    avm_strbuf b = {0}, js = {0};
    index_format(&b, j->idx, j->n_idx);
    sb_add(&j->err, "");
    int rc = committer_write(j->cm, ip, b.s, b.len) || committer_write(j->cm, ep, j->err.s, j->err.len) ? -1 : 0;
    if (!rc) {
        avm_jw w;
        jw_init(&w, &js);
        jw_obj_begin(&w);
        jw_key(&w, "job"); jw_int(&w, j->k);
        jw_key(&w, "nj"); jw_int(&w, j->n);
        jw_key(&w, "first_shard"); jw_int(&w, s0);
        jw_key(&w, "end_shard"); jw_int(&w, s1);
        jw_key(&w, "shard_size"); jw_int(&w, c->shard_size);
        jw_key(&w, "total_utts"); jw_int(&w, j->d->n);
        jw_key(&w, "utts"); jw_int(&w, n_utts);
        jw_key(&w, "failed"); jw_int(&w, j->failed);
        jw_obj_end(&w);
        sb_add(&js, "\n");
        rc = committer_write(j->cm, jp, js.s, js.len);
    }
    sb_free(&b);
    sb_free(&js);
    free(ip); free(ep); free(jp);
    return rc;
}

static int run_shards(job_state *j, int s0, int s1) {
    const extract_cfg *c = j->c;
    for (int s = s0; s < s1; s++) {
        int u0 = s * c->shard_size, u1 = u0 + c->shard_size < j->d->n ? u0 + c->shard_size : j->d->n;
        char *path = shard_path(c->out, s);
        int rc = file_exists(path) ? reuse_shard(j, s, path, u0, u1) : 1;
        if (rc == 0) avm_logonly("job %d/%d: %s is complete, skipped", j->k, j->n, path);
        if (rc == 1) rc = write_shard(j, s, path, u0, u1);
        free(path);
        if (rc) return -1;
    }
    return 0;
}

int extract_job(const extract_cfg *c, int k, int n, int *n_utts) {
    avm_datadir own;
    if (!c->dir && datadir_read(&own, c->data)) return -1;
    const avm_datadir *d = c->dir ? c->dir : &own;
    avm_fbank_opts fo;
    fbank_default_opts(&fo);
    fo.n_mels = c->n_mels;
    job_state j = {.c = c, .d = d, .k = k, .n = n, .has_video = !c->no_video && !d->audio_only,
                   .cm = c->commit ? c->commit : committer_new()};
    j.config = extract_config_json(c, d);
    j.fb = fbank_new(&fo);
    int n_shards = (d->n + c->shard_size - 1) / c->shard_size;
    int s0 = (int)((int64_t)(k - 1) * n_shards / n), s1 = (int)((int64_t)k * n_shards / n);
    if (c->slice_bounds) { s0 = c->slice_bounds[k - 1]; s1 = c->slice_bounds[k]; }
    int u0 = s0 * c->shard_size, u1 = s1 * c->shard_size < d->n ? s1 * c->shard_size : d->n;
    *n_utts = u1 - u0;
    avm_logonly("job %d/%d: data %s (%d utterances), out %s, shards %d..%d of %d (%d utterances each)", k, n,
                c->data, d->n, c->out, s0, s1 - 1, n_shards, c->shard_size);
    if (s0 == s1) avm_info("job %d/%d: no shards to extract (%d shards for %d jobs)", k, n, n_shards, n);
    char *what = xasprintf("extract job %d/%d", k, n);
    if (!c->shared) progress_start(&j.prog, what, *n_utts);
    int rc = j.fb ? run_shards(&j, s0, s1) : -1;
    if (!rc) rc = write_partials(&j, s0, s1, *n_utts);
    if (!c->commit) {   /* our own committer: everything on disk before we return */
        if (committer_wait(j.cm) && !rc) rc = -1;
        committer_free(j.cm);
    }
    if (!rc && c->shared)
        avm_logonly("job %d/%d: %d utterances, %d failed, %d already done", k, n, *n_utts, j.failed, j.skipped);
    else if (!rc)
        progress_end(&j.prog, "(%d utterances, %d failed, %d already done; %.1fx real time)", *n_utts, j.failed,
                     j.skipped, j.seconds / (now_sec() - j.prog.t0 + 1e-9));
    free(what);
    index_free(j.idx, j.n_idx);
    sb_free(&j.err);
    free((char *)j.config);
    fbank_free(j.fb);
    if (!c->dir) datadir_free(&own);
    return rc ? -1 : j.failed;
}

int extract_too_many(const extract_cfg *c, int failed, int n) {
    double limit = c->max_fail_pct ? c->max_fail * n / 100.0 : c->max_fail;
    return failed > limit;
}
