/* Fine-tuned CTC model: loading, saving, forward (see asr.h). */
#include "train/asr.h"
#include "common/log.h"
#include "common/util.h"
#include "train/export.h"
#include "train/state_cache.h"
#include "models/ops.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int asr_load(avm_asr *a, const char *dir) {
    memset(a, 0, sizeof *a);
    char *aj = path_join(dir, "asr.json"), *ut = path_join(dir, "units.txt"), *hd = path_join(dir, "ctc_head.h5");
    char *text = read_file(aj, NULL);
    json_value *v = text ? json_parse(text) : NULL;
    int rc = 0, have_enc = 0, have_units = 0;
    if (!text) rc = -1;
    else if (!v || strcmp(json_str_or(v, "format", ""), ASR_FORMAT))
        rc = avm_fail("%s: not an %s description", aj, ASR_FORMAT);
    else if (units_kind_parse(json_str_or(v, "units", ""), &a->kind))
        rc = avm_fail("%s: %s", aj, avm_error());
    if (!rc && !(rc = units_read(&a->units, ut))) have_units = 1;
    if (!rc && !(rc = export_load(dir, &a->enc, &a->config))) have_enc = 1;
    const char *obj = v ? json_str_or(v, "objective", "ctc") : "ctc";   /* no key: written before frame heads, ctc */
    if (!rc && strcmp(obj, "ctc") && strcmp(obj, "frame"))
        rc = avm_fail("%s: objective '%s' is neither ctc nor frame", aj, obj);
    a->frame = !strcmp(obj, "frame");
    long long vocab = 0, nw = 0, ln = 0;   /* no layer_norm key: written before it existed, 0 */
    if (!rc && (json_int_range(v, "vocab", 0, INT_MAX, JSON_REQUIRED, &vocab) ||
                json_int_range(v, "layer_weights", 0, INT_MAX, 0, &nw) ||
                json_int_range(v, "layer_norm", 0, 1, 0, &ln)))
        rc = avm_fail("%s: %s", aj, avm_error());
    if (!rc && ln && !nw) rc = avm_fail("%s: layer_norm 1 without layer weights", aj);
    a->layer_norm = (int)ln;
    if (!rc && a->units.n != vocab)
        rc = avm_fail("%s: vocab %lld, but %s has %d units", aj, vocab, ut, a->units.n);
    if (!rc) {
        if (nw && nw != asr_n_states(a)) rc = avm_fail("%s: %lld layer weights for %d encoder states", aj, nw, asr_n_states(a));
        ctc_head_init(&a->head, a->enc.cfg.d, a->units.n, (int)nw, 1);
        if (!rc) rc = ctc_head_load(&a->head, hd);
    }
    if (rc) {
        if (have_enc) { avmodel_free(&a->enc); json_free(a->config); }
        if (have_units) units_free(&a->units);
        if (a->head.V) ctc_head_free(&a->head);
        memset(a, 0, sizeof *a);
    }
    json_free(v);
    free(text); free(aj); free(ut); free(hd);
    return rc;
}

int asr_save(const avm_asr *a, const char *dir, const char *config_json) {
    if (export_write(dir, &a->enc, config_json)) return -1;
    char *aj = path_join(dir, "asr.json"), *ut = path_join(dir, "units.txt"), *hd = path_join(dir, "ctc_head.h5");
    static const char *kinds[] = {"char", "phone", "word"};
    char *desc = xasprintf("{\"format\":\"%s\",\"units\":\"%s\",\"vocab\":%d,\"objective\":\"%s\",\"layer_weights\":%d,"
                           "\"layer_norm\":%d}\n", ASR_FORMAT, kinds[a->kind], a->units.n, a->frame ? "frame" : "ctc",
                           a->head.nw, a->head.nw ? a->layer_norm : 0);
    int rc = units_write(&a->units, ut);
    if (!rc) rc = ctc_head_save(&a->head, hd);
    if (!rc) rc = write_file_atomic(aj, desc, strlen(desc));
    free(desc); free(aj); free(ut); free(hd);
    return rc;
}

void asr_free(avm_asr *a) {
    avmodel_free(&a->enc);
    ctc_head_free(&a->head);
    units_free(&a->units);
    json_free(a->config);
    free(a->enc_out); free(a->rows); free(a->logits); free(a->off); free(a->rep); free(a->probs);
    free(a->glog); free(a->grows); free(a->drep); free(a->dhid); free(a->hidden); free(a->dhidden);
    free(a->lnh); free(a->lnstat); free(a->ln_one); free(a->cstates);
    ctc_ws_free(&a->ctc);
    memset(a, 0, sizeof *a);
}

/* Frames per token the encoder was trained on: features.stack of config.json (absent in
 * models written before fine-tuning recorded it: the features' own, the input size then
 * decides). */
