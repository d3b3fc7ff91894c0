/* The inference-only forwards (models/avmodel_infer.c, train/asr.h asr_forward) against the
 * training forward in eval mode (no dropout), compared bit for bit (memcmp) on 1 and on 2
 * threads, on batches large enough that every OpenMP loop and OpenBLAS product splits:
 *  - avmodel_audio_infer vs avmodel_audio_forward, the output and every hidden state, for an
 *    AV model with per-token fusion and with sequence fusion, an audio-only model and the
 *    export of the AV model (avmodel_audio_branch, encoder-only);
 *  - avmodel_layer_forward (inference, stopping at the layer) vs the states the training
 *    forward keeps (avmodel_forward without masks), every layer, AV with the video present,
 *    both fusions, and the audio branch;
 *  - asr_forward's logits vs asr_train_loss's without dropout for a fine-tuned export without
 *    layer weights and with them (the mix of raw and of layer-normed states);
 * and that the inference runs leave the training workspace unallocated, run in place in one
 * buffer when no hidden state is asked for, and reuse the arena sized by
 * avmodel_infer_reserve without reallocating it. */
#include "check.h"
#include "models/avmodel.h"
#include "train/asr.h"
#include "common/util.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { B = 5, T = 60, VIN = 64 };   /* 5 x 60 x 256 (ffn) > 32768, 5 x 60 x 3 x 128 > 65536 */

static const int lens[B] = {60, 41, 60, 1, 17};

static void cfg_of(avm_config *c, const char *mod, const char *fusion) {
    CHECK(avmodel_config_named(c, "tiny") == 0);
    const char *kv[][2] = {{"d", "128"}, {"ffn", "256"}, {"heads", "4"}, {"layers_audio", "2"},
                           {"layers_video", "1"}, {"layers_fusion", "2"}, {"audio_in", "40"},
                           {"video_in", "64"}, {"max_len", "64"}, {"modalities", mod}, {"fusion", fusion}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) CHECK(avmodel_config_set(c, kv[i][0], kv[i][1]) == 0);
}

/* A model whose values are far from their initialisation (gains and biases off 1 and 0). */
static void init_model(avm_model *m, const avm_config *c, uint64_t seed) {
    CHECK(avmodel_init(m, c, seed) == 0);
    avm_rng r;
    rng_seed(&r, seed, 7);
    for (size_t i = 0; i < m->params.total; i++) m->params.data[i] += (float)(0.1 * rng_normal(&r));
}

static float *randv(size_t n, uint64_t seed) {
    float *v = xmalloc(n * sizeof(float));
    avm_rng r;
    rng_seed(&r, seed, 3);
    for (size_t i = 0; i < n; i++) v[i] = (float)rng_normal(&r);
    return v;
}

/* Unpadded rows of a [B*stride, d] array equal, bit for bit, to those of b. */
static int same_rows(const float *a, const float *b, int stride, int d) {
    for (int s = 0; s < B; s++)
        if (memcmp(a + (size_t)s * stride * d, b + (size_t)s * stride * d, (size_t)lens[s] * d * sizeof(float)))
            return 0;
    return 1;
}

/* The audio branch: output and hidden states of both forwards. */
static void check_branch(avm_model *m, const float *x, const char *what, int threads) {
    int d = m->cfg.d, nh = avmodel_n_hidden(m);
    size_t n = (size_t)B * T * d;
    float *y0 = xmalloc(n * sizeof(float)), *y1 = xmalloc(n * sizeof(float)), *y2 = xmalloc(n * sizeof(float));
    float **h0 = xmalloc(nh * sizeof(float *));
    const float *h[16], *h1[16];
    CHECK(avmodel_audio_forward(m, x, lens, B, T, y0, h) == 0);
    for (int k = 0; k < nh; k++) { h0[k] = xmalloc(n * sizeof(float)); memcpy(h0[k], h[k], n * sizeof(float)); }
    CHECK(avmodel_audio_infer(m, x, lens, B, T, y1, h1) == 0);
    CHECK_MSG(same_rows(y0, y1, T, d), "%s, %d threads: the output differs", what, threads);
    for (int k = 0; k < nh; k++) CHECK_MSG(same_rows(h0[k], h1[k], T, d), "%s, %d threads: hidden %d differs", what, threads, k);
    CHECK(avmodel_audio_infer(m, x, lens, B, T, y2, NULL) == 0);   /* in place, no state kept */
    CHECK_MSG(same_rows(y0, y2, T, d), "%s, %d threads: the in-place output differs", what, threads);
    for (int k = 0; k < nh; k++) free(h0[k]);
    free(h0); free(y0); free(y1); free(y2);
}

/* Every layer of avmodel_layer_forward against the training forward's kept states. */
static void check_layers(avm_model *m, const float *x, const float *v, const char *what, int threads) {
    int d = m->cfg.d, La = m->cfg.layers_audio, nh = avmodel_n_hidden(m);
    int Tf = v && m->cfg.fusion == AVM_FUSION_SEQUENCE ? 2 * T : T;
    float *y = xmalloc((size_t)B * T * d * sizeof(float));
    float *ref = xmalloc((size_t)B * Tf * d * sizeof(float));
    for (int k = 0; k < nh; k++) {
        if (v) {    /* no masks, no dropped stream, no dropout: the states every stream gives */
            avm_batch bt = {.B = B, .T = T, .len = lens, .audio = x, .video = v};
            avm_loss L;
            CHECK(avmodel_forward(m, &bt, &L) == 0);
        } else {
            CHECK(avmodel_audio_forward(m, x, lens, B, T, y, NULL) == 0);
        }
        const float *h = k == 0 ? m->audio.emb : k <= La ? m->audio.cache[k - 1].y : m->fusion_cache[k - La - 1].y;
        int stride = k <= La ? T : Tf;
        for (int b = 0; b < B; b++)
            memcpy(ref + (size_t)b * T * d, h + (size_t)b * stride * d, (size_t)T * d * sizeof(float));
        CHECK(avmodel_layer_forward(m, x, v, lens, B, T, k, y) == 0);
        CHECK_MSG(same_rows(ref, y, T, d), "%s, %d threads: layer %d differs", what, threads, k);
    }
    free(y); free(ref);
}

