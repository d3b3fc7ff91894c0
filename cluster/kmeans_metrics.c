/* Label quality against phone alignments (HuBERT, Hsu et al. 2021, section IV-G): over all
 * tokens, with y the phone and z the cluster of a token and p their joint frequency,
 *   phone purity   = sum_z p(z) max_y p(y|z)    (how phonetic a cluster is)
 *   cluster purity = sum_y p(y) max_z p(z|y)    (how consistently a phone gets one cluster)
 *   PNMI           = I(y; z) / H(y)             (phone information the labels keep)
 * A token's phone is data/ali.h's: the CTM phone that holds the token's centre, "<sil>"
 * outside every phone. */
#include "cluster/kmeans_cmd.h"
#include "common/json.h"
#include "common/util.h"
#include "data/ali.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { double phone_purity, cluster_purity, pnmi, hy; } km_scores;

static km_scores scores(const double *n, int P, int K, double N) {
    km_scores s = {0, 0, 0, 0};
    double *py = xcalloc(P, sizeof(double)), *pz = xcalloc(K, sizeof(double)), mi = 0;
    for (int y = 0; y < P; y++)
        for (int z = 0; z < K; z++) { py[y] += n[y * K + z] / N; pz[z] += n[y * K + z] / N; }
    for (int z = 0; z < K; z++) {
        double m = 0;
        for (int y = 0; y < P; y++) m = fmax(m, n[y * K + z] / N);
        s.phone_purity += m;          /* p(z) max_y p(y|z) = max_y p(y, z) */
    }
    for (int y = 0; y < P; y++) {
        double m = 0;
        for (int z = 0; z < K; z++) {
            double p = n[y * K + z] / N;
            m = fmax(m, p);
            if (p > 0) mi += p * log(p / (py[y] * pz[z]));
        }
        s.cluster_purity += m;
        if (py[y] > 0) s.hy -= py[y] * log(py[y]);
    }
    s.pnmi = s.hy > 0 ? mi / s.hy : 0;
    free(py);
    free(pz);
    return s;
}

static int write_json(const char *path, const char *ali, const km_scores *s, double N, int used, int skipped, int P, int K) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "ali"); jw_str(&w, ali);
    jw_key(&w, "tokens"); jw_int(&w, (long long)N);
    jw_key(&w, "utterances"); jw_int(&w, used);
    jw_key(&w, "utterances_without_alignment"); jw_int(&w, skipped);
    jw_key(&w, "phones"); jw_int(&w, P);
    jw_key(&w, "k"); jw_int(&w, K);
    jw_key(&w, "phone_purity"); jw_num(&w, s->phone_purity);
    jw_key(&w, "cluster_purity"); jw_num(&w, s->cluster_purity);
    jw_key(&w, "pnmi"); jw_num(&w, s->pnmi);
    jw_key(&w, "phone_entropy_nats"); jw_num(&w, s->hy);
    jw_obj_end(&w);
    int rc = write_file_atomic(path, b.s, b.len);
    sb_free(&b);
    return rc;
}

int km_metrics_run(const avm_feats *fe, avm_labels *L, const char *ali, const char *json_path) {
    avm_ali c;
    if (ali_read(&c, ali)) { ali_free(&c); return -1; }
    int K = labels_k(L), P = c.nph, used = 0, skipped = 0, rc = 0, maxT = 1;
    for (int i = 0; i < fe->n; i++) if (fe->e[i].a_frames / fe->stack > maxT) maxT = fe->e[i].a_frames / fe->stack;
    double *n = xcalloc((size_t)P * K, sizeof(double)), ts = ali_token_seconds(fe), N = 0;
    int32_t *lab = xmalloc(sizeof(int32_t) * maxT), *ph = xmalloc(sizeof(int32_t) * maxT);
    for (int i = 0; !rc && i < fe->n; i++) {
        int T = fe->e[i].a_frames / fe->stack;
        if (ali_tokens(&c, fe->e[i].utt_id, T, ts, ph)) { skipped++; continue; }
        if ((rc = labels_get(L, i, lab))) break;
        used++;
        for (int t = 0; t < T; t++) n[(size_t)ph[t] * K + lab[t]] += 1;
        N += T;
    }
    if (!rc && !used) rc = avm_fail("%s: no utterance of %s has an alignment", ali, fe->dir);
    if (!rc) {
        km_scores s = scores(n, P, K, N);
        avm_info("kmeans: metrics on %.0f tokens of %d utterances (%d without alignment), %d phones (with <sil>), k %d: "
                 "phone purity %.4f, cluster purity %.4f, PNMI %.4f", N, used, skipped, P, K, s.phone_purity,
                 s.cluster_purity, s.pnmi);
        if (json_path) rc = write_json(json_path, ali, &s, N, used, skipped, P, K);
    }
    free(n);
    free(lab);
    free(ph);
    ali_free(&c);
    return rc;
}

int kmeans_metrics(avm_opts *o, km_opts *k) {
    const char *labels = k->labels, *feats = k->feats, *ali = k->ali, *json = k->json;
    if (!ali || !ali[0]) avm_die("kmeans: --ali is required with --metrics (see --help)");
    opts_threads(o);
    avm_feats fe;
    if (feats_open(&fe, feats)) avm_die("kmeans: %s", avm_error());
    avm_labels *L = labels_open(labels, &fe, NULL);
    if (!L) avm_die("kmeans: %s", avm_error());
    char *jp = json ? xstrdup(json) : path_join(labels, "metrics.json");
    if (km_metrics_run(&fe, L, ali, jp)) avm_die("kmeans: %s", avm_error());
    free(jp);
    labels_close(L);
    feats_close(&fe);
    return 0;
}