static int model_stack(const json_value *config, const avm_loader *L) {
    long long s = L->feats.stack;
    if (json_int_range(config, "features.stack", 1, 1000, s, &s)) return avm_fail("config.json: %s", avm_error());
    if (s == L->feats.stack) return 0;
    char *p = shard_path(L->feats.dir, L->feats.e[0].shard);
    avm_fail("%s: %d audio frames per token (audio_frames_per_video_frame), the encoder was trained on %lld",
             p, L->feats.stack, s);
    free(p);
    return -1;
}

int encoder_apply_cmvn(const avm_model *enc, const json_value *config, avm_loader *L) {
    if (model_stack(config, L)) return -1;
    if (L->audio_dim != enc->cfg.audio_in)
        return avm_fail("%s: %d inputs per token, the model takes %d", L->feats.dir, L->audio_dim, enc->cfg.audio_in);
    return export_cmvn(config, L->a_mean, L->a_istd, L->feats.n_mels);
}

int asr_apply_cmvn(const avm_asr *a, avm_loader *L) { return encoder_apply_cmvn(&a->enc, a->config, L); }

int asr_n_states(const avm_asr *a) { return avmodel_n_hidden(&a->enc) + 1; }

/* The layer mix (models/ops.h) over the hidden states and the final output of the last
 * forward, rows = B*T. Padded rows are mixed (and normed) too: they hold finite values and
 * are never read back. infer: for layer_mix_infer (the states normed in place, the
 * statistics of one state at a time). */
static avm_layer_mix mix_of(avm_asr *a, int rows, int infer) {
    int K = avmodel_n_hidden(&a->enc) + 1, dm = a->enc.cfg.d;
    if (a->layer_norm) {
        if (!infer) a->lnh = xgrow(a->lnh, &a->cap_lnh, sizeof(float) * (size_t)rows * dm * K);
        a->lnstat = xgrow(a->lnstat, &a->cap_lnstat, sizeof(float) * 2 * (size_t)rows * (infer ? 1 : K));
        if (!a->ln_one) a->ln_one = xmalloc(sizeof(float) * 4 * (size_t)dm);
    }
    avm_layer_mix m = {K, rows, dm, a->layer_norm, a->probs, a->lnh, a->lnstat, a->ln_one};
    return m;
}

/* The batch's encoder states from the cache into a->hidden (with layer weights) and
 * a->enc_out, as the training forward without dropout would compute them. */
static int gather_states(avm_asr *a, const avm_batch_data *d) {
    int nh = avmodel_n_hidden(&a->enc);
    size_t nBT = (size_t)d->B * d->T * a->enc.cfg.d;
    float **dst = xmalloc(sizeof(float *) * (nh + 1));
    if (a->head.nw) {
        a->cstates = xgrow(a->cstates, &a->cap_cstates, sizeof(float) * (nBT * nh + 1));
        for (int k = 0; k < nh; k++) a->hidden[k] = dst[k] = a->cstates + k * nBT;
    }
    dst[a->head.nw ? nh : 0] = a->enc_out;
    int rc = state_cache_gather(a->cache, d, dst);
    free(dst);
    return rc;
}

/* The encoder, then the head. infer: the inference-only forward (nothing kept for a
 * backward; the hidden states only when the head mixes them), else the training forward
 * with dropout from rng (NULL: none): the same logits bit for bit without dropout. */
static int forward(avm_asr *a, const avm_batch_data *d, avm_rng *rng, int infer) {
    int B = d->B, T = d->T, dm = a->enc.cfg.d, V = a->head.V, nh = avmodel_n_hidden(&a->enc);
    size_t nBT = (size_t)B * T * dm;
    if (a->head.nw && a->head.nw != nh + 1)
        return avm_fail("model: %d layer weights for %d encoder states", a->head.nw, nh + 1);
    a->enc_out = xgrow(a->enc_out, &a->cap_out, sizeof(float) * nBT);
    if (!a->hidden) {   /* the states the head may mix: the hidden states, then the output */
        a->hidden = xcalloc(nh + 1, sizeof *a->hidden);
        a->dhidden = xcalloc(nh + 1, sizeof *a->dhidden);
        a->probs = xmalloc(sizeof(float) * (nh + 1));
    }
    int rc = infer ? avmodel_audio_infer(&a->enc, d->audio, d->len, B, T, a->enc_out, a->head.nw ? a->hidden : NULL)
                   : a->cache ? gather_states(a, d)
                   : avmodel_audio_forward_rng(&a->enc, d->audio, d->len, B, T, rng, a->enc_out, a->hidden);
    if (rc) return -1;
    a->hidden[nh] = a->enc_out;
    const float *rep = a->enc_out;
    if (a->head.nw) {
        a->rep = xgrow(a->rep, &a->cap_rep, sizeof(float) * nBT);
        avm_layer_mix m = mix_of(a, B * T, infer);
        if (infer)      /* the states are the arena's and enc_out, free to be normed in place */
            layer_mix_infer(&m, (float *const *)a->hidden, a->head.p.data + a->head.lw, a->rep);
        else
            layer_mix_forward(&m, a->hidden, a->head.p.data + a->head.lw, a->rep);
        rep = a->rep;
    }
    if (B + 1 > a->cap_b) a->off = xrealloc(a->off, sizeof(int) * (a->cap_b = B + 1));
    a->off[0] = 0;
    for (int b = 0; b < B; b++) a->off[b + 1] = a->off[b] + d->len[b];
    int n = a->off[B];
    a->rows = xgrow(a->rows, &a->cap_rows, sizeof(float) * ((size_t)n + 1) * dm);
    a->logits = xgrow(a->logits, &a->cap_logits, sizeof(float) * ((size_t)n + 1) * V);
    for (int b = 0; b < B; b++)
        memcpy(a->rows + (size_t)a->off[b] * dm, rep + (size_t)b * T * dm, sizeof(float) * d->len[b] * dm);
    ctc_head_forward(&a->head, a->rows, n, a->logits);
    return 0;
}

