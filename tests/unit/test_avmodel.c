/* models/avmodel: configs and their errors, parameter names and initialisation, the loss
 * definition, modality dropout, padding invariance, the audio branch as the fusion encoder
 * without video, and finite differences through dropout (fixed masks). */
#include "check.h"
#include "models/avmodel.h"
#include "common/util.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { B = 2, T = 5, AIN = 8, VIN = 6 };

static void small_cfg(avm_config *c, const char *mod) {
    CHECK(avmodel_config_named(c, "tiny") == 0);
    const char *kv[][2] = {{"d", "8"}, {"ffn", "16"}, {"heads", "2"}, {"layers_audio", "1"},
                           {"layers_video", "1"}, {"layers_fusion", "1"}, {"audio_in", "8"},
                           {"video_in", "6"}, {"max_len", "7"}, {"modalities", mod}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) CHECK(avmodel_config_set(c, kv[i][0], kv[i][1]) == 0);
}

static void test_config(void) {
    avm_config c;
    CHECK(avmodel_config_named(&c, "base") == 0 && c.d == 256 && c.ffn == 1024 && c.layers_audio == 4 &&
          c.layers_video == 2 && c.layers_fusion == 2 && c.audio_in == 320);
    CHECK(avmodel_config_named(&c, "small") == 0 && c.d == 128 && c.layers_audio == 4);
    CHECK(avmodel_config_named(&c, "tiny") == 0 && c.layers_audio == 2 && c.layers_video == 1);
    CHECK(avmodel_config_named(&c, "huge") == -1 && strstr(avm_error(), "huge"));
    CHECK(avmodel_config_set(&c, "depth", "3") == -1 && strstr(avm_error(), "depth"));
    CHECK(avmodel_config_set(&c, "d", "12x") == -1);
    CHECK(avmodel_config_set(&c, "dropout", "1.0") == -1);
    CHECK(avmodel_config_set(&c, "loss", "l3") == -1);
    CHECK(avmodel_config_set(&c, "loss", "infonce") == 0 && c.loss == AVM_LOSS_INFONCE);
    CHECK(avmodel_config_set(&c, "d", "130") == 0 && avmodel_config_check(&c) == -1 && strstr(avm_error(), "heads"));
    CHECK(avmodel_config_set(&c, "d", "128") == 0 && avmodel_config_set(&c, "layers_fusion", "0") == 0);
    CHECK(avmodel_config_check(&c) == -1);
    avm_model m;
    CHECK(avmodel_init(&m, &c, 1) == -1);       /* init refuses a bad config */
    /* JSON round trip */
    CHECK(avmodel_config_named(&c, "small") == 0 && avmodel_config_set(&c, "loss", "l2") == 0 &&
          avmodel_config_set(&c, "modalities", "audio") == 0 && avmodel_config_set(&c, "dropout", "0.25") == 0);
    avm_strbuf sb = {0};
    avm_jw w;
    jw_init(&w, &sb);
    avmodel_config_json(&c, &w);
    json_value *v = json_parse(sb.s);
    avm_config back;
    CHECK(avmodel_config_named(&back, "base") == 0);
    CHECK(v && avmodel_config_from_json(&back, v) == 0);
    CHECK(!memcmp(&back, &c, sizeof c));
    CHECK(back.fusion == AVM_FUSION_CONCAT);                 /* the default */
    json_free(v);
    /* a stored config from before the key existed was trained with the sequence fusion */
    v = json_parse("{\"d\": 128, \"modalities\": \"av\"}");
    CHECK(v && avmodel_config_from_json(&back, v) == 0 && back.fusion == AVM_FUSION_SEQUENCE);
    json_free(v);
    CHECK(avmodel_config_set(&c, "fusion", "time") == -1 && strstr(avm_error(), "concat"));
    sb_free(&sb);
}

