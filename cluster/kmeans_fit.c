/* `avmask kmeans` fitting: pass 0 streams the corpus once to draw the seeding sample
 * (Bernoulli --sample, capped by a reservoir of --max-sample tokens) and, for mfcc, the
 * normalisation statistics; --n-init k-means++ seedings, each refined by Lloyd on the
 * sample, the best kept; then streamed Lloyd passes
 * (assign every token, move each centre to its tokens' mean) until the inertia improves by
 * less than --tol or --iters passes, and one last pass measures the final centres' inertia.
 * Memory: one block of tokens, the sample and k x dim sums per thread, whatever the corpus. */
#include "cluster/codebook.h"
#include "cluster/kmeans_cmd.h"
#include "cluster/km_layer.h"
#include "cluster/km_stream.h"
#include "common/json.h"
#include "common/progress.h"
#include "common/rng.h"
#include "common/util.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *x;              /* raw vectors [cap, dim] */
    int n, cap;
    long long seen;        /* tokens accepted by the Bernoulli draw */
} reservoir;

/* What the fit options mean together (the table checked each). */
static void check_opts(avm_opts *o, km_opts *f) {
    if (km_source_parse(f->source, &f->src)) avm_die("kmeans: %s", avm_error());
    if (!opts_given(o, "layer")) f->layer = -1;
    if ((f->src == KM_SRC_LAYER) != (f->ckpt != NULL) || (f->src == KM_SRC_LAYER) != (f->layer >= 0))
        avm_die("kmeans: --source=layer goes with --checkpoint=FILE and --layer=N (and they only with it)");
    f->no_video = !strcmp(f->video, "drop");
    if (f->no_video && f->src != KM_SRC_LAYER) avm_die("kmeans: --video=drop goes with --source=layer");
    f->threads = opts_threads(o);
}

/* Bernoulli(frac) per token, then reservoir sampling (Vitter's R) of what passed. */
static void sample_block(reservoir *r, const float *x, int n, int dim, double frac, avm_rng *g) {
    for (int t = 0; t < n; t++) {
        if (rng_uniform(g) >= frac) continue;
        long long j = r->seen < r->cap ? r->seen : (long long)(rng_uniform(g) * (double)(r->seen + 1));
        r->seen++;
        if (j < r->cap) memcpy(r->x + (size_t)j * dim, x + (size_t)t * dim, sizeof(float) * dim);
    }
    r->n = r->seen < r->cap ? (int)r->seen : r->cap;
}

/* Pass 0: the sample, the token count and (mfcc) the per-dimension mean and std. */
static long long pass0(const avm_feats *fe, km_feat *kf, const km_opts *f, reservoir *r) {
    km_stream s;
    km_stream_init(&s, fe, kf, 0, fe->n, f->batch, 0);
    double *sum = xcalloc(kf->dim, sizeof(double)), *sq = xcalloc(kf->dim, sizeof(double));
    avm_rng g;
    rng_seed(&g, (uint64_t)f->seed, 0x73616d70);   /* "samp" stream */
    long long N = 0;
    int rc;
    while ((rc = km_stream_next(&s)) > 0) {
        sample_block(r, s.x, s.n, kf->dim, f->sample, &g);
        for (int t = 0; t < s.n; t++)
            for (int d = 0; d < kf->dim; d++) {
                double v = s.x[(size_t)t * kf->dim + d];
                sum[d] += v;
                sq[d] += v * v;
            }
        N += s.n;
    }
    if (rc < 0) avm_die("kmeans: %s", avm_error());
    if (kf->src != KM_SRC_FBANK) {     /* mfcc, layer: standardised with these statistics */
        for (int d = 0; d < kf->dim; d++) {
            sum[d] /= (double)N;
            double var = sq[d] / (double)N - sum[d] * sum[d];
            sq[d] = sqrt(var > 0 ? var : 0);
        }
        km_feat_set_norm(kf, sum, sq);
    }
    free(sum);
    free(sq);
    km_stream_free(&s);
    return N;
}

/* fbank: the training cmvn.h5's mean and std, repeated for the 4 stacked frames. */
static void fbank_norm(km_feat *kf, const char *feats) {
    avm_cmvn c;
    char *p = path_join(feats, "cmvn.h5");
    if (cmvn_read(p, &c)) avm_die("kmeans: %s", avm_error());
    if (c.dim != kf->n_mels) avm_die("kmeans: %s: %d dims, the shards have %d", p, c.dim, kf->n_mels);
    double *m = xmalloc(sizeof(double) * kf->dim), *sd = xmalloc(sizeof(double) * kf->dim);
    for (int d = 0; d < kf->dim; d++) {
        m[d] = c.mean[d % kf->n_mels];
        sd[d] = sqrt(c.var[d % kf->n_mels]);
    }
    km_feat_set_norm(kf, m, sd);
    free(m); free(sd); free(p);
    cmvn_free(&c);
}

