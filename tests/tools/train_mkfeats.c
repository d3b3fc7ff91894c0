/* Writes a small synthetic feature dir (shards, index.tsv, cmvn.h5) for train/ tests,
 * through data/shard.h. Utterances are sequences of "units" (segments of
 * one of 8 classes, seg-min..seg-max tokens long); a class fixes an fbank template and a video template, plus noise,
 * so masked spans are predictable from context and from the other modality.
 *   train_mkfeats --out=DIR [--n=40 --min-tokens=8 --max-tokens=60 --seed=1 --n-mels=80
 *                 --height=8 --width=8 --no-video --shard-size=16 --ramp --seg-min=6 --seg-max=16
 *                 --unrelated-video --stack=4 --extract-json=TEXT]
 * --ramp: fbank[f][0] = f and pixel[t][0] = t % 256 (frame indices, to check crops).
 * --unrelated-video: the video follows classes and segments of its own, drawn independently
 *   of the audio's (the control corpus of the video-gain test).
 * --stack: fbank frames per token (per video frame), recorded in the configuration.
 * --extract-json: the shards' feature configuration attribute (default
 *   {"synthetic":true,"audio_frames_per_video_frame":STACK}). */
#include "common/opts.h"
#include "common/rng.h"
#include "common/util.h"
#include "data/shard.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NCLASS 8

typedef struct {
    const char *out, *config;
    int n, tmin, tmax, nm, H, W, no_video, per, ramp, unrelated, smin, smax, stack;
    long seed;
} mk_opts;

#define F(f) OPT_FIELD(mk_opts, f)
static const avm_optdef table[] = {
    {OPT_STR, "out", F(out), .meta = "DIR", .flags = OPT_REQ, .help = "feature dir to write"},
    {OPT_INT, "n", F(n), .def = "40", .help = "utterances"},
    {OPT_INT, "min-tokens", F(tmin), .def = "8", .help = "tokens per utterance, at least"},
    {OPT_INT, "max-tokens", F(tmax), .def = "60", .help = "... at most"},
    {OPT_INT, "n-mels", F(nm), .def = "80", .help = "mel bins"},
    {OPT_INT, "height", F(H), .def = "8", .help = "video frame height"},
    {OPT_INT, "width", F(W), .def = "8", .help = "video frame width"},
    {OPT_FLAG, "no-video", F(no_video), .help = "audio only"},
    {OPT_INT, "shard-size", F(per), .def = "16", .help = "utterances per shard"},
    {OPT_FLAG, "ramp", F(ramp), .help = "fbank[f][0] = f, pixel[t][0] = t % 256"},
    {OPT_FLAG, "unrelated-video", F(unrelated), .help = "video segments drawn apart from the audio's"},
    {OPT_INT, "seg-min", F(smin), .def = "6", .lo = 1, .hi = 1000, .help = "tokens per unit, at least"},
    {OPT_INT, "seg-max", F(smax), .def = "16", .lo = 1, .hi = 1000, .help = "... at most (>= --seg-min)"},
    {OPT_INT, "seed", F(seed), .def = "1", .help = "of the utterances (not of the templates)"},
    {OPT_INT, "stack", F(stack), .def = "4", .lo = 1, .hi = 64, .help = "fbank frames per token (per video frame)"},
    {OPT_STR, "extract-json", F(config), .meta = "JSON",
     .help = "the shards' feature configuration (default {\"synthetic\":true,\"audio_frames_per_video_frame\":STACK})"},
    {.type = OPT_END},
};
static const avm_optspec spec = {"train_mkfeats", "usage: train_mkfeats --out=DIR [options]\n", table, NULL, NULL};

