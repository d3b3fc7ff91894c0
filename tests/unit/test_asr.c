/* eval/asr: the fine-tuning loss (encoder + optional learned layer weighting, with and
 * without the per-state LayerNorm, + CTC head + CTC 'mean') against central finite
 * differences for the layer weights, head and encoder parameters (float32, step 2e-3:
 * |fd - analytic| <= 2e-3 + 2e-2 |analytic|), also with dropout (the same masks in every
 * evaluation: the generator is re-seeded), and the frozen-encoder case (no encoder
 * gradient, same head gradient); the head's input against the mix computed here in double
 * (sum_k p_k LN(state_k), LN over d per token without affine, eps 1e-5; or the raw states). */
#include "check.h"
#include "common/rng.h"
#include "common/util.h"
#include "train/asr.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t drop_seed;   /* 0: no dropout generator */

static void build(avm_asr *a, int weighted, int layer_norm, float dropout) {
    memset(a, 0, sizeof *a);
    avm_config c;
    avmodel_config_named(&c, "tiny");
    c.d = 16; c.ffn = 32; c.heads = 2; c.layers_audio = 2; c.layers_fusion = 1;
    c.audio_in = 8; c.max_len = 16; c.dropout = dropout; c.attn_dropout = dropout / 2; c.modalities = AVM_MOD_AUDIO;
    c.encoder_only = 1;   /* what fine-tuning trains */
    CHECK(avmodel_init(&a->enc, &c, 3) == 0);
    ctc_head_init(&a->head, 16, 5, weighted ? asr_n_states(a) : 0, 4);
    a->layer_norm = layer_norm;
    avm_rng r;
    rng_seed(&r, 11, 0);
    for (size_t i = 0; i < a->head.p.total; i++) a->head.p.data[i] = (float)(0.3 * rng_normal(&r));
}

static double loss_of(avm_asr *a, const avm_batch_data *d, const int *lab, const int *L) {
    avm_rng r;
    rng_seed(&r, drop_seed, 1);
    return asr_train_loss(a, d, lab, L, 0, drop_seed ? &r : NULL, NULL);
}

/* Central difference of the loss in x[i] against the analytic gradient g. */
static int fd_ok(avm_asr *a, const avm_batch_data *d, const int *lab, const int *L, float *x,
                 const float *g, size_t i, const char *what) {
    float s = x[i];
    x[i] = s + 2e-3f; double up = loss_of(a, d, lab, L);
    x[i] = s - 2e-3f; double dn = loss_of(a, d, lab, L);
    x[i] = s;
    double fd = (up - dn) / 4e-3;
    int ok = fabs(fd - g[i]) <= 2e-3 + 2e-2 * fabs(g[i]);
    if (!ok) fprintf(stderr, "%s[%zu]: fd %.6g analytic %.6g\n", what, i, fd, g[i]);
    return ok;
}

static void test_grads(int weighted, int layer_norm, float dropout) {
    avm_asr a;
    build(&a, weighted, layer_norm, dropout);
    drop_seed = dropout > 0 ? 99 : 0;
    int len[2] = {6, 4}, lab[5] = {1, 2, 1, 3, 4}, L[2] = {3, 2};
    float x[2 * 6 * 8];
    avm_rng r;
    rng_seed(&r, 5, 0);
    for (int i = 0; i < 2 * 6 * 8; i++) x[i] = (float)rng_normal(&r);
    avm_batch_data d = {0};
    d.B = 2; d.T = 6; d.len = len; d.audio = x;
    double nll[2];
    if (dropout > 0) {   /* dropout changes the loss; the same generator state repeats it */
        double plain = asr_train_loss(&a, &d, lab, L, 0, NULL, NULL);
        CHECK(fabs(loss_of(&a, &d, lab, L) - plain) > 1e-4 * plain);
        CHECK(loss_of(&a, &d, lab, L) == loss_of(&a, &d, lab, L));
    }
    avm_rng dr;
    rng_seed(&dr, drop_seed, 1);
    double loss = asr_train_loss(&a, &d, lab, L, 0, drop_seed ? &dr : NULL, nll);
    CHECK(isfinite(loss) && loss > 0);
    CHECK_NEAR(loss, (nll[0] / 3 + nll[1] / 2) / 2, 1e-9 * fabs(loss));
    size_t nh = a.head.p.total, ne = a.enc.params.total;
    float *gh = xmalloc(sizeof(float) * nh), *ge = xmalloc(sizeof(float) * ne);
    memcpy(gh, a.head.p.grad, sizeof(float) * nh);
    memcpy(ge, a.enc.params.grad, sizeof(float) * ne);

    int bad = 0, checked = 0;
    for (int k = 0; k < a.head.nw; k++, checked++)
        bad += !fd_ok(&a, &d, lab, L, a.head.p.data, gh, a.head.lw + k, "layer_weights");
    for (size_t i = 0; i < 5 * 16 + 5; i += 13, checked++)
        bad += !fd_ok(&a, &d, lab, L, a.head.p.data, gh, i, "head");
    const char *names[] = {"audio_frontend.weight", "audio_pos", "audio_encoder.layers.0.ffn.fc1.weight",
                           "audio_encoder.layers.1.attn.in_proj.weight", "fusion_encoder.layers.0.norm1.weight",
                           "fusion_encoder.norm.weight", "fusion_encoder.norm.bias"};
    for (int n = 0; n < 7; n++) {
        const avm_param *p = params_find(&a.enc.params, names[n]);
        CHECK_MSG(p != NULL, "%s", names[n]);
        if (!p) continue;
        size_t step = p->numel / 2 + 1;
        for (size_t i = 0; i < p->numel; i += step, checked++)
            bad += !fd_ok(&a, &d, lab, L, a.enc.params.data, ge, p->offset + i, names[n]);
    }
    CHECK_MSG(bad == 0, "%d of %d finite-difference checks failed (weighted %d, layer norm %d, dropout %g)", bad,
              checked, weighted, layer_norm, dropout);

    /* frozen encoder: no encoder gradient, the same head gradient */
    rng_seed(&dr, drop_seed, 1);
    CHECK(isfinite(asr_train_loss(&a, &d, lab, L, 1, drop_seed ? &dr : NULL, NULL)));
    int same = 1, zero = 1;
    for (size_t i = 0; i < nh; i++) same &= fabsf(a.head.p.grad[i] - gh[i]) <= 1e-6f * (1 + fabsf(gh[i]));
    for (size_t i = 0; i < ne; i++) zero &= a.enc.params.grad[i] == 0;
    CHECK(same && zero);
    free(gh); free(ge);
    a.units.n = 0;
    asr_free(&a);
}

