/* Runs the audio branch of an export (train/export.h) on a seeded random batch, for the
 * PyTorch parity test of eval/pytorch/load_avmask.py.
 *   export_forward --export=DIR --out=DIR [--B=3 --T=20 --seed=1]
 * writes OUT/x.f32 [B,T,audio_in], OUT/len.i32 [B] (T, T-5, T/2, ...), OUT/out.f32 [B,T,d],
 * OUT/hidden.f32 [n_hidden,B,T,d], OUT/shape.txt "B T audio_in d n_hidden". */
#include "common/rng.h"
#include "common/util.h"
#include "train/export.h"
#include "forward_opts.h"
#include "tensor_io.h"
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    avm_opts o;
    fwd_opts args;
    fwd_opts_parse(&o, &args, "export_forward", "export", argc, argv);
    const char *ex = args.in, *out = args.out;
    int B = args.B, T = args.T;
    uint64_t seed = (uint64_t)args.seed;
    avm_model m;
    if (export_load(ex, &m, NULL)) avm_die("%s", avm_error());
    int in = m.cfg.audio_in, d = m.cfg.d, nh = avmodel_n_hidden(&m);
    avm_rng r;
    rng_seed(&r, seed, 0);
    float *x = xmalloc(sizeof(float) * B * T * in), *y = xmalloc(sizeof(float) * B * T * d);
    for (int i = 0; i < B * T * in; i++) x[i] = (float)rng_normal(&r);
    int *len = xmalloc(sizeof(int) * B);
    for (int b = 0; b < B; b++) len[b] = b == 0 ? T : b == 1 ? T - 5 : T / 2;
    const float **hid = xmalloc(sizeof *hid * nh);
    if (avmodel_audio_forward(&m, x, len, B, T, y, hid)) avm_die("%s", avm_error());
    if (mkdir_p(out)) avm_die("%s", avm_error());
    float *h = xmalloc(sizeof(float) * (size_t)nh * B * T * d);
    for (int k = 0; k < nh; k++) memcpy(h + (size_t)k * B * T * d, hid[k], sizeof(float) * B * T * d);
    tio_put(out, "x.f32", x, sizeof(float) * B * T * in);
    tio_put(out, "len.i32", len, sizeof(int) * B);
    tio_put(out, "out.f32", y, sizeof(float) * B * T * d);
    tio_put(out, "hidden.f32", h, sizeof(float) * (size_t)nh * B * T * d);
    char *shape = xasprintf("%d %d %d %d %d\n", B, T, in, d, nh);
    tio_put(out, "shape.txt", shape, strlen(shape));
    free(shape); free(h); free(hid); free(len); free(x); free(y);
    avmodel_free(&m);
    opts_free(&o);
    return 0;
}
