/* kmeans_mfcc_dump: cluster/'s per-frame MFCC + deltas (km_mfcc_frames) of a raw float32
 * fbank file [frames, n_mels], written as raw float32 [frames, 39], for the torchaudio
 * comparison in tests/cluster/test_kmeans_synth.sh (tests/ref/kmeans_mfcc_ref.py).
 *   kmeans_mfcc_dump --in=FBANK.f32 --n-mels=80 --out=MFCC.f32 */
#include "cluster/km_feats.h"
#include "common/opts.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

typedef struct { const char *in, *out; int n_mels; } dump_opts;

static const avm_optdef table[] = {
    {OPT_STR, "in", OPT_FIELD(dump_opts, in), .meta = "FILE", .flags = OPT_REQ, .help = "raw float32 fbank [frames, n_mels]"},
    {OPT_STR, "out", OPT_FIELD(dump_opts, out), .meta = "FILE", .flags = OPT_REQ, .help = "raw float32 [frames, 39]"},
    {OPT_INT, "n-mels", OPT_FIELD(dump_opts, n_mels), .def = "80", .lo = 3, .hi = 4096, .help = "mel bins"},
    {.type = OPT_END},
};
static const avm_optspec spec = {"kmeans_mfcc_dump", "usage: kmeans_mfcc_dump --in=F --n-mels=80 --out=F\n", table, NULL, NULL};

int main(int argc, char **argv) {
    avm_opts o;
    dump_opts a;
    opts_parse(&o, &spec, &a, argc, argv);
    const char *in = a.in, *out = a.out;
    int nm = a.n_mels;
    size_t len;
    char *raw = read_file(in, &len);
    if (!raw) avm_die("%s", avm_error());
    int frames = (int)(len / (sizeof(float) * nm));
    km_feat kf;
    km_feat_init(&kf, KM_SRC_MFCC, nm, 1);   /* per frame: no tokens */
    float *fb = xmalloc(len + 1), *mf = xmalloc(sizeof(float) * (size_t)(frames + 1) * KM_MFCC_DIM);
    memcpy(fb, raw, len);
    km_mfcc_frames(&kf, fb, frames, mf);
    if (write_file_atomic(out, mf, sizeof(float) * (size_t)frames * KM_MFCC_DIM)) avm_die("%s", avm_error());
    km_feat_free(&kf);
    free(raw); free(fb); free(mf);
    opts_free(&o);
    return 0;
}
