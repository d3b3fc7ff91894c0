/* Layer vectors of a checkpoint's model (km_layer.h). */
#include "cluster/km_layer.h"
#include "common/json.h"
#include "common/util.h"
#include "train/checkpoint.h"
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

/* The settings that make two feature dirs the same features (paths, data source and
 * segments may differ between train and dev). */
static int check_config(const char *feats, const char *fc, const char *ckpt, const char *cc, int av) {
    static const char *const keys[] = {"sample_rate", "channels", "fbank", "audio_frames_per_second",
                                       "audio_frames_per_video_frame", "video"};
    json_value *jf = fc ? json_parse(fc) : NULL, *jc = cc ? json_parse(cc) : NULL;
    int rc = 0;
    for (size_t i = 0; i < sizeof keys / sizeof *keys - !av && !rc; i++) {
        char key[160];
        const json_value *a = jf ? json_get(jf, keys[i]) : NULL, *b = jc ? json_get(jc, keys[i]) : NULL;
        if (!json_first_diff(a, b, keys[i], key, sizeof key)) continue;
        char *sa = json_text(json_path(jf, key)), *sb = json_text(json_path(jc, key));
        rc = avm_fail("%s: feature config differs from the training features of %s: %s is %s vs %s", feats, ckpt,
                      key, sa, sb);
        free(sa); free(sb);
    }
    json_free(jf);
    json_free(jc);
    return rc;
}

/* The checkpoint's training features: extraction config and the dir of its cmvn.h5. */
static int ckpt_features(km_layer *k, const char *ckpt, char **cmvn_dir) {
    avm_ckpt_meta meta;
    if (ckpt_read_meta(ckpt, &meta)) return -1;
    json_value *v = json_parse(meta.config_json ? meta.config_json : "");
    const char *cmvn = v ? json_str_or(v, "features.cmvn", NULL) : NULL;
    int rc = cmvn ? 0 : avm_fail("%s: the configuration names no features.cmvn", ckpt);
    if (!rc) {
        char *tmp = xstrdup(cmvn);
        *cmvn_dir = xstrdup(dirname(tmp));
        free(tmp);
        k->extract = json_text(json_path(v, "features.extract"));
    }
    json_free(v);
    ckpt_meta_free(&meta);
    return rc;
}

static int check_lengths(const km_layer *k, const char *feats) {
    for (int i = 0; i < k->L.feats.n; i++)
        if (k->L.ntok[i] > k->m.cfg.max_len)
            return avm_fail("%s: utterance %s has %d tokens, more than the model's max_len %d (layer vectors need "
                            "the whole utterance)", feats, k->L.feats.e[i].utt_id, k->L.ntok[i], k->m.cfg.max_len);
    return 0;
}

int km_layer_open(km_layer *k, const char *ckpt, int layer, int no_video, const char *feats, long batch_tokens) {
    memset(k, 0, sizeof *k);
    if (ckpt_load_model(ckpt, &k->m, NULL)) return -1;
    k->layer = layer;
    k->no_video = no_video;
    k->av = k->m.cfg.modalities == AVM_MOD_AV && !no_video;   /* the video is read and enters */
    k->batch_tokens = batch_tokens;
    snprintf(k->crc, sizeof k->crc, "%08x", ckpt_checksum(&k->m.params, k->m.params.data));
    char *cmvn_dir = NULL;
    int rc = 0, n = avmodel_n_hidden(&k->m);
    if (layer < 0 || layer >= n)
        rc = avm_fail("%s: --layer=%d: the model has layers 0..%d (0 embeddings, 1..%d audio encoder, %d..%d fusion)",
                      ckpt, layer, n - 1, k->m.cfg.layers_audio, k->m.cfg.layers_audio + 1, n - 1);
    if (!rc && no_video && k->m.cfg.modalities != AVM_MOD_AV)
        rc = avm_fail("%s: --video=drop: an audio-only model has no video to drop", ckpt);
    if (!rc) rc = ckpt_features(k, ckpt, &cmvn_dir);
    avm_feats fe;
    if (!rc && !(rc = feats_open(&fe, feats))) {
        if (fe.n_mels * fe.stack != k->m.cfg.audio_in)
            rc = avm_fail("%s: %d mel bins x %d frames per token, the model of %s takes %d inputs", feats, fe.n_mels,
                          fe.stack, ckpt, k->m.cfg.audio_in);
        if (!rc) rc = check_config(feats, fe.config_json, ckpt, k->extract, k->av);
        feats_close(&fe);
    }
    if (!rc) rc = loader_open(&k->L, feats, cmvn_dir, k->av, k->m.cfg.max_len, batch_tokens, 0, 0, 4);
    if (!rc && k->av && k->L.video_dim != k->m.cfg.video_in)
        rc = avm_fail("%s: %d pixels per frame, the model of %s takes %d", feats, k->L.video_dim, ckpt, k->m.cfg.video_in);
    if (!rc) rc = check_lengths(k, feats);
    free(cmvn_dir);
    if (rc) { km_layer_close(k); return -1; }
    k->ord = xmalloc(sizeof(int) * (k->L.feats.n + 1));
    return 0;
}