static void check_models(int threads) {
    omp_set_num_threads(threads);
    float *x = randv((size_t)B * T * 40, 1), *v = randv((size_t)B * T * VIN, 2);
    const char *fusions[] = {"concat", "sequence"};
    for (int f = 0; f < 2; f++) {
        avm_config c;
        avm_model av, br, au;
        char what[64];
        cfg_of(&c, "av", fusions[f]);
        init_model(&av, &c, 5 + f);
        snprintf(what, sizeof what, "av %s", fusions[f]);
        check_branch(&av, x, what, threads);
        check_layers(&av, x, v, what, threads);
        check_layers(&av, x, NULL, what, threads);
        CHECK(avmodel_audio_branch(&av, &br) == 0);      /* the export */
        snprintf(what, sizeof what, "export of av %s", fusions[f]);
        check_branch(&br, x, what, threads);
        cfg_of(&c, "audio", fusions[f]);
        init_model(&au, &c, 8 + f);
        snprintf(what, sizeof what, "audio %s", fusions[f]);
        check_branch(&au, x, what, threads);
        check_layers(&au, x, NULL, what, threads);
        avmodel_free(&av); avmodel_free(&br); avmodel_free(&au);
    }
    free(x); free(v);
}

/* asr_forward's logits against asr_train_loss's forward without dropout. */
static void check_asr(int nw, int layer_norm, int threads) {
    omp_set_num_threads(threads);
    avm_asr a;
    memset(&a, 0, sizeof a);
    avm_config c;
    cfg_of(&c, "audio", "concat");
    c.encoder_only = 1;
    c.dropout = 0.1f; c.attn_dropout = 0.1f;     /* configured, and off without a generator */
    init_model(&a.enc, &c, 12);
    ctc_head_init(&a.head, c.d, 7, nw ? asr_n_states(&a) : 0, 4);
    a.layer_norm = layer_norm;
    for (int k = 0; k < a.head.nw; k++) a.head.p.data[a.head.lw + k] = 0.3f * k - 0.5f;
    float *x = randv((size_t)B * T * 40, 3);
    int len[B], lab[B], L[B];
    memcpy(len, lens, sizeof len);
    for (int b = 0; b < B; b++) { lab[b] = 1 + b % 6; L[b] = 1; }
    avm_batch_data d = {0};
    d.B = B; d.T = T; d.len = len; d.audio = x; d.global_B = B;
    CHECK(!isnan(asr_train_loss(&a, &d, lab, L, 0, NULL, NULL)));
    size_t n = (size_t)a.off[B] * a.head.V;
    float *ref = xmalloc(n * sizeof(float));
    memcpy(ref, a.logits, n * sizeof(float));
    CHECK(asr_forward(&a, &d) == 0);
    CHECK_MSG(!memcmp(ref, a.logits, n * sizeof(float)), "asr, %d layer weights, layer_norm %d, %d threads: logits differ",
              nw, layer_norm, threads);
    free(ref); free(x);
    asr_free(&a);
}

/* The inference forwards stay in their arena: no training workspace, one block reused. */
static void check_arena(void) {
    avm_config c;
    avm_model m;
    cfg_of(&c, "audio", "concat");
    init_model(&m, &c, 3);
    float *x = randv((size_t)B * T * 40, 4), *y = xmalloc((size_t)B * T * 128 * sizeof(float));
    const float *h[8];
    avmodel_infer_reserve(&m, (long)B * T, T, 1);
    void *block = m.inf.block;
    CHECK(avmodel_audio_infer(&m, x, lens, B, T, y, NULL) == 0);
    int len2[3] = {20, 7, 13};
    CHECK(avmodel_audio_infer(&m, x, len2, 3, 20, y, h) == 0);
    CHECK(avmodel_layer_forward(&m, x, NULL, len2, 3, 20, 2, y) == 0);
    CHECK(m.inf.block == block);
    CHECK(m.cap_B == 0 && m.cap_T == 0 && !m.fin && !m.audio.emb && !m.audio.cache[0].qkv);
    CHECK(m.inf.cap_states == avmodel_n_hidden(&m) && m.inf.cap_rows == (size_t)B * T);
    int bad[2] = {3, 21};
    CHECK(avmodel_audio_infer(&m, x, bad, 2, 20, y, NULL) == -1 && strstr(avm_error(), "length"));
    avmodel_free(&m);
    free(x); free(y);
}

int main(void) {
    int keep = omp_get_max_threads();
    for (int t = 1; t <= 2; t++) {
        check_models(t);
        check_asr(0, 0, t);
        check_asr(1, 0, t);
        check_asr(1, 1, t);
    }
    omp_set_num_threads(keep);
    check_arena();
    return check_done("test_infer");
}
