/* eval/asr: the fine-tuning loss (encoder + optional learned layer weighting + CTC head +
 * CTC 'mean') against central finite differences for the layer weights, head and encoder
 * parameters (float32, step 2e-3: |fd - analytic| <= 2e-3 + 2e-2 |analytic|), also with
 * dropout (the same masks in every evaluation: the generator is re-seeded), and the
 * frozen-encoder case (no encoder gradient, same head gradient). */
#include "check.h"
#include "common/rng.h"
#include "common/util.h"
#include "eval/asr.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t drop_seed;   /* 0: no dropout generator */

static void build(avm_asr *a, int weighted, float dropout) {
    memset(a, 0, sizeof *a);
    avm_config c;
    avmodel_config_named(&c, "tiny");
    c.d = 16; c.ffn = 32; c.heads = 2; c.layers_audio = 2; c.layers_fusion = 1;
    c.audio_in = 8; c.max_len = 16; c.dropout = dropout; c.attn_dropout = dropout / 2; c.modalities = AVM_MOD_AUDIO;
    CHECK(avmodel_init(&a->enc, &c, 3) == 0);
    ctc_head_init(&a->head, 16, 5, weighted ? asr_n_states(a) : 0, 4);
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

static void test_grads(int weighted, float dropout) {
    avm_asr a;
    build(&a, weighted, dropout);
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
    CHECK_MSG(bad == 0, "%d of %d finite-difference checks failed (weighted %d, dropout %g)", bad, checked,
              weighted, dropout);

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

int main(void) {
    test_grads(0, 0);
    test_grads(1, 0);
    test_grads(0, 0.2f);
    test_grads(1, 0.2f);
    return check_done("test_asr");
}
