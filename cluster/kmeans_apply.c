/* `avmask kmeans --apply`: label shards of a feature dir with a codebook, shard by shard
 * (job K of N takes a contiguous run of shards, like extraction), then the merge: every
 * label shard checked by labels_open against the features, index.tsv and labels.json
 * written, and with --ali the quality metrics. A label shard that exists with the same
 * codebook is kept (a rerun finishes only what is missing). */
#include "cluster/codebook.h"
#include "cluster/kmeans_cmd.h"
#include "cluster/km_layer.h"
#include "cluster/km_stream.h"
#include "data/ali.h"
#include "common/json.h"
#include "common/progress.h"
#include "common/util.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int shard, i0, i1; } shard_run;   /* index rows [i0, i1) of one shard */

/* --job=K/N into job, nj (1/1 without). */
static void check_opts(avm_opts *o, km_opts *a) {
    a->job = a->nj = 1;
    if (a->job_arg) {
        char extra;
        if (sscanf(a->job_arg, "%d/%d%c", &a->job, &a->nj, &extra) != 2 || a->nj < 1 || a->job < 1 || a->job > a->nj)
            avm_die("kmeans: --job=%s: expected K/N with 1 <= K <= N", a->job_arg);
    }
    opts_threads(o);
}

static shard_run *shard_runs(const avm_feats *fe, int *m) {
    shard_run *r = xcalloc(fe->n + 1, sizeof *r);
    *m = 0;
    for (int i = 0; i < fe->n;) {
        shard_run *s = &r[(*m)++];
        s->shard = fe->e[i].shard;
        s->i0 = i;
        while (i < fe->n && fe->e[i].shard == s->shard) {
            if (fe->e[i].row != i - s->i0)
                avm_die("kmeans: %s/index.tsv: %s is row %d of shard %d, expected %d (rows out of order)", fe->dir,
                        fe->e[i].utt_id, fe->e[i].row, s->shard, i - s->i0);
            i++;
        }
        s->i1 = i;
    }
    return r;
}

static char *index_hash(const char *feats) {
    char *p = path_join(feats, "index.tsv"), *h = xmalloc(17);
    size_t n;
    char *text = read_file(p, &n);
    if (!text) avm_die("kmeans: %s", avm_error());
    km_hash_bytes(text, n, h);
    free(text);
    free(p);
    return h;
}

/* Labels of one shard's utterances, streamed in blocks and written in one file. */
static void label_shard(const avm_feats *fe, const km_codebook *cb, const shard_run *s, const char *out, int batch,
                        const char *ixh) {
    char *path = labels_path(out, s->shard);
    if (file_exists(path)) {
        char *h = labels_shard_hash(path);
        if (!h) avm_die("kmeans: %s (remove it to label the shard again)", avm_error());
        if (strcmp(h, cb->hash)) avm_die("kmeans: %s: exists with codebook %s, not %s: use another --out", path, h, cb->hash);
        avm_logonly("kmeans: %s exists, kept", path);
        free(h); free(path);
        return;
    }
    int n = s->i1 - s->i0;
    int64_t *off = xcalloc(n + 1, sizeof *off);
    char **ids = xcalloc(n + 1, sizeof *ids);
    for (int i = s->i0; i < s->i1; i++) {
        int T = km_utt_tokens(fe, i);
        if (T < 0) avm_die("kmeans: %s", avm_error());
        off[i - s->i0 + 1] = off[i - s->i0] + T;
        ids[i - s->i0] = fe->e[i].utt_id;
    }
    int32_t *lab = xmalloc(sizeof(int32_t) * (size_t)(off[n] + 1));
    km_stream st;
    km_stream_init(&st, fe, &cb->kf, s->i0, s->i1, batch, 1);
    int rc;
    while ((rc = km_stream_next(&st)) > 0)
        km_assign(&cb->C, st.x, st.n, lab + off[st.utt[0] - s->i0], NULL, NULL);
    if (rc < 0) avm_die("kmeans: %s", avm_error());
    char *fsp = shard_path(fe->dir, s->shard), *abs = realpath(fsp, NULL);
    if (labels_write_shard(path, cb->hash, cb->C.k, km_source_name(cb->kf.src), abs ? abs : fsp, ixh, ids, n, off, lab))
        avm_die("kmeans: %s", avm_error());
    km_stream_free(&st);
    free(abs); free(fsp); free(lab); free(ids); free(off); free(path);
}

