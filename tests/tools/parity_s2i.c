/* PyTorch parity of S2I's training loss (train/s2i.h, tests/ref/torch_s2i.py) on a small
 * encoder-only audio model (dropout 0) with a padded batch: masked mean pooling, projection,
 * classifier, cross-entropy over a global batch larger than the slice, plus each
 * cross-modal loss (none, l2, triplet with the hardest negative among other intents of the
 * slice's texts and a pool of texts or with given (sampled) negatives, InfoNCE over the pool).
 *   parity_s2i write DIR   inputs and parameters
 *   parity_s2i check DIR   the loss, its two parts and every parameter gradient against
 *                          DIR/ref (relative error <= 1e-4 per tensor; the triplet's chosen
 *                          negatives exactly) */
#include "train/s2i.h"
#include "common/rng.h"
#include "common/util.h"
#include "tensor_io.h"
#include <string.h>

enum { B = 3, T = 7, IN = 8, D = 16, E = 6, K = 4, P = 5 };
static const int len[B] = {7, 5, 3};
static const int32_t y[B] = {0, 3, 1}, pos[B] = {0, 1, 2};
static const int pcls[P] = {0, 3, 1, 2, 3};
static float audio[B * T * IN], pool[P * E];

static void make(s2i_model *m) {
    memset(m, 0, sizeof *m);
    avm_config c;
    avmodel_config_named(&c, "tiny");
    c.d = D; c.ffn = 24; c.heads = 2; c.layers_audio = 1; c.layers_fusion = 1; c.audio_in = IN; c.max_len = 10;
    c.dropout = c.attn_dropout = 0; c.modalities = AVM_MOD_AUDIO; c.encoder_only = 1;
    if (avmodel_init(&m->enc, &c, 3)) avm_die("%s", avm_error());
    s2i_head_init(&m->head, D, E, K, 4);
    avm_rng r;
    rng_seed(&r, 1414, 0);
    for (size_t i = 0; i < m->enc.params.total; i++) m->enc.params.data[i] += (float)(0.2 * rng_normal(&r));
    for (size_t i = 0; i < m->head.p.total; i++) m->head.p.data[i] = (float)(0.4 * rng_normal(&r));
    for (int i = 0; i < B * T * IN; i++) audio[i] = (float)rng_normal(&r);
    for (int b = 0; b < B; b++)   /* padding is zero, as the loader leaves it */
        for (int t = len[b]; t < T; t++) memset(audio + ((size_t)b * T + t) * IN, 0, IN * sizeof(float));
    for (int i = 0; i < P * E; i++) pool[i] = (float)rng_normal(&r);
}

static const int given_neg[B] = {3, 0, -1};   /* pool rows of other intents (sampled negatives) */

static int check(const char *dir, s2i_model *m, int kind, int sampled) {
    int lens[B];
    memcpy(lens, len, sizeof lens);
    avm_batch_data d = {0};
    d.B = B; d.T = T; d.len = lens; d.audio = audio; d.global_B = 5;
    s2i_target t = {y, pos, pool, pcls, sampled ? given_neg : NULL, P, 5};
    s2i_xopts x = {kind, 0.7f, 0.5f, 0.2f, 0};
    double ce, xm;
    double l = s2i_train_loss(m, &d, &t, &x, 0, NULL, &ce, &xm, NULL);
    if (l != l) avm_die("%s", avm_error());
    const char *name = sampled ? "triplet_given" : s2i_xmodal_names[kind];
    char nm[200];
    float lv[3] = {(float)l, (float)ce, (float)xm};
    snprintf(nm, sizeof nm, "%s.loss", name);
    int ok = tio_compare(dir, nm, lv, 3, 1e-4);
    if (kind == XM_TRIPLET && !sampled) {
        float neg[B];
        for (int i = 0; i < B; i++) neg[i] = (float)m->xw.neg[i];
        ok &= tio_compare(dir, "triplet.neg", neg, B, 0);
    }
    const avm_params *ps[2] = {&m->enc.params, &m->head.p};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < ps[k]->n; i++) {
            const avm_param *p = &ps[k]->p[i];
            snprintf(nm, sizeof nm, "%s.grad.%s", name, p->name);
            ok &= tio_compare(dir, nm, ps[k]->grad + p->offset, p->numel, 1e-4);
        }
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 3) avm_die("usage: parity_s2i write|check DIR");
    const char *dir = argv[2];
    s2i_model m;
    make(&m);
    if (!strcmp(argv[1], "write")) {
        int s_a[3] = {B, T, IN}, s_b[1] = {B}, s_p[2] = {P, E}, s_pc[1] = {P}, s_c[1] = {17};
        float lf[B], yf[B], posf[B], pcf[P];
        for (int b = 0; b < B; b++) { lf[b] = (float)len[b]; yf[b] = (float)y[b]; posf[b] = (float)pos[b]; }
        for (int j = 0; j < P; j++) pcf[j] = (float)pcls[j];
        tio_write(dir, "audio", audio, B * T * IN, 3, s_a);
        tio_write(dir, "len", lf, B, 1, s_b);
        tio_write(dir, "y", yf, B, 1, s_b);
        tio_write(dir, "pos", posf, B, 1, s_b);
        tio_write(dir, "pool", pool, P * E, 2, s_p);
        tio_write(dir, "pool_cls", pcf, P, 1, s_pc);
        /* torch_avmodel.py's Model: d heads ffn La Lv Lf audio_in video_in max_len loss audio_only case
         * sequence clusters k label_dim unmasked_weight (an audio-only branch) */
        float cfg[17] = {D, 2, 24, 1, 0, 1, IN, 0, 10, 0, 1, 2, 0, 0, 0, 0, 0};
        tio_write(dir, "config", cfg, 17, 1, s_c);
        tio_write_params(dir, &m.enc.params);
        tio_write_params(dir, &m.head.p);
        s2i_free(&m);
        return 0;
    }
    int ok = 1;
    for (int k = XM_NONE; k <= XM_INFONCE; k++) ok &= check(dir, &m, k, 0);
    ok &= check(dir, &m, XM_TRIPLET, 1);
    s2i_free(&m);
    printf("parity_s2i: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