int main(int argc, char **argv) {
    avm_opts o;
    mk_opts a;
    opts_parse(&o, &spec, &a, argc, argv);
    const char *out = a.out;
    int n = a.n, tmin = a.tmin, tmax = a.tmax, nm = a.nm, H = a.H, W = a.W, video = !a.no_video, per = a.per;
    int ramp = a.ramp, unrelated = a.unrelated, smin = a.smin, smax = a.smax;
    if (smax < smin) avm_die("train_mkfeats: --seg-max=%d is below --seg-min=%d", smax, smin);
    uint64_t seed = (uint64_t)a.seed;
    int S = a.stack;
    char *dflt = xasprintf("{\"synthetic\":true,\"audio_frames_per_video_frame\":%d}", S);
    const char *config = a.config ? a.config : dflt;
    if (mkdir_p(out)) avm_die("%s", avm_error());

    avm_rng r;
    rng_seed(&r, 1000, 0);   /* templates do not depend on --seed: train and valid share them */
    float *ta = xmalloc(sizeof(float) * NCLASS * nm), *tv = xmalloc(sizeof(float) * NCLASS * H * W);
    for (int i = 0; i < NCLASS * nm; i++) ta[i] = (float)(3 * rng_normal(&r));
    for (int i = 0; i < NCLASS * H * W; i++) tv[i] = (float)(128 + 50 * rng_normal(&r));
    rng_seed(&r, seed, 1);

    avm_index_entry *ix = xcalloc(n, sizeof *ix);
    avm_cmvn_acc acc;
    cmvn_acc_init(&acc, nm);
    float *fb = xmalloc(sizeof(float) * S * tmax * nm);
    uint8_t *px = xmalloc((size_t)tmax * H * W);
    avm_shard_writer *w = NULL;
    for (int i = 0; i < n; i++) {
        int shard = i / per;
        if (i % per == 0) {
            char *p = shard_path(out, shard);
            w = shard_writer_open(p, config, nm, video, H, W);
            if (!w) avm_die("%s", avm_error());
            free(p);
        }
        int T = tmin + (int)rng_below(&r, (uint32_t)(tmax - tmin + 1));
        for (int t = 0, c = 0, left = 0, cv = 0, vleft = 0; t < T; t++) {
            if (!left) { c = (int)rng_below(&r, NCLASS); left = smin + (int)rng_below(&r, (uint32_t)(smax - smin + 1)); }
            left--;
            if (!unrelated) cv = c;
            else if (!vleft--) { cv = (int)rng_below(&r, NCLASS); vleft = smin + (int)rng_below(&r, (uint32_t)(smax - smin + 1)) - 1; }
            for (int s = 0; s < S; s++)
                for (int m = 0; m < nm; m++)
                    fb[(size_t)(S * t + s) * nm + m] = ta[c * nm + m] + (float)(0.3 * sin(0.7 * m + 1.6 * s)) +
                                                       (float)(0.2 * rng_normal(&r));
            for (int p = 0; p < H * W; p++) {
                double v = tv[cv * H * W + p] + 8 * rng_normal(&r);
                px[(size_t)t * H * W + p] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
            if (ramp) {
                for (int s = 0; s < S; s++) fb[(size_t)(S * t + s) * nm] = (float)(S * t + s);
                px[(size_t)t * H * W] = (uint8_t)(t % 256);
            }
        }
        char id[32];
        snprintf(id, sizeof id, "utt%05d", i);
        if (shard_writer_add(w, id, fb, (int64_t)S * T, video ? px : NULL, video ? T : 0)) avm_die("%s", avm_error());
        cmvn_acc_add(&acc, fb, (int64_t)S * T);
        if (video) cmvn_acc_add_pixels(&acc, px, (int64_t)T * H * W);
        ix[i] = (avm_index_entry){xstrdup(id), shard, i % per, S * T, video ? T : 0};
        if (i % per == per - 1 || i == n - 1) {
            if (shard_writer_close(w)) avm_die("%s", avm_error());
            w = NULL;
        }
    }
    char *ip = path_join(out, "index.tsv"), *cp = path_join(out, "cmvn.h5");
    if (index_write(ip, ix, n) || cmvn_write(cp, &acc)) avm_die("%s", avm_error());
    free(ip); free(cp);
    index_free(ix, n);
    cmvn_acc_free(&acc);
    free(ta); free(tv); free(fb); free(px); free(dflt);
    opts_free(&o);
    return 0;
}
