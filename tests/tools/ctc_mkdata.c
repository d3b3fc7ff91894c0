/* A small labelled corpus for the CTC fine-tuning tests: an audio-only feature dir and a
 * data dir whose phones are the classes the features were drawn from.
 *   ctc_mkdata --feats=DIR --data=DIR [--n=40 --min-units=2 --max-units=6 --seg-min=2
 *              --seg-max=4 --n-mels=80 --noise=0.3 --seed=1 --stack=4]
 * An utterance is a sequence of units p0..p7 (neighbours differ), each seg-min..seg-max
 * tokens of `stack` fbank frames (recorded in the shard's configuration) = the class
 * template + noise. data/phones holds the units, data/phones.ctm their timings (10 ms
 * frames), data/text the letters a..h with a space after every third, data/conditions
 * "snr=0|10 voice=f|m" (noise is doubled when snr=0). Templates depend on nothing but
 * n-mels, so dirs made with different seeds share them. --pause-class=K makes class K a
 * pause: its segments are in no transcript and in no CTM line (silence to a frame probe). */
#include "common/opts.h"
#include "common/rng.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "data/shard.h"
#include <stdlib.h>
#include <string.h>

#define NCLASS 8

static void put(const char *dir, const char *name, const avm_strbuf *b) {
    char *p = path_join(dir, name);
    if (write_file_atomic(p, b->s, b->len)) avm_die("%s", avm_error());
    free(p);
}

typedef struct { const char *feats, *data; int n, n_mels, umin, umax, smin, smax, stack, pause; double noise; long seed; } mk_opts;

#define F(f) OPT_FIELD(mk_opts, f)
static const avm_optdef table[] = {
    {OPT_STR, "feats", F(feats), .meta = "DIR", .flags = OPT_REQ, .help = "feature dir to write"},
    {OPT_STR, "data", F(data), .meta = "DIR", .flags = OPT_REQ, .help = "data dir to write"},
    {OPT_INT, "n", F(n), .def = "40", .lo = 1, .hi = 100000, .help = "utterances"},
    {OPT_INT, "n-mels", F(n_mels), .def = "80", .lo = 1, .hi = 512, .help = "mel bins"},
    {OPT_INT, "min-units", F(umin), .def = "2", .lo = 1, .hi = 1000, .help = "units per utterance, at least"},
    {OPT_INT, "max-units", F(umax), .def = "6", .lo = 1, .hi = 1000, .help = "... at most (>= --min-units)"},
    {OPT_INT, "seg-min", F(smin), .def = "2", .lo = 1, .hi = 1000, .help = "tokens per unit, at least"},
    {OPT_INT, "seg-max", F(smax), .def = "4", .lo = 1, .hi = 1000, .help = "... at most (>= --seg-min)"},
    {OPT_NUM, "noise", F(noise), .def = "0.3", .help = "noise added to the templates"},
    {OPT_INT, "seed", F(seed), .def = "1", .help = "of the utterances (not of the templates)"},
    {OPT_INT, "stack", F(stack), .def = "4", .lo = 1, .hi = 64, .help = "fbank frames per token (recorded in the shard's configuration)"},
    {OPT_INT, "pause-class", F(pause), .def = "-1", .lo = -1, .hi = NCLASS - 1, .help = "this class is a pause (-1: none)"},
    {.type = OPT_END},
};
static const avm_optspec spec = {"ctc_mkdata", "usage: ctc_mkdata --feats=DIR --data=DIR [options]\n", table, NULL, NULL};

int main(int argc, char **argv) {
    avm_opts o;
    mk_opts a;
    opts_parse(&o, &spec, &a, argc, argv);
    const char *fdir = a.feats, *ddir = a.data;
    int n = a.n, nm = a.n_mels, umin = a.umin, umax = a.umax, smin = a.smin, smax = a.smax;
    if (umax < umin || smax < smin) avm_die("ctc_mkdata: --max-units < --min-units or --seg-max < --seg-min");
    double noise = a.noise;
    uint64_t seed = (uint64_t)a.seed;
    int S = a.stack;
    if (mkdir_p(fdir) || mkdir_p(ddir)) avm_die("%s", avm_error());
    avm_rng r;
    rng_seed(&r, 4242, 0);
    float *ta = xmalloc(sizeof(float) * NCLASS * nm);
    for (int i = 0; i < NCLASS * nm; i++) ta[i] = (float)(2 * rng_normal(&r));
    rng_seed(&r, seed, 2);

    char *sp = path_join(fdir, "shard-00000.h5");
    char *cfg = xasprintf("{\"synthetic\":\"ctc_mkdata\",\"audio_frames_per_video_frame\":%d}", S);
    avm_shard_writer *w = shard_writer_open(sp, cfg, nm, 0, 0, 0);
    if (!w) avm_die("%s", avm_error());
    avm_index_entry *ix = xcalloc(n, sizeof *ix);
    avm_cmvn_acc acc;
    cmvn_acc_init(&acc, nm);
    float *fb = xmalloc(sizeof(float) * S * umax * smax * nm);
    avm_strbuf phones = {0}, text = {0}, cond = {0}, ctm = {0};
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "utt%05d", i);
        int snr0 = rng_below(&r, 2), units = umin + (int)rng_below(&r, umax - umin + 1), T = 0, prev = -1;
        double sd = snr0 ? 2 * noise : noise;
        sb_printf(&phones, "%s", id);
        sb_printf(&text, "%s ", id);
        sb_printf(&cond, "%s snr=%d voice=%s\n", id, snr0 ? 0 : 10, rng_below(&r, 2) ? "f" : "m");
        for (int u = 0, spoken = 0; u < units; u++) {
            int c = (int)rng_below(&r, NCLASS - (prev >= 0));
            if (prev >= 0 && c >= prev) c++;   /* neighbours differ */
            prev = c;
            int len = smin + (int)rng_below(&r, smax - smin + 1);
            if (c != a.pause) {
                sb_printf(&phones, " p%d", c);
                sb_printf(&text, "%s%c", spoken && spoken % 3 == 0 ? " " : "", 'a' + c);
                sb_printf(&ctm, "%s 1 %.2f %.2f p%d\n", id, T * 0.01, S * len * 0.01, c);
                spoken++;
            }
            for (int f = 0; f < S * len; f++, T++)
                for (int m = 0; m < nm; m++) fb[(size_t)T * nm + m] = ta[c * nm + m] + (float)(sd * rng_normal(&r));
        }
        sb_add(&phones, "\n");
        sb_add(&text, "\n");
        if (shard_writer_add(w, id, fb, T, NULL, 0)) avm_die("%s", avm_error());
        cmvn_acc_add(&acc, fb, T);
        ix[i] = (avm_index_entry){xstrdup(id), 0, i, T, 0};
    }
    if (shard_writer_close(w)) avm_die("%s", avm_error());
    char *ip = path_join(fdir, "index.tsv"), *cp = path_join(fdir, "cmvn.h5");
    if (index_write(ip, ix, n) || cmvn_write(cp, &acc)) avm_die("%s", avm_error());
    put(ddir, "phones", &phones);
    put(ddir, "phones.ctm", &ctm);
    put(ddir, "text", &text);
    put(ddir, "conditions", &cond);
    free(ip); free(cp); free(sp);
    index_free(ix, n);
    cmvn_acc_free(&acc);
    sb_free(&phones); sb_free(&text); sb_free(&cond); sb_free(&ctm);
    free(ta); free(fb); free(cfg);
    opts_free(&o);
    return 0;
}
