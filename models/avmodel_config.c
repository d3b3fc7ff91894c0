/* Model configuration: named configs, overrides by key, checks, JSON round trip. */
#include "models/avmodel.h"
#include "common/log.h"
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const avmodel_config_keys[] = {
    "d", "ffn", "heads", "layers_audio", "layers_video", "layers_fusion", "audio_in",
    "video_in", "max_len", "dropout", "attn_dropout", "loss", "modalities", "fusion", "target",
    "num_classes", "label_dim", NULL};

int avmodel_config_named(avm_config *c, const char *name) {
    avm_config base = {.d = 128, .ffn = 512, .heads = 4, .layers_audio = 2, .layers_video = 1,
                       .layers_fusion = 1, .audio_in = 320, .video_in = 1024, .max_len = 512,
                       .dropout = 0.1f, .attn_dropout = 0.1f, .loss = AVM_LOSS_L1,
                       .modalities = AVM_MOD_AV, .fusion = AVM_FUSION_CONCAT};
    if (!strcmp(name, "tiny")) {
    } else if (!strcmp(name, "small")) {
        base.layers_audio = 4; base.layers_video = 2; base.layers_fusion = 2;
    } else if (!strcmp(name, "base")) {
        base.d = 256; base.ffn = 1024;
        base.layers_audio = 4; base.layers_video = 2; base.layers_fusion = 2;
    } else {
        return avm_fail("model config '%s': unknown (tiny, small, base)", name);
    }
    *c = base;
    return 0;
}

static int parse_int(const char *key, const char *v, int *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < 0 || x > 1 << 24) return avm_fail("model.%s: '%s' is not a count", key, v);
    *out = (int)x;
    return 0;
}

static int parse_prob(const char *key, const char *v, float *out) {
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !(x >= 0 && x < 1)) return avm_fail("model.%s: '%s' is not a probability in [0, 1)", key, v);
    *out = (float)x;
    return 0;
}

int avmodel_config_set(avm_config *c, const char *key, const char *v) {
    struct { const char *k; int *p; } ints[] = {
        {"d", &c->d}, {"ffn", &c->ffn}, {"heads", &c->heads}, {"layers_audio", &c->layers_audio},
        {"layers_video", &c->layers_video}, {"layers_fusion", &c->layers_fusion},
        {"audio_in", &c->audio_in}, {"video_in", &c->video_in}, {"max_len", &c->max_len},
        {"num_classes", &c->num_classes}, {"label_dim", &c->label_dim}};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        if (!strcmp(key, ints[i].k)) return parse_int(key, v, ints[i].p);
    if (!strcmp(key, "dropout")) return parse_prob(key, v, &c->dropout);
    if (!strcmp(key, "attn_dropout")) return parse_prob(key, v, &c->attn_dropout);
    if (!strcmp(key, "loss")) {
        if (!strcmp(v, "l1")) c->loss = AVM_LOSS_L1;
        else if (!strcmp(v, "l2")) c->loss = AVM_LOSS_L2;
        else if (!strcmp(v, "infonce")) c->loss = AVM_LOSS_INFONCE;
        else return avm_fail("model.loss: '%s' is not one of l1, l2, infonce", v);
        return 0;
    }
    if (!strcmp(key, "modalities")) {
        if (!strcmp(v, "av")) c->modalities = AVM_MOD_AV;
        else if (!strcmp(v, "audio")) c->modalities = AVM_MOD_AUDIO;
        else return avm_fail("model.modalities: '%s' is not one of av, audio", v);
        return 0;
    }
    if (!strcmp(key, "fusion")) {
        if (!strcmp(v, "concat")) c->fusion = AVM_FUSION_CONCAT;
        else if (!strcmp(v, "sequence")) c->fusion = AVM_FUSION_SEQUENCE;
        else return avm_fail("model.fusion: '%s' is not one of concat, sequence", v);
        return 0;
    }
    if (!strcmp(key, "target")) {
        if (!strcmp(v, "features")) c->target = AVM_TARGET_FEATURES;
        else if (!strcmp(v, "clusters")) c->target = AVM_TARGET_CLUSTERS;
        else return avm_fail("model.target: '%s' is not one of features, clusters", v);
        return 0;
    }
    return avm_fail("model: unknown key '%s'", key);
}

