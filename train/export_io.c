/* Writing and reading the exported audio branch (see export.h). */
#include "train/export.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "common/version.h"
#include "data/params_h5.h"
#include "train/safetensors.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int export_is_branch(const char *name) { return avmodel_is_branch_param(name); }

/* safetensors: u64 LE header length, JSON header (padded with spaces to 8 bytes), data. */
static int write_safetensors(const char *path, const avm_tensor *t, int n) {
    avm_strbuf h = {0};
    avm_jw w;
    jw_init(&w, &h);
    jw_obj_begin(&w);
    jw_key(&w, "__metadata__"); jw_obj_begin(&w);
    jw_key(&w, "format"); jw_str(&w, "pt");
    jw_key(&w, "avmask_format"); jw_str(&w, EXPORT_FORMAT);
    char crc[9];
    snprintf(crc, sizeof crc, "%08x", params_h5_crc_by_name(t, n));
    jw_key(&w, PARAMS_CRC_KEY); jw_str(&w, crc);
    jw_obj_end(&w);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        jw_key(&w, t[i].name); jw_obj_begin(&w);
        jw_key(&w, "dtype"); jw_str(&w, "F32");
        jw_key(&w, "shape"); jw_arr_begin(&w);
        for (int k = 0; k < t[i].ndim; k++) jw_int(&w, t[i].shape[k]);
        jw_arr_end(&w);
        jw_key(&w, "data_offsets"); jw_arr_begin(&w);
        jw_int(&w, (long long)off); jw_int(&w, (long long)(off + t[i].numel * 4)); jw_arr_end(&w);
        jw_obj_end(&w);
        off += t[i].numel * 4;
    }
    jw_obj_end(&w);
    while (h.len % 8) sb_add(&h, " ");
    size_t total = 8 + h.len + off;
    unsigned char *buf = xmalloc(total);
    uint64_t hl = h.len;
    for (int k = 0; k < 8; k++) buf[k] = (unsigned char)(hl >> (8 * k));
    memcpy(buf + 8, h.s, h.len);
    unsigned char *d = buf + 8 + h.len;
    for (int i = 0; i < n; i++) {
        memcpy(d, t[i].data, t[i].numel * 4);   /* x86-64: already little-endian */
        d += t[i].numel * 4;
    }
    int rc = write_file_atomic(path, buf, total);
    free(buf);
    sb_free(&h);
    return rc;
}

char *export_config_json(const avm_config *cfg, const json_value *features, const double *mean,
                         const double *var, int n_mels, const char *src_key, const char *src_val,
                         long step) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    avm_config c = *cfg;
    c.modalities = AVM_MOD_AUDIO;
    c.target = AVM_TARGET_FEATURES;     /* the exported branch has no pretraining head */
    jw_obj_begin(&w);
    jw_key(&w, "format"); jw_str(&w, EXPORT_FORMAT);
    jw_key(&w, "avmask_version"); jw_str(&w, AVMASK_VERSION);
    jw_key(&w, "model"); avmodel_config_json(&c, &w);
    jw_key(&w, "layer"); jw_obj_begin(&w);
    jw_key(&w, "norm_first"); jw_bool(&w, 1);
    jw_key(&w, "activation"); jw_str(&w, "gelu");
    jw_key(&w, "layer_norm_eps"); jw_num(&w, 1e-5);
    jw_obj_end(&w);
    jw_key(&w, "features"); if (features) jw_value(&w, features); else jw_null(&w);
    jw_key(&w, "cmvn"); jw_obj_begin(&w);
    jw_key(&w, "mean"); jw_arr_begin(&w);
    for (int i = 0; i < n_mels; i++) jw_num(&w, mean[i]);
    jw_arr_end(&w);
    jw_key(&w, "var"); jw_arr_begin(&w);
    for (int i = 0; i < n_mels; i++) jw_num(&w, var[i]);
    jw_arr_end(&w);
    jw_key(&w, "var_floor"); jw_num(&w, 1e-10);
    jw_obj_end(&w);
    jw_key(&w, "source"); jw_obj_begin(&w);
    jw_key(&w, src_key); jw_str(&w, src_val);
    jw_key(&w, "step"); jw_int(&w, step);
    jw_obj_end(&w);
    jw_obj_end(&w);
    sb_add(&b, "\n");
    return b.s;
}

