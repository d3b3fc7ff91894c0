/* bench_adamw: times train/'s optimizer part of a step (global-norm clipping + AdamW) on
 * the parameter layout of a named model. One warm-up, then --reps timed updates; prints
 *   "seconds S1 S2 ... params N threads T"
 * --shapes prints the parameter shapes (one "decay dim dim ..." line per tensor) instead,
 * for the PyTorch side (tests/bench/bench_adamw.py). */
#include "common/opts.h"
#include "common/rng.h"
#include "common/util.h"
#include "models/avmodel.h"
#include "train/clip.h"
#include "train/optim.h"
#include <stdio.h>

typedef struct { const char *model; int reps, shapes; } bench_opts;

static const avm_optdef table[] = {
    {OPT_ENUM, "model", OPT_FIELD(bench_opts, model), .def = "base", .values = "tiny|small|base", .help = "named config"},
    {OPT_INT, "reps", OPT_FIELD(bench_opts, reps), .def = "7", .lo = 1, .hi = 1000, .help = "timed repetitions"},
    {OPT_FLAG, "shapes", OPT_FIELD(bench_opts, shapes), .help = "print the parameter shapes and exit"},
    OPT_THREADS("OpenMP and OpenBLAS threads"),
    {.type = OPT_END},
};
static const avm_optspec spec = {"bench_adamw", "usage: bench_adamw [options]\n", table, NULL, NULL};

int main(int argc, char **argv) {
    avm_opts o;
    bench_opts a;
    opts_parse(&o, &spec, &a, argc, argv);
    const char *name = a.model;
    int reps = a.reps, shapes = a.shapes;
    int threads = opts_threads(&o);
    avm_config c;
    avm_model m;
    if (avmodel_config_named(&c, name) || avmodel_init(&m, &c, 1)) avm_die("bench_adamw: %s", avm_error());
    avm_params *ps = &m.params;
    if (shapes) {
        for (int k = 0; k < ps->n; k++) {
            printf("%d", ps->p[k].decay);
            for (int i = 0; i < ps->p[k].ndim; i++) printf(" %d", ps->p[k].shape[i]);
            printf("\n");
        }
        return 0;
    }
    avm_rng r;
    rng_seed(&r, 3, 0);
    for (size_t i = 0; i < ps->total; i++) ps->grad[i] = (float)(0.01 * rng_normal(&r));
    avm_adamw opt;
    adamw_init(&opt, ps, 0.9, 0.98, 1e-6, 0.01);
    size_t n = 0;
    for (int k = 0; k < ps->n; k++) n += ps->p[k].numel;
    printf("seconds");
    for (int i = 0; i <= reps; i++) {
        double t = now_sec();
        clip_grad_norm(ps->grad, ps->total, 1.0);
        adamw_step(&opt, ps, 1e-4);
        if (i) printf(" %.6f", now_sec() - t);   /* rep 0 is the warm-up */
    }
    printf(" params %zu threads %d\n", n, threads);
    adamw_free(&opt);
    avmodel_free(&m);
    opts_free(&o);
    return 0;
}
