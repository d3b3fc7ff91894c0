/* Paired bootstrap over utterances (and seeds) of an error-rate difference (bootstrap.h). */
#include "eval/bootstrap.h"
#include "common/log.h"
#include "common/rng.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double boot_percentile(const double *x, int m, double q) {
    if (m <= 0) return NAN;
    double pos = q / 100 * (m - 1);
    int i = (int)floor(pos);
    if (i >= m - 1) return x[m - 1];
    return x[i] + (pos - i) * (x[i + 1] - x[i]);
}

int boot_paired(const double *d, const double *n, int k, int nu, int reps, int two_level,
                uint64_t seed, uint64_t stream, avm_boot *out) {
    double num = 0, den = 0;
    for (int u = 0; u < nu; u++) {
        den += n[u];
        for (int s = 0; s < k; s++) num += d[(size_t)s * nu + u];
    }
    if (k <= 0 || den <= 0) return avm_fail("no reference tokens to compare on");
    out->diff = 100 * num / (k * den);
    avm_rng r;
    rng_seed(&r, seed, stream);
    int *w = xmalloc(nu * sizeof *w), *c = xmalloc(k * sizeof *c);
    double *rep = xmalloc(reps * sizeof *rep);
    int m = 0;
    for (int b = 0; b < reps; b++) {
        for (int s = 0; s < k; s++) c[s] = two_level ? 0 : 1;
        if (two_level)
            for (int j = 0; j < k; j++) c[rng_below(&r, (uint32_t)k)]++;
        for (int u = 0; u < nu; u++) w[u] = 0;
        for (int j = 0; j < nu; j++) w[rng_below(&r, (uint32_t)nu)]++;
        double bn = 0, bd = 0;
        for (int u = 0; u < nu; u++) bd += w[u] * n[u];
        for (int s = 0; s < k; s++) {
            if (!c[s]) continue;
            const double *ds = d + (size_t)s * nu;
            double t = 0;
            for (int u = 0; u < nu; u++) t += w[u] * ds[u];
            bn += c[s] * t;
        }
        if (bd > 0) rep[m++] = 100 * bn / (k * bd);
    }
    qsort(rep, m, sizeof *rep, cmp_double);
    out->lo = boot_percentile(rep, m, 2.5);
    out->hi = boot_percentile(rep, m, 97.5);
    out->reps = m;
    free(w); free(c); free(rep);
    return 0;
}
