/* PyTorch parity of TinyS2I's joint training loss (train/tinys2i.h, tests/ref/torch_tinys2i.py)
 * on a small encoder-only audio model and a small title encoder (dropout 0), a padded batch
 * of 4 utterances (a command, two title utterances, an other) out of a global batch of 6:
 * decision cross-entropy, command cross-entropy over the command utterances, 0.7 x the
 * triplet of the title utterances' embeddings against the title encoder's pooled embeddings
 * of a pool of 3 titles (given negatives).
 *   parity_tinys2i write DIR   inputs and parameters
 *   parity_tinys2i check DIR   the loss, its three parts and every parameter gradient (audio
 *                              encoder, head, title encoder) against DIR/ref (relative
 *                              error <= 1e-4 per tensor) */
#include "train/tinys2i.h"
#include "common/rng.h"
#include "common/util.h"
#include "tensor_io.h"
#include <string.h>

enum { B = 4, T = 7, IN = 8, D = 16, E = 8, KC = 3, P = 3, TT = 4, V = 12 };
static const int len[B] = {7, 5, 3, 6};
static const int32_t cls[B] = {0, 1, 2, 1}, cmd[B] = {2, -1, -1, -1};
static const int pos[B] = {-1, 0, -1, 1}, neg[B] = {-1, 2, -1, 0};
static const int32_t ids[P * TT] = {3, 5, 6, 0, 3, 7, 8, 0, 3, 5, 9, 10};
static const int tlen[P] = {3, 3, 4};
static float audio[B * T * IN];

static void make(ts_model *m) {
    memset(m, 0, sizeof *m);
    avm_config c;
    avmodel_config_named(&c, "tiny");
    c.d = D; c.ffn = 24; c.heads = 2; c.layers_audio = 1; c.layers_fusion = 1; c.audio_in = IN; c.max_len = 10;
    c.dropout = c.attn_dropout = 0; c.modalities = AVM_MOD_AUDIO; c.encoder_only = 1;
    if (avmodel_init(&m->enc, &c, 3)) avm_die("%s", avm_error());
    ts_head_init(&m->head, D, E, KC, 4);
    avm_text_config tc;
    textenc_config_default(&tc);
    tc.vocab = V; tc.d = E; tc.ffn = 16; tc.heads = 2; tc.layers = 1; tc.max_len = 6;
    tc.dropout = tc.attn_dropout = 0; tc.mlm_head = 0;
    if (textenc_init(&m->tenc, &tc, 9)) avm_die("%s", avm_error());
    avm_rng r;
    rng_seed(&r, 1515, 0);
    for (size_t i = 0; i < m->enc.params.total; i++) m->enc.params.data[i] += (float)(0.2 * rng_normal(&r));
    for (size_t i = 0; i < m->head.p.total; i++) m->head.p.data[i] = (float)(0.4 * rng_normal(&r));
    for (size_t i = E; i < m->tenc.params.total; i++) m->tenc.params.data[i] += (float)(0.2 * rng_normal(&r));
    for (int i = 0; i < B * T * IN; i++) audio[i] = (float)rng_normal(&r);
    for (int b = 0; b < B; b++)
        for (int t = len[b]; t < T; t++) memset(audio + ((size_t)b * T + t) * IN, 0, IN * sizeof(float));
}

int main(int argc, char **argv) {
    if (argc != 3) avm_die("usage: parity_tinys2i write|check DIR");
    const char *dir = argv[2];
    ts_model m;
    make(&m);
    const avm_params *ps[3] = {&m.enc.params, &m.head.p, &m.tenc.params};
    if (!strcmp(argv[1], "write")) {
        int s_a[3] = {B, T, IN}, s_b[1] = {B}, s_i[2] = {P, TT}, s_p[1] = {P}, s_c[1] = {17};
        float lf[B], cf[B], kf[B], pf[B], nf[B], idf[P * TT], tl[P];
        for (int b = 0; b < B; b++) {
            lf[b] = (float)len[b]; cf[b] = (float)cls[b]; kf[b] = (float)cmd[b]; pf[b] = (float)pos[b]; nf[b] = (float)neg[b];
        }
        for (int i = 0; i < P * TT; i++) idf[i] = (float)ids[i];
        for (int j = 0; j < P; j++) tl[j] = (float)tlen[j];
        tio_write(dir, "audio", audio, B * T * IN, 3, s_a);
        tio_write(dir, "len", lf, B, 1, s_b);
        tio_write(dir, "cls", cf, B, 1, s_b);
        tio_write(dir, "cmd", kf, B, 1, s_b);
        tio_write(dir, "pos", pf, B, 1, s_b);
        tio_write(dir, "neg", nf, B, 1, s_b);
        tio_write(dir, "ids", idf, P * TT, 2, s_i);
        tio_write(dir, "tlen", tl, P, 1, s_p);
        /* torch_avmodel.py's Model config (an audio-only branch), as parity_s2i writes it */
        float cfg[17] = {D, 2, 24, 1, 0, 1, IN, 0, 10, 0, 1, 2, 0, 0, 0, 0, 0};
        tio_write(dir, "config", cfg, 17, 1, s_c);
        for (int k = 0; k < 3; k++) tio_write_params(dir, ps[k]);
        ts_free(&m);
        return 0;
    }
    ts_target t = {cls, cmd, pos, neg, ids, tlen, P, TT, 6, 2, 3};
    avm_batch_data d = {0};
    int lens[B];
    memcpy(lens, len, sizeof lens);
    d.B = B; d.T = T; d.len = lens; d.audio = audio; d.global_B = 6;
    double part[3];
    double l = ts_train_loss(&m, &d, &t, 0.7f, 0.5f, 0, NULL, part, NULL);
    if (l != l) avm_die("%s", avm_error());
    float lv[4] = {(float)l, (float)part[0], (float)part[1], (float)part[2]};
    int ok = tio_compare(dir, "loss", lv, 4, 1e-4);
    char nm[200];
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < ps[k]->n; i++) {
            const avm_param *p = &ps[k]->p[i];
            snprintf(nm, sizeof nm, "grad.%s", p->name);
            ok &= tio_compare(dir, nm, ps[k]->grad + p->offset, p->numel, 1e-4);
        }
    ts_free(&m);
    printf("parity_tinys2i: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