static void test_params(void) {
    avm_config c;
    small_cfg(&c, "av");
    avm_model m, m2;
    CHECK(avmodel_init(&m, &c, 5) == 0);
    const char *names[] = {"audio_frontend.weight", "audio_frontend.bias", "audio_pos", "audio_type",
                           "mask_emb_audio", "audio_encoder.layers.0.attn.in_proj.weight",
                           "audio_encoder.norm.weight", "video_frontend.weight", "video_pos",
                           "mask_emb_video", "video_encoder.layers.0.ffn.fc2.bias",
                           "fusion_encoder.layers.0.norm1.weight", "fusion_encoder.norm.bias",
                           "audio_head.weight", "video_head.bias"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) CHECK_MSG(params_find(&m.params, names[i]), "%s", names[i]);
    const avm_param *p = params_find(&m.params, "video_head.weight");
    CHECK(p && p->ndim == 2 && p->shape[0] == VIN && p->shape[1] == 8 && p->decay == 1);
    p = params_find(&m.params, "audio_pos");
    CHECK(p && p->shape[0] == 7 && p->shape[1] == 8 && p->decay == 0);
    /* embeddings, layers, norms, fusion projection, heads */
    CHECK(m.params.n == 5 * 2 + 12 * 3 + 2 * 3 + 2 + 2 * 2);
    p = params_find(&m.params, "fusion_proj.weight");   /* per-token fusion: [a_t ; v_t] -> d */
    CHECK(p && p->ndim == 2 && p->shape[0] == 8 && p->shape[1] == 16 && p->decay == 1);
    /* init: gains 1, biases 0, weights ~ N(0, 0.02) */
    float *g = params_data(&m.params, "audio_encoder.layers.0.norm2.weight");
    float *bb = params_data(&m.params, "fusion_encoder.layers.0.ffn.fc1.bias");
    CHECK(g[0] == 1.0f && g[7] == 1.0f && bb[0] == 0.0f && bb[15] == 0.0f);
    p = params_find(&m.params, "video_frontend.weight");
    double ss = 0;
    for (size_t i = 0; i < p->numel; i++) ss += (double)m.params.data[p->offset + i] * m.params.data[p->offset + i];
    CHECK_NEAR(sqrt(ss / p->numel), 0.02, 0.005);       /* 48 samples: ~2.5 sigma */
    CHECK(avmodel_init(&m2, &c, 5) == 0);
    CHECK(!memcmp(m.params.data, m2.params.data, m.params.total * sizeof(float)));   /* seeded */
    avmodel_free(&m2);
    CHECK(avmodel_init(&m2, &c, 6) == 0);
    CHECK(memcmp(m.params.data, m2.params.data, m.params.total * sizeof(float)));
    avmodel_free(&m2);
    avmodel_free(&m);
    small_cfg(&c, "audio");
    CHECK(avmodel_init(&m, &c, 5) == 0);
    CHECK(!params_find(&m.params, "video_frontend.weight") && !params_find(&m.params, "video_head.weight"));
    CHECK(avmodel_n_hidden(&m) == 3);
    p = params_find(&m.params, "fusion_proj.weight");   /* the audio branch's projection: d -> d */
    CHECK(p && p->shape[0] == 8 && p->shape[1] == 8);
    avmodel_free(&m);
    small_cfg(&c, "av");
    CHECK(avmodel_config_set(&c, "fusion", "sequence") == 0 && avmodel_init(&m, &c, 5) == 0);
    CHECK(!params_find(&m.params, "fusion_proj.weight") && m.params.n == 5 * 2 + 12 * 3 + 2 * 3 + 2 * 2);
    avmodel_free(&m);
}

typedef struct {
    int len[B];
    float audio[B * T * AIN], video[B * T * VIN];
    uint8_t ma[B * T], mv[B * T], da[B], dv[B];
} batch_data;

static void fill_batch(batch_data *d, avm_rng *r) {
    d->len[0] = 5; d->len[1] = 3;
    for (int i = 0; i < B * T * AIN; i++) d->audio[i] = (float)rng_normal(r);
    for (int i = 0; i < B * T * VIN; i++) d->video[i] = (float)rng_normal(r);
    for (int i = 0; i < B * T; i++) { d->ma[i] = i % 2 == 0; d->mv[i] = i % 3 == 0; }
    memset(d->da, 0, B);
    memset(d->dv, 0, B);
}

static avm_batch mk(batch_data *d, avm_rng *rng) {
    avm_batch bt = {.B = B, .T = T, .len = d->len, .audio = d->audio, .video = d->video, .mask_audio = d->ma,
                    .mask_video = d->mv, .drop_audio = d->da, .drop_video = d->dv, .rng = rng};
    return bt;
}

