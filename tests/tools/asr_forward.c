/* Runs a fine-tuned model directory (train/asr.h, asr_load + asr_forward) on a seeded random
 * batch of normalised input tokens, for the PyTorch parity test tests/ref/asr_check.py.
 *   asr_forward --model=DIR --out=DIR [--B=3 --T=20 --seed=1]
 * writes OUT/x.f32 [B,T,audio_in], OUT/len.i32 [B] (T, T-5, T/2, ...), OUT/logits.f32
 * [sum len, V] (the utterances' rows one after the other, padding left out) and
 * OUT/shape.txt "B T audio_in d V nw layer_norm". */
#include "common/rng.h"
#include "common/util.h"
#include "train/asr.h"
#include "forward_opts.h"
#include "tensor_io.h"
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    avm_opts o;
    fwd_opts args;
    fwd_opts_parse(&o, &args, "asr_forward", "model", argc, argv);
    const char *md = args.in, *out = args.out;
    int B = args.B, T = args.T;
    uint64_t seed = (uint64_t)args.seed;
    avm_asr a;
    if (asr_load(&a, md)) avm_die("%s", avm_error());
    int in = a.enc.cfg.audio_in, V = a.head.V;
    if (T > a.enc.cfg.max_len) avm_die("--T=%d exceeds the model's max_len %d", T, a.enc.cfg.max_len);
    avm_rng r;
    rng_seed(&r, seed, 0);
    float *x = xmalloc(sizeof(float) * B * T * in);
    for (int i = 0; i < B * T * in; i++) x[i] = (float)rng_normal(&r);
    int *len = xmalloc(sizeof(int) * B);
    for (int b = 0; b < B; b++) len[b] = b == 0 ? T : b == 1 ? T - 5 : T / 2;
    avm_batch_data d = {0};
    d.B = B; d.T = T; d.len = len; d.audio = x;
    if (asr_forward(&a, &d)) avm_die("%s", avm_error());
    if (mkdir_p(out)) avm_die("%s", avm_error());
    tio_put(out, "x.f32", x, sizeof(float) * B * T * in);
    tio_put(out, "len.i32", len, sizeof(int) * B);
    tio_put(out, "logits.f32", a.logits, sizeof(float) * (size_t)a.off[B] * V);
    char *shape = xasprintf("%d %d %d %d %d %d %d\n", B, T, in, a.enc.cfg.d, V, a.head.nw, a.layer_norm);
    tio_put(out, "shape.txt", shape, strlen(shape));
    free(shape); free(len); free(x);
    asr_free(&a);
    opts_free(&o);
    return 0;
}
