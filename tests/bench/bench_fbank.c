/* bench_fbank: times data/fbank on raw int16 utterances (one file each, 16 kHz).
 * One warm-up pass, then --passes timed passes over all files; prints
 * "seconds_per_pass S audio_seconds A threads T" on stdout. With --threads above 1
 * the utterances are shared among OpenMP threads, as extraction does. */
#include "common/opts.h"
#include "common/util.h"
#include "data/fbank.h"
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int threads, passes; } bench_opts;

static const avm_optdef table[] = {
    {OPT_INT, "threads", OPT_FIELD(bench_opts, threads), .def = "1", .lo = 1, .hi = 256, .help = "utterances at once"},
    {OPT_INT, "passes", OPT_FIELD(bench_opts, passes), .def = "10", .lo = 1, .hi = 100000, .help = "timed passes"},
    {.type = OPT_END},
};
static const avm_optspec spec = {"bench_fbank", "usage: bench_fbank [options] utt1.raw [utt2.raw ...]\n", table,
                                 "utt1.raw ...", NULL};

typedef struct {
    float *x;
    int64_t n;
    float *out;
} utt;

static void load(utt *u, const char *path, const avm_fbank *fb) {
    size_t len;
    char *b = read_file(path, &len);
    if (!b) avm_die("%s", avm_error());
    u->n = (int64_t)(len / 2);
    u->x = xmalloc((size_t)(u->n ? u->n : 1) * sizeof(float));
    for (int64_t i = 0; i < u->n; i++) {
        int16_t s;
        memcpy(&s, b + 2 * i, 2);
        u->x[i] = s;
    }
    free(b);
    u->out = xmalloc((size_t)(fbank_num_frames(fb, u->n) + 1) * 80 * sizeof(float));
}

static void pass(const avm_fbank *fb, utt *u, int n) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < n; i++) fbank_compute(fb, u[i].x, u[i].n, u[i].out);
}

int main(int argc, char **argv) {
    avm_opts o;
    bench_opts a;
    opts_parse(&o, &spec, &a, argc, argv);
    int threads = a.threads, passes = a.passes;
    if (o.npos < 1) avm_die("bench_fbank: no input files (see --help)");
    omp_set_num_threads(threads);
    avm_fbank_opts fo;
    fbank_default_opts(&fo);
    avm_fbank *fb = fbank_new(&fo);
    if (!fb) avm_die("%s", avm_error());
    utt *u = xcalloc(o.npos, sizeof *u);
    double audio = 0;
    for (int i = 0; i < o.npos; i++) {
        load(&u[i], o.pos[i], fb);
        audio += u[i].n / 16000.0;
    }
    pass(fb, u, o.npos);   /* warm-up: caches, FFT slots for every thread */
    double t0 = now_sec();
    for (int p = 0; p < passes; p++) pass(fb, u, o.npos);
    double dt = (now_sec() - t0) / passes;
    printf("seconds_per_pass %.6f audio_seconds %.3f threads %d\n", dt, audio, threads);
    for (int i = 0; i < o.npos; i++) { free(u[i].x); free(u[i].out); }
    free(u);
    fbank_free(fb);
    opts_free(&o);
    return 0;
}