int avmodel_config_check(const avm_config *c) {
    if (c->d < 1 || c->ffn < 1 || c->heads < 1) return avm_fail("model: d, ffn and heads must be positive");
    if (c->d % c->heads) return avm_fail("model: d %d is not a multiple of heads %d", c->d, c->heads);
    if (c->layers_audio < 1 || c->layers_fusion < 1)
        return avm_fail("model: layers_audio and layers_fusion must be at least 1");
    if (c->modalities == AVM_MOD_AV && (c->layers_video < 1 || c->video_in < 1))
        return avm_fail("model: modalities=av needs layers_video >= 1 and video_in >= 1");
    if (c->audio_in < 1 || c->max_len < 1) return avm_fail("model: audio_in and max_len must be positive");
    if (!(c->dropout >= 0 && c->dropout < 1) || !(c->attn_dropout >= 0 && c->attn_dropout < 1))
        return avm_fail("model: dropout probabilities must be in [0, 1)");
    if (c->encoder_only && (c->modalities != AVM_MOD_AUDIO || c->target != AVM_TARGET_FEATURES))
        return avm_fail("model: an encoder-only model is the audio branch (modalities=audio, target=features)");
    if (c->target == AVM_TARGET_CLUSTERS && c->num_classes < 2)
        return avm_fail("model: target=clusters needs num_classes >= 2 (got %d)", c->num_classes);
    /* A configuration read from a file (config.json, a checkpoint) must not make avmodel_init
     * allocate terabytes or overflow a tensor's int shape: an upper bound of the parameter
     * count (in double, so that nothing overflows) must stay under 2^30 (4 GiB of float32;
     * "base" has about 10 million). */
    double d = c->d, f = c->ffn, layers = (double)c->layers_audio + c->layers_fusion + c->layers_video;
    double n = layers * (4 * d * d + 2 * d * f + f + 9 * d) + 2 * d * (c->audio_in + c->video_in + 2.0 * c->max_len + 8) +
               2 * d * d + (double)c->num_classes * c->label_dim + (double)c->label_dim * d;
    if (n > (double)(1 << 30))
        return avm_fail("model: about %.3g parameters (d %d, ffn %d, %.0f layers): more than 2^30, not a configuration avmask builds",
                        n, c->d, c->ffn, layers);
    return 0;
}

void avmodel_config_json(const avm_config *c, avm_jw *w) {
    jw_obj_begin(w);
    jw_key(w, "d"); jw_int(w, c->d);
    jw_key(w, "ffn"); jw_int(w, c->ffn);
    jw_key(w, "heads"); jw_int(w, c->heads);
    jw_key(w, "layers_audio"); jw_int(w, c->layers_audio);
    jw_key(w, "layers_video"); jw_int(w, c->layers_video);
    jw_key(w, "layers_fusion"); jw_int(w, c->layers_fusion);
    jw_key(w, "audio_in"); jw_int(w, c->audio_in);
    jw_key(w, "video_in"); jw_int(w, c->video_in);
    jw_key(w, "max_len"); jw_int(w, c->max_len);
    jw_key(w, "dropout"); jw_num(w, c->dropout);
    jw_key(w, "attn_dropout"); jw_num(w, c->attn_dropout);
    jw_key(w, "loss"); jw_str(w, c->loss == AVM_LOSS_L1 ? "l1" : c->loss == AVM_LOSS_L2 ? "l2" : "infonce");
    jw_key(w, "modalities"); jw_str(w, c->modalities == AVM_MOD_AV ? "av" : "audio");
    jw_key(w, "fusion"); jw_str(w, c->fusion == AVM_FUSION_CONCAT ? "concat" : "sequence");
    if (c->target == AVM_TARGET_CLUSTERS) {     /* absent: features, as before the key existed */
        jw_key(w, "target"); jw_str(w, "clusters");
        jw_key(w, "num_classes"); jw_int(w, c->num_classes);
        jw_key(w, "label_dim"); jw_int(w, c->label_dim);
    }
    jw_obj_end(w);
}

int avmodel_config_from_json(avm_config *c, const json_value *obj) {
    if (!obj || obj->type != JSON_OBJ) return avm_fail("model config: not a JSON object");
    if (!json_get(obj, "fusion")) c->fusion = AVM_FUSION_SEQUENCE;   /* written before concat existed */
    if (!json_get(obj, "target")) c->target = AVM_TARGET_FEATURES;
    for (int i = 0; i < obj->n; i++) {
        const json_value *v = obj->items[i];
        char buf[64];
        if (v->type == JSON_STR) snprintf(buf, sizeof buf, "%s", v->str);
        else if (v->type == JSON_NUM) snprintf(buf, sizeof buf, "%.9g", v->num);
        else return avm_fail("model config: '%s' has a value of the wrong type", obj->keys[i]);
        if (avmodel_config_set(c, obj->keys[i], buf)) return -1;
    }
    return avmodel_config_check(c);
}