static void test_forward_semantics(const char *fusion) {
    avm_config c;
    small_cfg(&c, "av");
    CHECK(avmodel_config_set(&c, "fusion", fusion) == 0);
    avm_model m;
    CHECK(avmodel_init(&m, &c, 3) == 0);
    avm_rng r;
    rng_seed(&r, 8, 0);
    batch_data d;
    fill_batch(&d, &r);
    avm_batch bt = mk(&d, NULL);
    avm_loss L, L2;
    CHECK(avmodel_forward(&m, &bt, &L) == 0);
    /* masked, unpadded tokens (i = b*T + t): audio i even -> s0 t0,2,4 ; s1 t1 (t3 padded) */
    CHECK(L.n_audio == 4);
    CHECK(L.n_video == 3);                 /* i = 0, 3 (s0) ; i = 6 -> s1 t1 ; i = 9 -> s1 t4 padded */
    CHECK_NEAR(L.total, L.audio + L.video, 1e-12);
    CHECK(L.audio > 0 && L.video > 0);
    /* values at padded positions do not matter */
    double ref = L.total;
    for (int j = 0; j < AIN; j++) d.audio[(1 * T + 4) * AIN + j] = 1e3f;
    for (int j = 0; j < VIN; j++) d.video[(1 * T + 3) * VIN + j] = -1e3f;
    d.ma[1 * T + 4] = 1; d.mv[1 * T + 3] = 1;
    CHECK(avmodel_forward(&m, &bt, &L2) == 0);
    CHECK_NEAR(L2.total, ref, 1e-6);
    CHECK(L2.n_audio == L.n_audio && L2.n_video == L.n_video);
    /* dropping sample 1's video removes its masked video tokens from the loss */
    d.dv[1] = 1;
    CHECK(avmodel_forward(&m, &bt, &L2) == 0);
    CHECK(L2.n_video == 2 && L2.n_audio == 4);
    /* dropping all video: the fusion output of the audio tokens is the audio branch */
    d.dv[0] = 1;
    memset(d.ma, 0, sizeof d.ma);
    CHECK(avmodel_forward(&m, &bt, &L2) == 0);
    CHECK(L2.n_video == 0 && L2.n_audio == 0 && L2.total == 0.0);
    int Tf = m.Tf;      /* 2T (sequence) or T (concat) */
    CHECK(Tf == (strcmp(fusion, "sequence") ? T : 2 * T));
    float *fz = xmalloc((size_t)B * Tf * 8 * sizeof(float)), out[B * T * 8];
    memcpy(fz, m.fout, (size_t)B * Tf * 8 * sizeof(float));
    const float *hidden[3];
    CHECK(avmodel_audio_forward(&m, d.audio, d.len, B, T, out, hidden) == 0);
    double e = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < d.len[b]; t++)
            for (int j = 0; j < 8; j++) e = fmax(e, fabs(out[(b * T + t) * 8 + j] - fz[((size_t)b * Tf + t) * 8 + j]));
    CHECK_NEAR(e, 0, 1e-5);
    CHECK(hidden[0] == m.audio.emb);
    free(fz);
    /* the branch as a model of its own (what export writes) computes the same */
    avm_model br;
    float out2[B * T * 8];
    CHECK(avmodel_audio_branch(&m, &br) == 0 && br.cfg.modalities == AVM_MOD_AUDIO);
    CHECK(avmodel_audio_forward(&br, d.audio, d.len, B, T, out2, NULL) == 0);
    e = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < d.len[b]; t++)
            for (int j = 0; j < 8; j++) e = fmax(e, fabs(out[(b * T + t) * 8 + j] - out2[(b * T + t) * 8 + j]));
    CHECK_NEAR(e, 0, 1e-6);
    avmodel_free(&br);
    /* errors name the problem */
    bt.T = 8;
    CHECK(avmodel_forward(&m, &bt, &L2) == -1 && strstr(avm_error(), "max_len"));
    bt.T = T;
    d.len[1] = 9;
    CHECK(avmodel_forward(&m, &bt, &L2) == -1 && strstr(avm_error(), "length"));
    d.len[1] = 3;
    bt.video = NULL;
    CHECK(avmodel_forward(&m, &bt, &L2) == -1 && strstr(avm_error(), "video"));
    avmodel_free(&m);
}