/* Lloyd iterations on the in-memory sample (at most 50, same --tol); its final inertia. */
static double sample_lloyd(const float *x, int n, km_centres *C, km_acc *acc, double tol) {
    double prev = INFINITY, in = 0;
    for (int it = 0; it < 50; it++) {
        km_acc_zero(acc);
        in = km_assign(C, x, n, NULL, NULL, acc);
        km_acc_update(acc, C);
        if (isfinite(prev) && prev - in <= tol * prev) break;
        prev = in;
    }
    return km_assign(C, x, n, NULL, NULL, NULL);
}

/* --n-init seedings (k-means++, then Lloyd on the sample); the lowest sample inertia wins,
 * as scikit-learn's n_init does: one k-means++ draw can land in a poor local optimum. */
static void seed_centres(const float *x, int n, const km_opts *f, km_centres *C) {
    km_centres T;
    km_acc acc;
    km_centres_init(&T, C->k, C->dim);
    km_acc_init(&acc, C->k, C->dim);
    double best = INFINITY;
    for (int i = 0; i < f->n_init; i++) {
        km_plusplus(x, n, C->dim, &T, (uint64_t)f->seed * 1000003u + (uint64_t)i);
        double in = sample_lloyd(x, n, &T, &acc, f->tol);
        avm_info("kmeans: init %d/%d: sample inertia %.6g (%.6g per token)", i + 1, f->n_init, in, in / n);
        if (in < best) {
            best = in;
            memcpy(C->c, T.c, sizeof(float) * C->k * C->dim);
        }
    }
    km_centres_update_norms(C);
    km_acc_free(&acc);
    km_centres_free(&T);
}

/* One streamed pass: inertia of C over the corpus; with acc, the Lloyd sums too. */
static double pass(const avm_feats *fe, const km_feat *kf, const km_centres *C, km_acc *acc, int batch,
                   long long N, const char *what) {
    km_stream s;
    km_stream_init(&s, fe, kf, 0, fe->n, batch, 1);
    avm_progress p;
    progress_start(&p, what, (double)N);
    double inertia = 0;
    long long done = 0;
    int rc;
    while ((rc = km_stream_next(&s)) > 0) {
        inertia += km_assign(C, s.x, s.n, NULL, NULL, acc);
        done += s.n;
        progress_update(&p, (double)done, "inertia/token %.4f", inertia / (double)done);
    }
    if (rc < 0) avm_die("kmeans: %s", avm_error());
    progress_end(&p, "inertia %.6g (%.6g per token)", inertia, inertia / (double)N);
    km_stream_free(&s);
    return inertia;
}

static void jsonl(FILE *f, const char *pass, int n, double inertia, long long N, int empty, double sec) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "pass");
    if (pass) jw_str(&w, pass); else jw_int(&w, n);
    jw_key(&w, "inertia"); jw_num(&w, inertia);
    jw_key(&w, "inertia_per_token"); jw_num(&w, inertia / (double)N);
    if (empty >= 0) { jw_key(&w, "empty_clusters"); jw_int(&w, empty); }
    jw_key(&w, "seconds"); jw_num(&w, sec);
    jw_obj_end(&w);
    fprintf(f, "%s\n", b.s);
    fflush(f);
    sb_free(&b);
}

/* The fit JSON (codebook attribute) and kmeans.json: options and summary. */
static char *summary(const km_opts *f, const avm_feats *fe, long long N, int nsample, int passes, double inertia,
                     int empty, const char *hash, double sec) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "feats"); jw_str(&w, f->feats);
    jw_key(&w, "source"); jw_str(&w, km_source_name(f->src));
    if (f->ckpt) {
        jw_key(&w, "checkpoint"); jw_str(&w, f->ckpt);
        jw_key(&w, "layer"); jw_int(&w, f->layer);
        jw_key(&w, "video"); jw_str(&w, f->video);
        jw_key(&w, "batch_tokens"); jw_int(&w, f->batch_tokens);
    }
    jw_key(&w, "k"); jw_int(&w, f->k);
    jw_key(&w, "algorithm"); jw_str(&w, "best of n_init k-means++ + Lloyd on a sample, then streamed Lloyd passes");
    jw_key(&w, "n_init"); jw_int(&w, f->n_init);
    jw_key(&w, "sample"); jw_num(&w, f->sample);
    jw_key(&w, "max_sample"); jw_int(&w, f->max_sample);
    jw_key(&w, "sample_tokens"); jw_int(&w, nsample);
    jw_key(&w, "iters"); jw_int(&w, f->iters);
    jw_key(&w, "tol"); jw_num(&w, f->tol);
    jw_key(&w, "batch"); jw_int(&w, f->batch);
    jw_key(&w, "seed"); jw_int(&w, f->seed);
    jw_key(&w, "threads"); jw_int(&w, f->threads);
    jw_key(&w, "utterances"); jw_int(&w, fe->n);
    jw_key(&w, "tokens"); jw_int(&w, N);
    jw_key(&w, "lloyd_passes"); jw_int(&w, passes);
    jw_key(&w, "inertia"); jw_num(&w, inertia);
    jw_key(&w, "inertia_per_token"); jw_num(&w, inertia / (double)N);
    jw_key(&w, "empty_clusters"); jw_int(&w, empty);
    jw_key(&w, "hash"); jw_str(&w, hash);
    jw_key(&w, "seconds"); jw_num(&w, sec);
    jw_key(&w, "peak_rss_kb"); jw_int(&w, peak_rss_kb());
    jw_obj_end(&w);
    return b.s;
}

