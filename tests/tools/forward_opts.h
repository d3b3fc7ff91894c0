/* The options of the forward tools (export_forward: --export, asr_forward: --model): the
 * input dir, the output dir, the shape and the seed of the random batch. Header-only. */
#ifndef AVMASK_FORWARD_OPTS_H
#define AVMASK_FORWARD_OPTS_H
#include "common/opts.h"
#include <stdio.h>

typedef struct { const char *in, *out; int B, T; long seed; } fwd_opts;

/* Parses --IN=DIR --out=DIR [--B=3 --T=20 --seed=1 --threads=N] and sets the threads. */
static inline void fwd_opts_parse(avm_opts *o, fwd_opts *a, const char *tool, const char *in, int argc, char **argv) {
    static avm_optdef table[] = {
        {OPT_STR, NULL, OPT_FIELD(fwd_opts, in), .meta = "DIR", .flags = OPT_REQ, .help = "input dir"},
        {OPT_STR, "out", OPT_FIELD(fwd_opts, out), .meta = "DIR", .flags = OPT_REQ, .help = "output dir"},
        {OPT_INT, "B", OPT_FIELD(fwd_opts, B), .def = "3", .lo = 1, .hi = 64, .help = "batch size"},
        {OPT_INT, "T", OPT_FIELD(fwd_opts, T), .def = "20", .lo = 6, .hi = 4096, .help = "tokens of the longest utterance"},
        {OPT_INT, "seed", OPT_FIELD(fwd_opts, seed), .def = "1", .help = "of the random input"},
        OPT_THREADS("OpenMP and OpenBLAS threads"),
        {OPT_END},
    };
    static char usage[256];
    static avm_optspec spec = {NULL, usage, table, NULL, NULL};
    snprintf(usage, sizeof usage, "usage: %s --%s=DIR --out=DIR [options]\n", tool, in);
    table[0].name = in;
    spec.cmd = tool;
    opts_parse(o, &spec, a, argc, argv);
    opts_threads(o);
}
#endif