void km_layer_close(km_layer *k) {
    if (k->L.feats.dir) loader_close(&k->L);
    if (k->m.params.data) avmodel_free(&k->m);
    batch_data_free(&k->bd);
    free(k->extract); free(k->ord); free(k->h);
    memset(k, 0, sizeof *k);
}

/* One batch of utterances ord[0..B): forward, then each one's rows to its place in x. */
static int run_batch(km_layer *k, const int *ord, int B, const int *utt, const int *off, float *x) {
    int d = k->m.cfg.d;
    int *u = xmalloc(sizeof(int) * B);
    for (int j = 0; j < B; j++) u[j] = utt[ord[j]];
    int rc = loader_get_utts(&k->L, u, B, &k->bd);
    free(u);
    if (rc) return -1;
    const avm_batch_data *b = &k->bd;
    k->h = xrealloc(k->h, sizeof(float) * (size_t)b->B * b->T * d);
    if (avmodel_layer_forward(&k->m, b->audio, k->av ? b->video : NULL, b->len, b->B, b->T, k->layer, k->h))
        return -1;
    for (int j = 0; j < B; j++)
        memcpy(x + (size_t)off[ord[j]] * d, k->h + (size_t)j * b->T * d, sizeof(float) * (size_t)b->len[j] * d);
    return 0;
}

/* The end of the batch starting at sorted position s: greedy, count x longest <=
 * batch_tokens, at least one. */
static int batch_end(const km_layer *k, const int *off, int s, int n) {
    int e = s + 1;
    for (; e < n; e++)
        if ((long)(e - s + 1) * (off[k->ord[e] + 1] - off[k->ord[e]]) > k->batch_tokens) break;
    return e;
}

int km_layer_vectors(km_layer *k, const int *utt, const int *off, int n, float *x) {
    for (int j = 0; j < n; j++) k->ord[j] = j;
    for (int j = 1; j < n; j++) {   /* insertion sort by length: few padded tokens per batch */
        int v = k->ord[j], i = j;
        for (; i > 0 && off[k->ord[i - 1] + 1] - off[k->ord[i - 1]] > off[v + 1] - off[v]; i--) k->ord[i] = k->ord[i - 1];
        k->ord[i] = v;
    }
    long most = 0;
    int longest = 0;
    for (int s = 0, e; s < n; s = e) {  /* first the largest batch: the model's arena is sized once */
        e = batch_end(k, off, s, n);
        int t = off[k->ord[e - 1] + 1] - off[k->ord[e - 1]];
        if ((long)(e - s) * t > most) most = (long)(e - s) * t;
        if (t > longest) longest = t;
    }
    if (longest) avmodel_infer_reserve(&k->m, most, longest, 0);
    for (int s = 0, e; s < n; s = e) {
        e = batch_end(k, off, s, n);
        if (run_batch(k, k->ord + s, e - s, utt, off, x)) return -1;
    }
    return 0;
}

int km_layer_feat(km_layer *k, km_feat *kf, const char *ckpt) {
    if (kf->ckpt) {     /* --apply: the codebook's model, unchanged since the fit */
        if (strcmp(kf->crc, k->crc) || kf->layer != k->layer)
            return avm_fail("%s: parameter checksum %s, the codebook was fitted on %s of %s (another or a changed "
                            "checkpoint)", ckpt, k->crc, kf->crc, kf->ckpt);
        if (kf->dim != k->m.cfg.d)
            return avm_fail("%s: d %d, the codebook's vectors have %d dims", ckpt, k->m.cfg.d, kf->dim);
    } else {
        char *abs = realpath(ckpt, NULL);
        kf->ckpt = abs ? abs : xstrdup(ckpt);
        snprintf(kf->crc, sizeof kf->crc, "%s", k->crc);
        kf->layer = k->layer;
        kf->no_video = k->no_video;
        kf->dim = k->m.cfg.d;
    }
    kf->lay = k;
    return 0;
}
