/* codebook.h5 reading and writing (codebook.h). */
#include "cluster/codebook.h"
#include "common/json.h"
#include "common/util.h"
#include "common/version.h"
#include "data/h5util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

char *codebook_feature_config(const km_feat *kf, const char *feats_config) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "source"); jw_str(&w, km_source_name(kf->src));
    jw_key(&w, "n_mels"); jw_int(&w, kf->n_mels);
    jw_key(&w, "stack"); jw_int(&w, kf->stack);
    jw_key(&w, "dim"); jw_int(&w, kf->dim);
    if (kf->src == KM_SRC_MFCC) {
        jw_key(&w, "n_ceps"); jw_int(&w, KM_NCEPS);
        jw_key(&w, "dct"); jw_str(&w, "orthonormal DCT-II of log-mel");
        jw_key(&w, "cepstral_lifter"); jw_num(&w, KM_LIFTER);
        jw_key(&w, "deltas"); jw_str(&w, "delta + delta-delta, window 5, edges replicated");
        char *t = xasprintf("mean of the %d frames' 39-d vectors", kf->stack);
        jw_key(&w, "token"); jw_str(&w, t);
        free(t);
        jw_key(&w, "norm"); jw_str(&w, "per-dimension mean/std of the fitting corpus");
    } else if (kf->src == KM_SRC_LAYER) {
        jw_key(&w, "checkpoint"); jw_str(&w, kf->ckpt);
        jw_key(&w, "checkpoint_crc32"); jw_str(&w, kf->crc);
        jw_key(&w, "layer"); jw_int(&w, kf->layer);
        jw_key(&w, "video"); jw_str(&w, km_video_name(kf));
        jw_key(&w, "token"); jw_str(&w, kf->no_video ? "hidden state of the layer (0 embeddings, 1..La audio encoder, "
                                                       "La+1.. fusion), no masking, no dropout, the video dropped"
                                                     : "hidden state of the layer (0 embeddings, 1..La audio encoder, "
                                                       "La+1.. fusion), no masking, no dropout, video present for an AV model");
        jw_key(&w, "norm"); jw_str(&w, "per-dimension mean/std of the fitting corpus");
    } else {
        char *t = xasprintf("%d stacked log-mel frames", kf->stack);
        jw_key(&w, "token"); jw_str(&w, t);
        free(t);
        jw_key(&w, "norm"); jw_str(&w, "cmvn.h5 of the fitting corpus");
    }
    json_value *fc = feats_config ? json_parse(feats_config) : NULL;
    jw_key(&w, "extract");
    if (fc) jw_value(&w, fc); else jw_null(&w);
    json_free(fc);
    jw_obj_end(&w);
    return b.s;
}

static int write_body(hid_t f, const char *path, const km_codebook *cb, const char *fit) {
    const km_centres *C = &cb->C;
    hid_t g = H5Gcreate2(f, "/norm", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || H5Gclose(g) < 0) return avm_fail("%s: cannot create /norm", path);
    if (h5_write_f32_2d(f, "/centres", C->c, C->k, C->dim, path) ||
        h5_write_f64(f, "/norm/mean", cb->kf.mean, C->dim, path) ||
        h5_write_f64(f, "/norm/std", cb->kf.std, C->dim, path) ||
        h5_write_str_attr(f, "source", km_source_name(cb->kf.src), path) || h5_write_i64_attr(f, "k", C->k, path) ||
        h5_write_i64_attr(f, "dim", C->dim, path) || h5_write_i64_attr(f, "n_mels", cb->kf.n_mels, path) ||
        h5_write_str_attr(f, "hash", cb->hash, path) ||
        h5_write_str_attr(f, "feature_config", cb->feature_config, path) ||
        h5_write_str_attr(f, "fit", fit ? fit : "{}", path) ||
        h5_write_str_attr(f, "avmask_version", AVMASK_VERSION, path))
        return -1;
    if (cb->kf.src == KM_SRC_LAYER &&
        (h5_write_str_attr(f, "checkpoint", cb->kf.ckpt, path) || h5_write_str_attr(f, "checkpoint_crc32", cb->kf.crc, path) ||
         h5_write_i64_attr(f, "layer", cb->kf.layer, path) ||
         h5_write_str_attr(f, "video", km_video_name(&cb->kf), path)))
        return -1;
    return 0;
}

int codebook_write(const char *path, const km_codebook *cb, const char *fit_json) {
    hid_t f = h5_begin_sealed(path);
    return h5_commit_sealed(f, path, f < 0 ? -1 : write_body(f, path, cb, fit_json));
}

static int check_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return -1;
    return 0;
}

/* source=layer: which checkpoint and layer, whether the video was dropped (no video
 * attribute: written before it existed, the video used); dim is the model's (1..65536). */
