/* Fine-tuning's encoder and the configurations it writes (see finetune.h). */
#include "train/finetune.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/shard.h"
#include "models/ops.h"
#include "train/export.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The "features" section of a fresh encoder's config.json (as pretraining records it):
 * mel bins, frames per token, the CMVN file and the extraction configuration. */
static json_value *features_json(const avm_feats *fe, const char *cmvn) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "n_mels"); jw_int(&w, fe->n_mels);
    jw_key(&w, "stack"); jw_int(&w, fe->stack);
    char *real = realpath(cmvn, NULL);
    jw_key(&w, "cmvn"); jw_str(&w, real ? real : cmvn);
    free(real);
    json_value *x = json_parse(fe->config_json);
    jw_key(&w, "extract");
    if (x) jw_value(&w, x); else jw_null(&w);
    json_free(x);
    jw_obj_end(&w);
    json_value *v = json_parse(b.s);
    sb_free(&b);
    return v;
}

char *ft_build_encoder(avm_model *enc, json_value **config, const ft_opts *f, const avm_config *cfg) {
    if (strcmp(f->init, "none")) {
        if (export_load(f->init, enc, config)) avm_die("%s: %s", f->cmd, avm_error());
        return xstrdup(f->init);
    }
    char *cp = path_join(f->feats, "cmvn.h5");
    avm_cmvn cm;
    avm_feats fe;
    if (cmvn_read(cp, &cm) || feats_open(&fe, f->feats)) avm_die("%s: %s", f->cmd, avm_error());
    avm_config c = *cfg;
    c.audio_in = fe.stack * cm.dim;   /* stacked fbank frames per token */
    if (avmodel_init(enc, &c, f->seed)) avm_die("%s: %s", f->cmd, avm_error());
    json_value *feat = features_json(&fe, cp);
    char *text = export_config_json(&c, feat, cm.mean, cm.var, cm.dim, "init", "none", 0);
    *config = json_parse(text);
    free(text); free(cp);
    json_free(feat);
    feats_close(&fe);
    cmvn_free(&cm);
    return xstrdup("none");
}

char *ft_model_config(const avm_model *enc, const json_value *config, const char *init, long steps) {
    const json_value *mean = json_path(config, "cmvn.mean"), *var = json_path(config, "cmvn.var");
    int nm = mean && var && mean->n == var->n ? mean->n : 0;
    double *mv = xmalloc(sizeof(double) * (2 * nm + 1));
    for (int i = 0; i < nm; i++) { mv[i] = mean->items[i]->num; mv[nm + i] = var->items[i]->num; }
    char *text = export_config_json(&enc->cfg, json_get(config, "features"), mv, mv + nm, nm, "init", init, steps);
    free(mv);
    return text;
}

static void str_or_null(avm_jw *w, const char *key, const char *v) {
    jw_key(w, key);
    if (v) jw_str(w, v); else jw_null(w);
}

void ft_json_inputs(avm_jw *w, const ft_opts *f, const char *init) {
    jw_key(w, "init"); jw_str(w, init);
    jw_key(w, "feats"); jw_str(w, f->feats);
    jw_key(w, "data"); jw_str(w, f->data);
    str_or_null(w, "valid", f->vfeats);
    str_or_null(w, "valid_data", f->vdata);
}

void ft_json_train(avm_jw *w, const ft_opts *f) {
    static const char *sk[] = {"cosine", "linear", "constant"};
    jw_key(w, "max_steps"); jw_int(w, f->max_steps);
    jw_key(w, "seed"); jw_int(w, (long long)f->seed);
    jw_key(w, "batch_tokens"); jw_int(w, f->batch_tokens);
    jw_key(w, "lr"); jw_num(w, f->sched.peak);
    jw_key(w, "warmup"); jw_int(w, f->sched.warmup);
    jw_key(w, "schedule"); jw_str(w, sk[f->sched.kind]);
    jw_key(w, "final_lr_ratio"); jw_num(w, f->sched.final_ratio);
    jw_key(w, "weight_decay"); jw_num(w, f->weight_decay);
    jw_key(w, "clip"); jw_num(w, f->clip);
    jw_key(w, "freeze_steps");
    if (f->freeze_steps == LONG_MAX) jw_str(w, "all"); else jw_int(w, f->freeze_steps);
}

void ft_json_regularise(avm_jw *w, const ft_opts *f) {
    jw_key(w, "time_mask_prob"); jw_num(w, f->aug.time_p);
    jw_key(w, "time_mask_len"); jw_int(w, f->aug.time_len);
    jw_key(w, "freq_masks"); jw_int(w, f->aug.n_freq);
    jw_key(w, "freq_mask_width"); jw_int(w, f->aug.freq_width);
    jw_key(w, "threads"); jw_int(w, f->threads);
}

char *ft_run_config(const ft_run *r) {
    const ft_opts *f = &r->f;
    static const char *kinds[] = {"char", "phone", "word"};
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "model"); avmodel_config_json(&r->a.enc.cfg, &w);
    jw_key(&w, "finetune"); jw_obj_begin(&w);
    ft_json_inputs(&w, f, r->init);
    jw_key(&w, "unit"); jw_str(&w, kinds[f->kind]);
    jw_key(&w, "objective"); jw_str(&w, f->frame ? "frame" : "ctc");
    str_or_null(&w, "ali", f->ali);
    str_or_null(&w, "valid_ali", f->vali);
    jw_key(&w, "units"); jw_int(&w, r->a.units.n);
    str_or_null(&w, "units_file", f->units_file);
    /* what the run trains on, compared by --resume (finetune_resume.c) */
    char fp[9];
    snprintf(fp, sizeof fp, "%08x", r->lb.crc);
    jw_key(&w, "data_fingerprint"); jw_str(&w, fp);
    snprintf(fp, sizeof fp, "%08x", units_crc(&r->a.units));
    jw_key(&w, "units_fingerprint"); jw_str(&w, fp);
    ft_json_train(&w, f);
    jw_key(&w, "layer_weights"); jw_int(&w, r->a.head.nw);
    jw_key(&w, "layer_norm"); jw_int(&w, r->a.layer_norm);
    ft_json_regularise(&w, f);
    jw_obj_end(&w);
    jw_obj_end(&w);
    return b.s;
}

int ft_encode_pool(avm_model *enc, const avm_batch_data *d, avm_rng *rng, int infer, float *enc_out, uint8_t *pad,
                   float *pooled) {
    int B = d->B, T = d->T;
    int rc = infer ? avmodel_audio_infer(enc, d->audio, d->len, B, T, enc_out, NULL)
                   : avmodel_audio_forward_rng(enc, d->audio, d->len, B, T, rng, enc_out, NULL);
    if (rc) return -1;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) pad[(size_t)b * T + t] = t >= d->len[b];
    mean_pool_forward(enc_out, B, T, enc->cfg.d, pad, pooled);
    return 0;
}
