/* fbank_dump: computes fbank features of a 16-bit PCM WAV file with data/fbank and
 * writes them as raw float32 [frames, n_mels] (for parity tests against torchaudio).
 * Prints "frames N" on stdout. */
#include "common/opts.h"
#include "common/util.h"
#include "data/fbank.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { avm_fbank_opts fo; int pcm; } dump_opts;

/* defaults: fbank_default_opts's (Kaldi's) */
#define F(f) OPT_FIELD(dump_opts, f)
static const avm_optdef table[] = {
    {OPT_INT, "sample-rate", F(fo.sample_rate), .lo = 1, .hi = 1000000, .meta = "N",
     .help = "override the WAV header's rate (default: the header's)"},
    {OPT_INT, "n-mels", F(fo.n_mels), .def = "80", .help = "mel bins"},
    {OPT_NUM, "low-freq", F(fo.low_freq), .def = "20", .help = "Hz"},
    {OPT_NUM, "high-freq", F(fo.high_freq), .def = "0", .help = "Hz (0: Nyquist; negative: Nyquist + this)"},
    {OPT_NUM, "frame-length", F(fo.frame_length_ms), .def = "25", .help = "ms"},
    {OPT_NUM, "frame-shift", F(fo.frame_shift_ms), .def = "10", .help = "ms"},
    {OPT_NUM, "preemph", F(fo.preemph), .def = "0.97", .help = "pre-emphasis coefficient"},
    {OPT_FLAG, "remove-dc", F(fo.remove_dc), .def = "1", .help = "subtract each frame's mean"},
    {OPT_FLAG, "snip-edges", F(fo.snip_edges), .def = "1", .help = "only frames that fit in the signal"},
    {OPT_FLAG, "use-log", F(fo.use_log), .def = "1", .help = "log mel energies"},
    {OPT_FLAG, "use-power", F(fo.use_power), .def = "1", .help = "power, not magnitude"},
    {OPT_NUM, "energy-floor", F(fo.energy_floor), .def = "0", .help = "floor of the mel energies"},
    {OPT_FLAG, "pcm", F(pcm), .help = "pass samples / 32768 to fbank_compute_pcm instead"},
    {.type = OPT_END},
};
static const avm_optspec spec = {"fbank_dump", "usage: fbank_dump [options] in.wav out.f32\n", table, "in.wav out.f32", NULL};

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Minimal RIFF/WAVE reader: mono 16-bit PCM; walks chunks to "fmt " and "data". */
static int16_t *read_wav(const char *path, int64_t *n, int *rate) {
    size_t len;
    unsigned char *b = (unsigned char *)read_file(path, &len);
    if (!b) avm_die("%s", avm_error());
    if (len < 12 || memcmp(b, "RIFF", 4) || memcmp(b + 8, "WAVE", 4)) avm_die("%s: not a RIFF/WAVE file", path);
    int have_fmt = 0;
    for (size_t p = 12; p + 8 <= len;) {
        uint32_t sz = le32(b + p + 4);
        const unsigned char *c = b + p + 8;
        if (sz > len - p - 8) avm_die("%s: chunk runs past the end of the file", path);
        if (!memcmp(b + p, "fmt ", 4)) {
            if (sz < 16) avm_die("%s: short fmt chunk", path);
            if (le16(c) != 1 || le16(c + 2) != 1 || le16(c + 14) != 16)
                avm_die("%s: not mono 16-bit PCM (format %d, %d channels, %d bits)", path, le16(c), le16(c + 2),
                        le16(c + 14));
            *rate = (int)le32(c + 4);
            have_fmt = 1;
        } else if (!memcmp(b + p, "data", 4)) {
            if (!have_fmt) avm_die("%s: data chunk before fmt chunk", path);
            *n = sz / 2;
            int16_t *s = xmalloc((size_t)(*n ? *n : 1) * sizeof(int16_t));
            for (int64_t i = 0; i < *n; i++) s[i] = (int16_t)le16(c + 2 * i);
            free(b);
            return s;
        }
        p += 8 + sz + (sz & 1);
    }
    avm_die("%s: no data chunk", path);
}

int main(int argc, char **argv) {
    avm_opts o;
    dump_opts a;
    opts_parse(&o, &spec, &a, argc, argv);
    if (o.npos != 2) avm_die("fbank_dump: need in.wav and out.f32 (see --help)");
    int64_t n;
    int rate = 0;
    int16_t *pcm = read_wav(o.pos[0], &n, &rate);
    avm_fbank_opts fo = a.fo;
    if (!opts_given(&o, "sample-rate")) fo.sample_rate = rate;
    int use_pcm = a.pcm;

    avm_fbank *fb = fbank_new(&fo);
    if (!fb) {   /* free first so that the sanitizer build sees no leak on this path */
        const char *in = o.pos[0];
        free(pcm);
        opts_free(&o);
        avm_die("%s: %s", in, avm_error());
    }
    float *x = xmalloc((size_t)(n ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) x[i] = use_pcm ? pcm[i] / 32768.0f : pcm[i];
    int frames = fbank_num_frames(fb, n);
    float *feat = xmalloc((size_t)(frames ? frames : 1) * fo.n_mels * sizeof(float));
    if (use_pcm) fbank_compute_pcm(fb, x, n, feat);
    else fbank_compute(fb, x, n, feat);
    if (write_file_atomic(o.pos[1], feat, (size_t)frames * fo.n_mels * sizeof(float)) < 0)
        avm_die("%s", avm_error());
    printf("frames %d\n", frames);
    free(feat);
    free(x);
    free(pcm);
    fbank_free(fb);
    opts_free(&o);
    return 0;
}