/* Finite differences of the masked-prediction loss with dropout on (same rng seed at every
 * evaluation, so the same masks): the dropout paths of every layer. L2 loss (smooth),
 * step 1e-2, |fd - analytic| <= 2e-3 * max(1e-1, |analytic|) relative to the largest. */
typedef struct { avm_model *m; batch_data *d; } fdctx;
static double fd_loss(fdctx *c) {
    avm_rng r;
    rng_seed(&r, 77, 1);
    avm_batch bt = mk(c->d, &r);
    avm_loss L;
    if (avmodel_forward(c->m, &bt, &L)) avm_die("%s", avm_error());
    return L.total;
}

static void test_fd_dropout(void) {
    avm_config c;
    small_cfg(&c, "av");
    CHECK(avmodel_config_set(&c, "dropout", "0.2") == 0 && avmodel_config_set(&c, "attn_dropout", "0.2") == 0);
    CHECK(avmodel_config_set(&c, "loss", "l2") == 0);
    avm_model m;
    CHECK(avmodel_init(&m, &c, 11) == 0);
    avm_rng r;
    rng_seed(&r, 9, 0);
    for (size_t i = 0; i < m.params.total; i++) m.params.data[i] += (float)(0.3 * rng_normal(&r));
    batch_data d;
    fill_batch(&d, &r);
    fdctx ctx = {&m, &d};
    double L0 = fd_loss(&ctx);
    avm_rng rr;
    rng_seed(&rr, 77, 1);
    avm_batch bt = mk(&d, &rr);
    avm_loss L;
    CHECK(avmodel_forward(&m, &bt, &L) == 0 && L.total == L0);   /* same masks, same loss */
    params_zero_grad(&m.params);
    avmodel_backward(&m);
    float *g = xmalloc(m.params.total * sizeof(float));
    memcpy(g, m.params.grad, m.params.total * sizeof(float));
    const char *names[] = {"audio_encoder.layers.0.ffn.fc1.weight", "audio_encoder.layers.0.attn.in_proj.weight",
                           "video_encoder.layers.0.ffn.fc2.weight", "fusion_encoder.layers.0.attn.out_proj.weight",
                           "audio_frontend.weight", "mask_emb_video", "audio_pos", "video_head.weight"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        const avm_param *p = params_find(&m.params, names[k]);
        double gmax = 0;
        for (size_t i = 0; i < p->numel; i++) gmax = fmax(gmax, fabs(g[p->offset + i]));
        CHECK_MSG(gmax > 0, "%s: zero gradient", names[k]);
        int bad = 0;
        size_t step = p->numel > 12 ? p->numel / 12 : 1;
        for (size_t i = 0; i < p->numel; i += step) {
            float *v = m.params.data + p->offset + i, keep = *v;
            *v = keep + 1e-2f; double lp = fd_loss(&ctx);
            *v = keep - 1e-2f; double lm = fd_loss(&ctx);
            *v = keep;
            double fd = (lp - lm) / 2e-2, an = g[p->offset + i];
            if (fabs(fd - an) > 2e-3 * fmax(0.1, gmax) && bad++ < 2)
                fprintf(stderr, "%s[%zu]: fd %.6g analytic %.6g\n", names[k], i, fd, an);
        }
        CHECK_MSG(bad == 0, "%s: %d elements off", names[k], bad);
    }
    /* gradients accumulate: two backward passes of one forward give twice the gradient */
    fd_loss(&ctx);
    params_zero_grad(&m.params);
    avmodel_backward(&m);
    avmodel_backward(&m);
    double e = 0;
    for (size_t i = 0; i < m.params.total; i++) e = fmax(e, fabs(m.params.grad[i] - 2 * g[i]));
    CHECK_NEAR(e, 0, 1e-6);
    free(g);
    avmodel_free(&m);
}

/* The audio branch with dropout (fine-tuning): L = sum(out * R) on unpadded rows, finite
 * differences with the same masks (same seed), same tolerance as above. */
typedef struct { avm_model *m; batch_data *d; float *out, *R; } brctx;
static double br_loss(brctx *c) {
    avm_rng r;
    rng_seed(&r, 78, 2);
    if (avmodel_audio_forward_rng(c->m, c->d->audio, c->d->len, B, T, &r, c->out, NULL)) avm_die("%s", avm_error());
    double s = 0;
    for (int i = 0; i < B * T * 8; i++) s += (double)c->out[i] * c->R[i];
    return s;
}