void km_dump_feats(const char *path, const avm_feats *fe, const km_feat *kf, long long N, int batch,
                   const km_centres *init);   /* km_dump.c */

int kmeans_fit(avm_opts *o, km_opts *k) {
    check_opts(o, k);
    const km_opts f = *k;
    avm_feats fe;
    if (feats_open(&fe, f.feats)) avm_die("kmeans: %s", avm_error());
    if (mkdir_p(f.out)) avm_die("kmeans: %s", avm_error());
    char *logp = path_join(f.out, "kmeans.log"), *jp = path_join(f.out, "kmeans.jsonl");
    if (avm_log_open(logp)) avm_die("kmeans: %s", avm_error());
    FILE *jf = fopen(jp, "w");
    if (!jf) avm_die("kmeans: %s: cannot write: %s", jp, strerror(errno));
    double t0 = now_sec();
    km_codebook cb = {0};
    km_feat_init(&cb.kf, f.src, fe.n_mels, fe.stack);
    if (f.src == KM_SRC_FBANK) fbank_norm(&cb.kf, f.feats);
    km_layer kl = {0};
    if (f.ckpt && (km_layer_open(&kl, f.ckpt, f.layer, f.no_video, f.feats, f.batch_tokens) || km_layer_feat(&kl, &cb.kf, f.ckpt)))
        avm_die("kmeans: %s", avm_error());
    int dim = cb.kf.dim;
    reservoir r = {xmalloc(sizeof(float) * (size_t)f.max_sample * dim), 0, f.max_sample, 0};
    long long N = pass0(&fe, &cb.kf, &f, &r);
    if (r.n < f.k)
        avm_die("kmeans: %s: the sample holds %d tokens (of %lld), fewer than --k=%d: raise --sample", f.feats, r.n, N, f.k);
    km_feat_norm(&cb.kf, r.x, r.n);
    avm_info("kmeans: %s: %d utterances, %lld tokens, %s (%d dims), k-means++ on %d sampled tokens", f.feats, fe.n, N,
             km_source_name(f.src), dim, r.n);
    km_centres_init(&cb.C, f.k, dim);
    seed_centres(r.x, r.n, &f, &cb.C);
    free(r.x);
    if (f.dump) km_dump_feats(f.dump, &fe, &cb.kf, N, f.batch, &cb.C);
    km_acc acc;
    km_acc_init(&acc, f.k, dim);
    double prev = INFINITY, inertia = 0;
    int p, empty = 0;
    for (p = 1; p <= f.iters; p++) {
        char what[64];
        snprintf(what, sizeof what, "kmeans pass %d/%d", p, f.iters);
        km_acc_zero(&acc);
        inertia = pass(&fe, &cb.kf, &cb.C, &acc, f.batch, N, what);
        empty = km_acc_update(&acc, &cb.C);
        jsonl(jf, NULL, p, inertia, N, empty, now_sec() - t0);
        if (isfinite(prev) && prev - inertia <= f.tol * prev) { p++; break; }   /* the inertia of the centres entering pass p */
        prev = inertia;
    }
    inertia = pass(&fe, &cb.kf, &cb.C, NULL, f.batch, N, "kmeans final");
    jsonl(jf, "final", 0, inertia, N, -1, now_sec() - t0);
    fclose(jf);
    char hname[64];
    km_feat_hash_name(&cb.kf, hname, sizeof hname);
    km_hash(hname, &cb.C, cb.kf.mean, cb.kf.std, cb.hash);
    cb.feature_config = codebook_feature_config(&cb.kf, fe.config_json);
    char *sum = summary(&f, &fe, N, r.n, p - 1, inertia, empty, cb.hash, now_sec() - t0);
    char *cbp = path_join(f.out, "codebook.h5"), *sp = path_join(f.out, "kmeans.json");
    if (codebook_write(cbp, &cb, sum) || write_file_atomic(sp, sum, strlen(sum)))
        avm_die("kmeans: %s", avm_error());
    avm_info("kmeans: codebook %s (hash %s): k %d, inertia %.6g (%.6g per token), %d empty, peak RSS %ld MB", cbp,
             cb.hash, f.k, inertia, inertia / (double)N, empty, peak_rss_kb() / 1024);
    free(sum); free(cbp); free(sp); free(logp); free(jp);
    km_acc_free(&acc);
    codebook_free(&cb);
    km_layer_close(&kl);
    feats_close(&fe);
    avm_log_close();
    return 0;
}