static void write_summary(const km_opts *a, const avm_feats *fe, const km_codebook *cb, int m, const char *ixh) {
    avm_strbuf ix = {0}, js = {0};
    long long tokens = 0;
    for (int i = 0; i < fe->n; i++) {
        sb_printf(&ix, "%s\t%d\t%d\t%d\n", fe->e[i].utt_id, fe->e[i].shard, fe->e[i].row, fe->e[i].a_frames / fe->stack);
        tokens += fe->e[i].a_frames / fe->stack;
    }
    char *fabs = realpath(a->feats, NULL), *cabs = realpath(a->codebook, NULL);
    avm_jw w;
    jw_init(&w, &js);
    jw_obj_begin(&w);
    jw_key(&w, "codebook"); jw_str(&w, cabs ? cabs : a->codebook);
    jw_key(&w, "codebook_hash"); jw_str(&w, cb->hash);
    jw_key(&w, "k"); jw_int(&w, cb->C.k);
    jw_key(&w, "source"); jw_str(&w, km_source_name(cb->kf.src));
    if (cb->kf.src == KM_SRC_LAYER) {
        jw_key(&w, "checkpoint"); jw_str(&w, cb->kf.ckpt);
        jw_key(&w, "layer"); jw_int(&w, cb->kf.layer);
        jw_key(&w, "video"); jw_str(&w, km_video_name(&cb->kf));
    }
    jw_key(&w, "feats"); jw_str(&w, fabs ? fabs : a->feats);
    jw_key(&w, "feats_index_hash"); jw_str(&w, ixh);
    jw_key(&w, "shards"); jw_int(&w, m);
    jw_key(&w, "utterances"); jw_int(&w, fe->n);
    jw_key(&w, "tokens"); jw_int(&w, tokens);
    jw_key(&w, "token_seconds"); jw_num(&w, ali_token_seconds(fe));
    jw_obj_end(&w);
    char *ip = path_join(a->out, "index.tsv"), *jp = path_join(a->out, "labels.json");
    if (write_file_atomic(ip, ix.s ? ix.s : "", ix.len) || write_file_atomic(jp, js.s, js.len))
        avm_die("kmeans: %s", avm_error());
    avm_info("kmeans: %s: labels of %d utterances (%lld tokens) in %d shards, codebook %s", a->out, fe->n, tokens, m,
             cb->hash);
    free(ip); free(jp); free(fabs); free(cabs);
    sb_free(&ix);
    sb_free(&js);
}

/* The codebook must have been fitted on features of the same kind. */
static void check_feats(const km_codebook *cb, const avm_feats *fe) {
    if (fe->n_mels != cb->kf.n_mels)
        avm_die("kmeans: %s: %d mel bins, the codebook was fitted on %d", fe->dir, fe->n_mels, cb->kf.n_mels);
    if (fe->stack != cb->kf.stack)
        avm_die("kmeans: %s: %d audio frames per token, the codebook was fitted on %d", fe->dir, fe->stack, cb->kf.stack);
}

int kmeans_apply(avm_opts *o, km_opts *k) {
    check_opts(o, k);
    const km_opts a = *k;
    km_codebook cb;
    avm_feats fe;
    if (codebook_read(a.codebook, &cb)) avm_die("kmeans: %s", avm_error());
    if (feats_open(&fe, a.feats)) avm_die("kmeans: %s", avm_error());
    check_feats(&cb, &fe);
    km_layer kl = {0};
    const char *ckpt = a.ckpt ? a.ckpt : cb.kf.ckpt;
    if (cb.kf.src == KM_SRC_LAYER && !a.merge &&
        (km_layer_open(&kl, ckpt, cb.kf.layer, cb.kf.no_video, a.feats, a.batch_tokens) || km_layer_feat(&kl, &cb.kf, ckpt)))
        avm_die("kmeans: %s", avm_error());
    if (mkdir_p(a.out)) avm_die("kmeans: %s", avm_error());
    int m;
    shard_run *runs = shard_runs(&fe, &m);
    char *ixh = index_hash(a.feats);
    if (!a.merge) {
        int s0 = (int)((long long)(a.job - 1) * m / a.nj), s1 = (int)((long long)a.job * m / a.nj);
        avm_progress p;
        progress_start(&p, "kmeans apply", s1 - s0);
        for (int s = s0; s < s1; s++) {
            label_shard(&fe, &cb, &runs[s], a.out, a.batch, ixh);
            progress_update(&p, s + 1 - s0, "shard %d", runs[s].shard);
        }
        progress_end(&p, "shards %d..%d of %d", s0, s1 - 1, m);
    }
    if (a.merge || a.nj == 1) {
        avm_labels *L = labels_open(a.out, &fe, cb.hash);
        if (!L) avm_die("kmeans: %s", avm_error());
        write_summary(&a, &fe, &cb, m, ixh);
        char *mp = path_join(a.out, "metrics.json");
        if (a.ali && km_metrics_run(&fe, L, a.ali, mp)) avm_die("kmeans: %s", avm_error());
        free(mp);
        labels_close(L);
    }
    free(ixh);
    free(runs);
    feats_close(&fe);
    codebook_free(&cb);
    km_layer_close(&kl);
    return 0;
}