static void test_fd_branch_dropout(void) {
    avm_config c;
    small_cfg(&c, "av");
    CHECK(avmodel_config_set(&c, "dropout", "0.3") == 0 && avmodel_config_set(&c, "attn_dropout", "0.3") == 0);
    avm_model m;
    CHECK(avmodel_init(&m, &c, 12) == 0);
    avm_rng r;
    rng_seed(&r, 10, 0);
    for (size_t i = 0; i < m.params.total; i++) m.params.data[i] += (float)(0.3 * rng_normal(&r));
    batch_data d;
    fill_batch(&d, &r);
    float out[B * T * 8], R[B * T * 8], out0[B * T * 8];
    for (int i = 0; i < B * T * 8; i++) R[i] = (i / 8) % T < d.len[(i / 8) / T] ? (float)rng_normal(&r) : 0.0f;
    brctx ctx = {&m, &d, out, R};
    br_loss(&ctx);
    memcpy(out0, out, sizeof out);
    CHECK(avmodel_audio_forward(&m, d.audio, d.len, B, T, out, NULL) == 0);
    CHECK(memcmp(out0, out, sizeof out) != 0);          /* dropout did something */
    br_loss(&ctx);
    params_zero_grad(&m.params);
    avmodel_audio_backward(&m, R, NULL);
    float *g = xmalloc(m.params.total * sizeof(float));
    memcpy(g, m.params.grad, m.params.total * sizeof(float));
    const char *names[] = {"audio_encoder.layers.0.ffn.fc1.weight", "fusion_encoder.layers.0.attn.in_proj.weight",
                           "audio_frontend.bias", "audio_pos"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        const avm_param *p = params_find(&m.params, names[k]);
        double gmax = 0;
        for (size_t i = 0; i < p->numel; i++) gmax = fmax(gmax, fabs(g[p->offset + i]));
        CHECK_MSG(gmax > 0, "%s: zero gradient", names[k]);
        int bad = 0;
        size_t step = p->numel > 12 ? p->numel / 12 : 1;
        for (size_t i = 0; i < p->numel; i += step) {
            float *v = m.params.data + p->offset + i, keep = *v;
            *v = keep + 1e-2f; double lp = br_loss(&ctx);
            *v = keep - 1e-2f; double lm = br_loss(&ctx);
            *v = keep;
            double fd = (lp - lm) / 2e-2, an = g[p->offset + i];
            if (fabs(fd - an) > 2e-3 * fmax(0.1, gmax) && bad++ < 2)
                fprintf(stderr, "branch %s[%zu]: fd %.6g analytic %.6g\n", names[k], i, fd, an);
        }
        CHECK_MSG(bad == 0, "branch %s: %d elements off", names[k], bad);
    }
    free(g);
    avmodel_free(&m);
}

/* Dropout masks and results do not depend on the thread count (up to float summation order). */
static void test_threads(void) {
    avm_config c;
    small_cfg(&c, "av");
    CHECK(avmodel_config_set(&c, "dropout", "0.3") == 0 && avmodel_config_set(&c, "attn_dropout", "0.3") == 0);
    CHECK(avmodel_config_set(&c, "d", "64") == 0 && avmodel_config_set(&c, "ffn", "128") == 0);
    avm_model m;
    CHECK(avmodel_init(&m, &c, 13) == 0);
    avm_rng r;
    rng_seed(&r, 11, 0);
    batch_data d;
    fill_batch(&d, &r);
    double loss[2];
    int keep = omp_get_max_threads();
    for (int k = 0; k < 2; k++) {
        omp_set_num_threads(k ? 2 : 1);
        avm_rng dr;
        rng_seed(&dr, 5, 5);
        avm_batch bt = mk(&d, &dr);
        avm_loss L;
        CHECK(avmodel_forward(&m, &bt, &L) == 0);
        loss[k] = L.total;
    }
    omp_set_num_threads(keep);
    CHECK_NEAR(loss[0], loss[1], 1e-5 * fabs(loss[0]));
    avmodel_free(&m);
}

int main(void) {
    test_threads();
    test_config();
    test_params();
    test_forward_semantics("concat");
    test_forward_semantics("sequence");
    test_fd_dropout();
    test_fd_branch_dropout();
    return check_done("test_avmodel");
}