/* asr_forward's head input a->rows against sum_k p_k S_k computed in double from the
 * encoder states it exposes (S_k: the state, or its LayerNorm over d); the normed mix must
 * differ from the raw one and be the same for a state scaled by 1000 (what the LN is for). */
static void test_mix(int layer_norm) {
    avm_asr a;
    build(&a, 1, layer_norm, 0);
    for (int k = 0; k < a.head.nw; k++) a.head.p.data[a.head.lw + k] = 0.4f * k - 0.5f;
    int len[2] = {6, 3}, B = 2, T = 6, dm = 16, nh = avmodel_n_hidden(&a.enc);
    float x[2 * 6 * 8];
    avm_rng r;
    rng_seed(&r, 8, 0);
    for (int i = 0; i < B * T * 8; i++) x[i] = (float)rng_normal(&r);
    avm_batch_data d = {0};
    d.B = B; d.T = T; d.len = len; d.audio = x;
    CHECK(asr_forward(&a, &d) == 0);
    /* the states themselves: asr_forward norms them in place (layer_mix_infer), the training
     * forward's are the same values (test_infer) and stay as they are */
    const float *st[8];
    float out[2 * 6 * 16];
    CHECK(avmodel_audio_forward(&a.enc, x, len, B, T, out, st) == 0);
    double p[8], m = -1e30, z = 0, worst = 0, scale = 0, raw_diff = 0;
    for (int k = 0; k <= nh; k++) m = fmax(m, a.head.p.data[a.head.lw + k]);
    for (int k = 0; k <= nh; k++) z += p[k] = exp(a.head.p.data[a.head.lw + k] - m);
    for (int b = 0, row = 0; b < B; b++)
        for (int t = 0; t < len[b]; t++, row++)
            for (int j = 0; j < dm; j++) {
                double want = 0, raw = 0;
                for (int k = 0; k <= nh; k++) {
                    const float *h = (k < nh ? st[k] : out) + ((size_t)b * T + t) * dm;
                    double mu = 0, var = 0;
                    for (int i = 0; i < dm; i++) mu += h[i] / dm;
                    for (int i = 0; i < dm; i++) var += (h[i] - mu) * (h[i] - mu) / dm;
                    want += p[k] / z * (layer_norm ? (h[j] - mu) / sqrt(var + 1e-5) : h[j]);
                    raw += p[k] / z * h[j];
                }
                double got = a.rows[(size_t)row * dm + j];
                worst = fmax(worst, fabs(got - want));
                scale = fmax(scale, fabs(want));
                raw_diff = fmax(raw_diff, fabs(got - raw));
            }
    CHECK_MSG(worst <= 1e-5 * scale, "layer norm %d: head input off by %g (scale %g)", layer_norm, worst, scale);
    if (layer_norm) CHECK_MSG(raw_diff > 1e-2 * scale, "the normed mix equals the raw one (%g)", raw_diff);
    /* scaling the final norm's gain and bias scales the final output state only */
    float *rows0 = xmalloc(sizeof(float) * 9 * dm);
    memcpy(rows0, a.rows, sizeof(float) * 9 * dm);
    const avm_param *g = params_find(&a.enc.params, "fusion_encoder.norm.weight");
    const avm_param *bb = params_find(&a.enc.params, "fusion_encoder.norm.bias");
    for (int j = 0; j < dm; j++) { a.enc.params.data[g->offset + j] *= 1000; a.enc.params.data[bb->offset + j] *= 1000; }
    CHECK(asr_forward(&a, &d) == 0);
    double moved = 0;
    for (int i = 0; i < 9 * dm; i++) moved = fmax(moved, fabs(a.rows[i] - rows0[i]));
    if (layer_norm) CHECK_MSG(moved <= 1e-4 * scale, "a state scaled by 1000 moved the normed mix by %g", moved);
    else CHECK_MSG(moved > scale, "a state scaled by 1000 moved the raw mix by only %g", moved);
    free(rows0);
    a.units.n = 0;
    asr_free(&a);
}

int main(void) {
    test_mix(0);
    test_mix(1);
    test_grads(0, 0, 0);
    test_grads(1, 0, 0);
    test_grads(1, 1, 0);
    test_grads(0, 0, 0.2f);
    test_grads(1, 0, 0.2f);
    test_grads(1, 1, 0.2f);
    return check_done("test_asr");
}