int asr_forward(avm_asr *a, const avm_batch_data *d) { return forward(a, d, NULL, 1); }

void asr_infer_reserve(avm_asr *a, long tokens, int T) { avmodel_infer_reserve(&a->enc, tokens, T, a->head.nw > 0); }

/* The backward from a->glog (d loss / d logits, [sum len, V]): zeroes and fills the head's
 * gradient and, unless frozen, the encoder's. */
static void backward(avm_asr *a, const avm_batch_data *d, int frozen) {
    int B = d->B, T = d->T, dm = a->enc.cfg.d, n = a->off[B], nh = avmodel_n_hidden(&a->enc);
    size_t nBT = (size_t)B * T * dm;
    params_zero_grad(&a->head.p);
    params_zero_grad(&a->enc.params);
    int need_gx = !frozen || a->head.nw;
    if (need_gx) a->grows = xgrow(a->grows, &a->cap_grows, sizeof(float) * ((size_t)n * dm + 1));
    ctc_head_backward(&a->head, a->rows, a->glog, n, need_gx ? a->grows : NULL);
    if (!need_gx) return;
    a->drep = xgrow(a->drep, &a->cap_drep, sizeof(float) * nBT);
    memset(a->drep, 0, sizeof(float) * nBT);
    for (int b = 0; b < B; b++)
        memcpy(a->drep + (size_t)b * T * dm, a->grows + (size_t)a->off[b] * dm, sizeof(float) * d->len[b] * dm);
    if (!a->head.nw) {
        if (!frozen) avmodel_audio_backward(&a->enc, a->drep, NULL);
        return;
    }
    /* the final output's share of the gradient goes in as dout (in place in drep) */
    avm_layer_mix m = mix_of(a, B * T, 0);
    float *glw = a->head.p.grad + a->head.lw;
    if (frozen) {
        layer_mix_backward(&m, a->hidden, a->drep, glw, NULL);
        return;
    }
    a->dhid = xgrow(a->dhid, &a->cap_dhid, sizeof(float) * nBT * nh);
    for (int k = 0; k < nh; k++) a->dhidden[k] = a->dhid + (size_t)k * nBT;
    a->dhidden[nh] = a->drep;
    layer_mix_backward(&m, a->hidden, a->drep, glw, a->dhidden);
    avmodel_audio_backward(&a->enc, a->drep, (const float *const *)a->dhidden);
}

double asr_train_loss(avm_asr *a, const avm_batch_data *d, const int *labels, const int *L,
                      int frozen, avm_rng *rng, double *nll) {
    if (forward(a, d, rng, 0)) return NAN;
    a->glog = xgrow(a->glog, &a->cap_glog, sizeof(float) * ((size_t)a->off[d->B] * a->head.V + 1));
    avm_ctc_opts co = {CTC_MEAN, 1, d->global_B};   /* the mean over the whole global batch */
    double loss = ctc_loss(a->logits, d->len, d->B, a->head.V, labels, L, &co, nll, a->glog, &a->ctc);
    if (isnan(loss)) { avm_fail("the CTC loss is NaN (training diverged: lower --lr?)"); return NAN; }
    backward(a, d, frozen);
    return loss;
}

double asr_train_frames(avm_asr *a, const avm_batch_data *d, const int32_t *y, double denom, int frozen,
                        avm_rng *rng, int *correct) {
    if (forward(a, d, rng, 0)) return NAN;
    int n = a->off[d->B], V = a->head.V;
    a->glog = xgrow(a->glog, &a->cap_glog, sizeof(float) * ((size_t)n * V + 1));
    double loss = xent_forward(a->logits, n, V, y, -1, denom, a->glog, NULL, correct);
    if (isnan(loss)) { avm_fail("the frame cross-entropy is NaN (training diverged: lower --lr?)"); return NAN; }
    xent_backward(a->glog, n, V, y, -1, denom, 1.0f, a->glog);
    backward(a, d, frozen);
    return loss;
}
