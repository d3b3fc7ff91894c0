/* bench_kmeans: one streamed-Lloyd pass of cluster/'s k-means (assignment through sgemm +
 * the per-centre sums + the centre update) over vectors held in memory, in blocks of
 * --batch rows as `avmask kmeans` streams them, so the figure is the clustering alone
 * (not HDF5 reads or MFCC). One warm-up pass, then --reps timed passes; prints
 *   "seconds S1 S2 ... rows N dim D k K threads T"
 *   bench_kmeans --data=X.f32 --dim=39 --k=100 [--batch=8192 --reps=5 --threads=N] */
#include "cluster/kmeans.h"
#include "common/opts.h"
#include "common/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const char *data; int dim, k, batch, reps; } bench_opts;

#define F(f) OPT_FIELD(bench_opts, f)
static const avm_optdef table[] = {
    {OPT_STR, "data", F(data), .meta = "X.f32", .flags = OPT_REQ, .help = "raw float32 vectors [n, dim]"},
    {OPT_INT, "dim", F(dim), .def = "39", .lo = 1, .hi = 100000, .help = "vector size"},
    {OPT_INT, "k", F(k), .def = "100", .lo = 1, .hi = 100000, .help = "clusters"},
    {OPT_INT, "batch", F(batch), .def = "8192", .lo = 1, .hi = 1 << 24, .help = "vectors per block"},
    {OPT_INT, "reps", F(reps), .def = "5", .lo = 1, .hi = 1000, .help = "timed repetitions"},
    OPT_THREADS("OpenMP and OpenBLAS threads"),
    {.type = OPT_END},
};
static const avm_optspec spec = {"bench_kmeans", "usage: bench_kmeans --data=X.f32 [options]\n", table, NULL, NULL};

int main(int argc, char **argv) {
    avm_opts o;
    bench_opts a;
    opts_parse(&o, &spec, &a, argc, argv);
    const char *data = a.data;
    int dim = a.dim, k = a.k, batch = a.batch, reps = a.reps;
    int threads = opts_threads(&o);
    size_t len;
    char *raw = read_file(data, &len);
    if (!raw) avm_die("%s", avm_error());
    int n = (int)(len / (sizeof(float) * dim));
    if (n < k) avm_die("bench_kmeans: %d rows, fewer than k", n);
    float *x = xmalloc(sizeof(float) * (size_t)n * dim);
    memcpy(x, raw, sizeof(float) * (size_t)n * dim);
    free(raw);
    km_centres C;
    km_centres_init(&C, k, dim);
    memcpy(C.c, x, sizeof(float) * k * dim);   /* the first k rows, as the Python side */
    km_centres_update_norms(&C);
    km_acc acc;
    km_acc_init(&acc, k, dim);
    printf("seconds");
    for (int r = 0; r <= reps; r++) {
        double t = now_sec();
        km_acc_zero(&acc);
        for (int i = 0; i < n; i += batch)
            km_assign(&C, x + (size_t)i * dim, n - i < batch ? n - i : batch, NULL, NULL, &acc);
        km_acc_update(&acc, &C);
        if (r) printf(" %.6f", now_sec() - t);   /* pass 0 is the warm-up */
        memcpy(C.c, x, sizeof(float) * k * dim);   /* every pass from the same centres */
        km_centres_update_norms(&C);
    }
    printf(" rows %d dim %d k %d threads %d\n", n, dim, k, threads);
    km_acc_free(&acc);
    km_centres_free(&C);
    free(x);
    opts_free(&o);
    return 0;
}