int export_cmvn(const json_value *config, float *mean, float *istd, int n_mels) {
    const json_value *m = json_path(config, "cmvn.mean"), *v = json_path(config, "cmvn.var");
    if (!m || !v || m->type != JSON_ARR || v->type != JSON_ARR || m->n != n_mels || v->n != n_mels)
        return avm_fail("config.json: cmvn.mean/var must hold %d values", n_mels);
    for (int i = 0; i < n_mels; i++) {
        const json_value *a = m->items[i], *b = v->items[i];
        if (a->type != JSON_NUM || b->type != JSON_NUM || !(fabs(a->num) < 1e30) || !(b->num >= 0 && b->num < 1e30))
            return avm_fail("config.json: cmvn.mean/var [%d] is not a number (mean) or >= 0 (var) below 1e30", i);
        mean[i] = (float)a->num;
        istd[i] = (float)(1.0 / sqrt(fmax(v->items[i]->num, 1e-10)));
    }
    return 0;
}

int export_write(const char *dir, const avm_model *m, const char *config_json) {
    if (!m->cfg.encoder_only) return avm_fail("%s: an export holds an encoder-only model (avmodel_audio_branch)", dir);
    if (mkdir_p(dir)) return -1;
    char *h5 = path_join(dir, "audio_encoder.h5"), *st = path_join(dir, "model.safetensors");
    char *cj = path_join(dir, "config.json");
    avm_tensor *t;
    int n = params_tensors(&m->params, m->params.data, NULL, &t);
    int rc = params_h5_write(h5, t, n, EXPORT_FORMAT, config_json);
    if (!rc) rc = write_safetensors(st, t, n);
    if (!rc) rc = write_file_atomic(cj, config_json, strlen(config_json));
    free(t); free(h5); free(st); free(cj);
    return rc;
}

/* The branch from audio_encoder.h5, then model.safetensors: intact (its own checksum) and
 * holding what audio_encoder.h5 holds (a PyTorch user loads that file, and must get the
 * weights avmask uses). */
static int load_branch(const char *h5, const char *st, avm_model *m) {
    avm_tensor *t;
    int n = params_tensors(&m->params, m->params.data, NULL, &t);
    int rc = params_h5_read(h5, t, n, EXPORT_FORMAT);
    st_file f;
    if (!rc) rc = st_read(st, &f);
    if (!rc) {
        rc = st_check_params(st, &f, t, n);
        st_free(&f);
    }
    free(t);
    return rc;
}

int export_load(const char *dir, avm_model *m, json_value **config) {
    char *cj = path_join(dir, "config.json"), *h5 = path_join(dir, "audio_encoder.h5");
    char *st = path_join(dir, "model.safetensors");
    char *text = read_file(cj, NULL);
    json_value *v = text ? json_parse(text) : NULL;
    int rc = 0;
    avm_config c;
    avmodel_config_named(&c, "tiny");
    if (!text) rc = -1;
    else if (!v) rc = avm_fail("%s: not JSON: %s", cj, avm_error());
    else if (strcmp(json_str_or(v, "format", ""), EXPORT_FORMAT))
        rc = avm_fail("%s: format is not %s", cj, EXPORT_FORMAT);
    else if (avmodel_config_from_json(&c, json_get(v, "model")))
        rc = avm_fail("%s: model: %s", cj, avm_error());
    /* what the files hold (the branch has no pretraining objective), nothing that would
     * train without a gradient */
    c.modalities = AVM_MOD_AUDIO;
    c.target = AVM_TARGET_FEATURES;
    c.encoder_only = 1;
    memset(m, 0, sizeof *m);
    if (!rc && avmodel_init(m, &c, 0)) rc = avm_fail("%s: model: %s", cj, avm_error());   /* values: read below */
    else if (!rc && load_branch(h5, st, m)) { avmodel_free(m); rc = -1; }
    free(text); free(cj); free(h5); free(st);
    if (!rc && config) *config = v;
    else json_free(v);
    return rc;
}

int export_head_io(const avm_params *ps, const char *path, const char *format, int write) {
    avm_tensor *t;
    int n = params_tensors(ps, ps->data, NULL, &t);
    int rc = write ? params_h5_write(path, t, n, format, "{}") : params_h5_read(path, t, n, format);
    free(t);
    return rc;
}