static int read_layer(hid_t f, const char *path, km_feat *kf, int64_t dim) {
    int64_t layer = -1;
    char *crc = NULL, *video = NULL;
    if (dim < 1 || dim > 65536) return avm_fail("%s: bad dim %lld", path, (long long)dim);
    kf->dim = (int)dim;
    if (!(kf->ckpt = h5_read_str_attr(f, "checkpoint", path)) || !(crc = h5_read_str_attr(f, "checkpoint_crc32", path)) ||
        h5_read_i64_attr(f, "layer", &layer, path)) {
        free(crc);
        return -1;
    }
    int rc = strlen(crc) == 8 && layer >= 0 && layer < 4096 ? 0 : avm_fail("%s: bad checkpoint_crc32 or layer", path);
    int has = rc ? 0 : h5_attr_exists(f, "video", path);
    if (has < 0) rc = -1;
    if (has > 0 && !(video = h5_read_str_attr(f, "video", path))) rc = -1;
    if (video && strcmp(video, "used") && strcmp(video, "dropped"))
        rc = avm_fail("%s: video attribute '%s': expected used or dropped", path, video);
    snprintf(kf->crc, sizeof kf->crc, "%s", crc);
    kf->layer = (int)layer;
    kf->no_video = video && !strcmp(video, "dropped");
    free(crc);
    free(video);
    return rc;
}

/* Fbank frames per token of the codebook's vectors: "stack" of feature_config (absent:
 * written before the key existed, when every token was 4 frames). */
static int read_stack(const char *path, const char *feature_config, int *stack) {
    json_value *v = json_parse(feature_config);
    long long s = 4;
    int rc = v ? json_int_range(v, "stack", 1, 1000, 4, &s) : avm_fail("feature_config is not JSON");
    json_free(v);
    *stack = (int)s;
    return rc ? avm_fail("%s: %s", path, avm_error()) : 0;
}

static int read_body(hid_t f, const char *path, km_codebook *cb) {
    char *src = h5_read_str_attr(f, "source", path), *hash = NULL;
    int64_t k = 0, dim = 0, nm = 0, rows, cols;
    float *c = NULL;
    km_source s = KM_SRC_MFCC;
    int rc = src ? 0 : -1, stack = 0;
    if (!rc && km_source_parse(src, &s)) rc = avm_fail("%s: unknown source '%s'", path, src);
    if (!rc && !(cb->feature_config = h5_read_str_attr(f, "feature_config", path))) rc = -1;
    if (!rc) rc = read_stack(path, cb->feature_config, &stack);
    if (!rc) rc = h5_read_i64_attr(f, "k", &k, path) || h5_read_i64_attr(f, "dim", &dim, path) ||
                  h5_read_i64_attr(f, "n_mels", &nm, path) ? -1 : 0;
    if (!rc && (nm < 1 || nm > 4096)) rc = avm_fail("%s: bad n_mels %lld", path, (long long)nm);
    if (!rc) km_feat_init(&cb->kf, s, (int)nm, stack);
    if (!rc && s == KM_SRC_LAYER) rc = read_layer(f, path, &cb->kf, dim);
    if (!rc && dim != cb->kf.dim) rc = avm_fail("%s: dim %lld does not fit source %s with %lld mels", path, (long long)dim, src, (long long)nm);
    if (!rc) rc = h5_read_f32_2d(f, "/centres", &c, &rows, &cols, path);
    if (!rc && (rows != k || cols != dim)) rc = avm_fail("%s: /centres is [%lld, %lld], attributes say [%lld, %lld]", path, (long long)rows, (long long)cols, (long long)k, (long long)dim);
    if (!rc && check_finite(c, (size_t)k * dim)) rc = avm_fail("%s: /centres holds a NaN or infinity", path);
    double *mean = xcalloc(dim + 1, sizeof(double)), *std = xcalloc(dim + 1, sizeof(double));
    if (!rc) rc = h5_read_f64(f, "/norm/mean", mean, dim, path) || h5_read_f64(f, "/norm/std", std, dim, path) ? -1 : 0;
    if (!rc) {
        km_feat_set_norm(&cb->kf, mean, std);
        km_centres_init(&cb->C, (int)k, (int)dim);
        memcpy(cb->C.c, c, sizeof(float) * k * dim);
        km_centres_update_norms(&cb->C);
        char name[64];
        km_feat_hash_name(&cb->kf, name, sizeof name);
        km_hash(name, &cb->C, cb->kf.mean, cb->kf.std, cb->hash);
    }
    if (!rc && !(hash = h5_read_str_attr(f, "hash", path))) rc = -1;
    if (!rc && strcmp(hash, cb->hash)) rc = avm_fail("%s: stored hash %s, contents hash to %s (corrupt or edited)", path, hash, cb->hash);
    free(src); free(hash); free(c); free(mean); free(std);
    return rc;
}

int codebook_read(const char *path, km_codebook *cb) {
    memset(cb, 0, sizeof *cb);
    char *p = dir_exists(path) ? path_join(path, "codebook.h5") : xstrdup(path);
    hid_t f = h5_open_ro(p);
    int rc = f < 0 ? -1 : read_body(f, p, cb);
    if (f >= 0) H5Fclose(f);
    free(p);
    if (rc) codebook_free(cb);
    return rc;
}

void codebook_free(km_codebook *cb) {
    km_centres_free(&cb->C);
    km_feat_free(&cb->kf);
    free(cb->feature_config);
    memset(cb, 0, sizeof *cb);
}
