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

int main(int argc, char **argv) {
    avm_opts o;
    opts_parse(&o, "bench_adamw", "usage: bench_adamw [--model=base] [--reps=7] [--threads=N] [--shapes]\n",
               argc, argv);
    const char *name = opt_str(&o, "model", "base");
    int reps = (int)opt_int_range(&o, "reps", 7, 1, 1000), shapes = opt_bool(&o, "shapes", 0);
    int threads = opts_threads(&o);
    opts_finish(&o);
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
