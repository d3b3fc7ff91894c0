/* models/avmodel with encoder_only (what an export holds, what fine-tuning trains): its
 * parameters are exactly the audio branch's (no mask embedding, no heads, nothing that would
 * train without a gradient), for a seed the same values as the full audio model's and the
 * same forward, bit for bit; the masked-prediction forward and configurations that are not
 * the audio branch are refused; avmodel_audio_branch builds one. */
#include "check.h"
#include "models/avmodel.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

enum { B = 2, T = 5, AIN = 8 };

static void cfg_of(avm_config *c, const char *mod, const char *fusion) {
    CHECK(avmodel_config_named(c, "tiny") == 0);
    const char *kv[][2] = {{"d", "8"}, {"ffn", "16"}, {"heads", "2"}, {"layers_audio", "2"},
                           {"layers_video", "1"}, {"layers_fusion", "1"}, {"audio_in", "8"},
                           {"video_in", "6"}, {"max_len", "7"}, {"modalities", mod}, {"fusion", fusion}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) CHECK(avmodel_config_set(c, kv[i][0], kv[i][1]) == 0);
}

/* enc against full (the same config without encoder_only, same seed). */
static void check_against_full(const char *fusion) {
    avm_config c;
    cfg_of(&c, "audio", fusion);
    avm_model full, enc;
    CHECK(avmodel_init(&full, &c, 9) == 0);
    c.encoder_only = 1;
    CHECK(avmodel_init(&enc, &c, 9) == 0);
    /* the names: every one a branch parameter; the full model's minus the three it carried untrained */
    int n_branch = 0;
    for (int i = 0; i < full.params.n; i++) n_branch += avmodel_is_branch_param(full.params.p[i].name);
    CHECK_MSG(enc.params.n == n_branch && enc.params.n == full.params.n - 3, "%s: %d parameters, %d branch, %d full",
              fusion, enc.params.n, n_branch, full.params.n);
    for (int i = 0; i < enc.params.n; i++) {
        const avm_param *p = &enc.params.p[i], *q = params_find(&full.params, p->name);
        CHECK_MSG(avmodel_is_branch_param(p->name), "%s: %s is not a branch parameter", fusion, p->name);
        CHECK_MSG(q && q->numel == p->numel && q->decay == p->decay &&
                      !memcmp(enc.params.data + p->offset, full.params.data + q->offset, p->numel * sizeof(float)),
                  "%s: %s differs from the full model's", fusion, p->name);
    }
    const char *absent[] = {"mask_emb_audio", "audio_head.weight", "audio_head.bias"};
    for (int i = 0; i < 3; i++) CHECK_MSG(!params_find(&enc.params, absent[i]), "%s registered", absent[i]);
    /* the same forward (and hidden states), bit for bit */
    int len[B] = {5, 3};
    float x[B * T * AIN], y0[B * T * 8], y1[B * T * 8];
    avm_rng r;
    rng_seed(&r, 4, 0);
    for (int i = 0; i < B * T * AIN; i++) x[i] = (float)rng_normal(&r);
    CHECK(avmodel_audio_forward(&full, x, len, B, T, y0, NULL) == 0);
    CHECK(avmodel_audio_forward(&enc, x, len, B, T, y1, NULL) == 0);
    CHECK(!memcmp(y0, y1, sizeof y0));
    /* no masked prediction */
    avm_batch bt = {.B = B, .T = T, .len = len, .audio = x};
    avm_loss L;
    CHECK(avmodel_forward(&enc, &bt, &L) == -1 && strstr(avm_error(), "encoder-only"));
    avmodel_free(&enc);
    avmodel_free(&full);
}

static void test_refusals(void) {
    avm_config c;
    cfg_of(&c, "av", "concat");
    c.encoder_only = 1;
    CHECK(avmodel_config_check(&c) == -1 && strstr(avm_error(), "modalities=audio"));
    cfg_of(&c, "audio", "concat");
    c.encoder_only = 1;
    CHECK(avmodel_config_set(&c, "target", "clusters") == 0 && avmodel_config_set(&c, "num_classes", "4") == 0);
    CHECK(avmodel_config_check(&c) == -1 && strstr(avm_error(), "target=features"));
}

/* What export writes: the branch of an AV model is an encoder-only model. */
static void test_branch(void) {
    avm_config c;
    cfg_of(&c, "av", "concat");
    avm_model m, br;
    CHECK(avmodel_init(&m, &c, 2) == 0);
    CHECK(avmodel_audio_branch(&m, &br) == 0 && br.cfg.encoder_only && br.cfg.modalities == AVM_MOD_AUDIO);
    for (int i = 0; i < br.params.n; i++) CHECK_MSG(avmodel_is_branch_param(br.params.p[i].name), "%s", br.params.p[i].name);
    avmodel_free(&br);
    avmodel_free(&m);
}

int main(void) {
    check_against_full("concat");
    check_against_full("sequence");
    test_refusals();
    test_branch();
    return check_done("test_avmodel_encoder");
}
