/* k-means arithmetic (kmeans.h). Rows are processed in chunks of CHUNK: each thread runs
 * its own small sgemm (OpenBLAS's OpenMP build runs one thread inside a parallel region),
 * so the [CHUNK, k] distance block stays in cache and the argmin needs no second pass. */
#include "cluster/kmeans.h"
#include "common/rng.h"
#include "common/util.h"
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 256

void km_centres_init(km_centres *C, int k, int dim) {
    C->k = k;
    C->dim = dim;
    C->c = xcalloc((size_t)k * dim, sizeof(float));
    C->cn = xcalloc(k, sizeof(float));
}

void km_centres_update_norms(km_centres *C) {
    for (int j = 0; j < C->k; j++) {
        double s = 0;
        for (int d = 0; d < C->dim; d++) s += (double)C->c[(size_t)j * C->dim + d] * C->c[(size_t)j * C->dim + d];
        C->cn[j] = (float)s;
    }
}

void km_centres_free(km_centres *C) {
    free(C->c);
    free(C->cn);
    memset(C, 0, sizeof *C);
}

void km_acc_init(km_acc *a, int k, int dim) {
    a->k = k;
    a->dim = dim;
    a->nthr = omp_get_max_threads();
    a->sum = xcalloc((size_t)a->nthr * k * dim, sizeof(double));
    a->cnt = xcalloc((size_t)a->nthr * k, sizeof(double));
}

void km_acc_zero(km_acc *a) {
    memset(a->sum, 0, sizeof(double) * a->nthr * a->k * a->dim);
    memset(a->cnt, 0, sizeof(double) * a->nthr * a->k);
}

int km_acc_update(km_acc *a, km_centres *C) {
    int empty = 0;
    size_t kd = (size_t)a->k * a->dim;
    for (int j = 0; j < a->k; j++) {
        double n = 0;
        for (int t = 0; t < a->nthr; t++) n += a->cnt[(size_t)t * a->k + j];
        if (n == 0) { empty++; continue; }
        for (int d = 0; d < a->dim; d++) {
            double s = 0;
            for (int t = 0; t < a->nthr; t++) s += a->sum[t * kd + (size_t)j * a->dim + d];
            C->c[(size_t)j * a->dim + d] = (float)(s / n);
        }
    }
    km_centres_update_norms(C);
    return empty;
}

void km_acc_free(km_acc *a) {
    free(a->sum);
    free(a->cnt);
    memset(a, 0, sizeof *a);
}

/* Squared distances of rows x [n, dim] to centres c [k, dim]: out [n, k], >= 0. */
static void chunk_dist(const float *x, int n, int dim, const float *c, const float *cn, int k, float *out) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, k, dim, -2.0f, x, dim, c, dim, 0.0f, out, k);
    for (int r = 0; r < n; r++) {
        double xn = 0;
        for (int d = 0; d < dim; d++) xn += (double)x[(size_t)r * dim + d] * x[(size_t)r * dim + d];
        float *o = out + (size_t)r * k;
        for (int j = 0; j < k; j++) {
            float v = (float)xn + o[j] + cn[j];
            o[j] = v > 0 ? v : 0;   /* rounding can push a near-zero distance below 0 */
        }
    }
}

double km_assign(const km_centres *C, const float *x, int n, int32_t *lab, float *d2, km_acc *acc) {
    int nchunk = (n + CHUNK - 1) / CHUNK, k = C->k, dim = C->dim;
    double *part = xcalloc(nchunk + 1, sizeof(double));
#pragma omp parallel
    {
        float *dist = xmalloc(sizeof(float) * CHUNK * k);
        int tid = omp_get_thread_num();
#pragma omp for schedule(static)
        for (int ch = 0; ch < nchunk; ch++) {
            int r0 = ch * CHUNK, rows = n - r0 < CHUNK ? n - r0 : CHUNK;
            chunk_dist(x + (size_t)r0 * dim, rows, dim, C->c, C->cn, k, dist);
            double s = 0;
            for (int r = 0; r < rows; r++) {
                const float *o = dist + (size_t)r * k;
                int best = 0;
                for (int j = 1; j < k; j++)
                    if (o[j] < o[best]) best = j;
                s += o[best];
                if (lab) lab[r0 + r] = best;
                if (d2) d2[r0 + r] = o[best];
                if (acc) {   /* km_acc_init saw this thread count */
                    double *sum = acc->sum + ((size_t)tid * k + best) * dim;
                    const float *xr = x + (size_t)(r0 + r) * dim;
                    for (int d = 0; d < dim; d++) sum[d] += xr[d];
                    acc->cnt[(size_t)tid * k + best] += 1;
                }
            }
            part[ch] = s;
        }
        free(dist);
    }
    double inertia = 0;
    for (int ch = 0; ch < nchunk; ch++) inertia += part[ch];
    free(part);
    return inertia;
}

/* First index whose cumulative sum reaches v (numpy searchsorted, side left), clipped. */
static int search_cum(const double *cum, int n, double v) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (cum[mid] >= v) hi = mid; else lo = mid + 1;
    }
    return lo;
}

/* dist [n, trials] of candidates; returns the best candidate's column after computing
 * each candidate's potential sum_i min(closest_i, dist_i). */
static int best_candidate(const float *dist, const float *closest, int n, int trials) {
    int best = 0;
    double best_pot = INFINITY;
    for (int t = 0; t < trials; t++) {
        double pot = 0;
#pragma omp parallel for reduction(+ : pot) schedule(static)
        for (int i = 0; i < n; i++) {
            float d = dist[(size_t)i * trials + t];
            pot += d < closest[i] ? d : closest[i];
        }
        if (pot < best_pot) { best_pot = pot; best = t; }
    }
    return best;
}

void km_plusplus(const float *x, int n, int dim, km_centres *C, uint64_t seed) {
    int k = C->k, trials = 2 + (int)log(k);
    avm_rng r;
    rng_seed(&r, seed, 0x6b6d2b2b);   /* "km++" stream */
    float *closest = xmalloc(sizeof(float) * n), *dist = xmalloc(sizeof(float) * (size_t)n * trials);
    float *cand = xmalloc(sizeof(float) * (size_t)trials * dim), *cn = xmalloc(sizeof(float) * trials);
    double *cum = xmalloc(sizeof(double) * n);
    int *ids = xmalloc(sizeof(int) * trials);
    memcpy(C->c, x + (size_t)rng_below(&r, (uint32_t)n) * dim, sizeof(float) * dim);
    km_centres_update_norms(C);
    km_centres first = {1, dim, C->c, C->cn};
    km_assign(&first, x, n, NULL, closest, NULL);
    for (int c = 1; c < k; c++) {
        double s = 0;
        for (int i = 0; i < n; i++) cum[i] = s += closest[i];
        for (int t = 0; t < trials; t++) {
            ids[t] = search_cum(cum, n, rng_uniform(&r) * s);
            memcpy(cand + (size_t)t * dim, x + (size_t)ids[t] * dim, sizeof(float) * dim);
            double q = 0;
            for (int d = 0; d < dim; d++) q += (double)cand[(size_t)t * dim + d] * cand[(size_t)t * dim + d];
            cn[t] = (float)q;
        }
        int nchunk = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static)
        for (int ch = 0; ch < nchunk; ch++) {
            int r0 = ch * CHUNK, rows = n - r0 < CHUNK ? n - r0 : CHUNK;
            chunk_dist(x + (size_t)r0 * dim, rows, dim, cand, cn, trials, dist + (size_t)r0 * trials);
        }
        int b = best_candidate(dist, closest, n, trials);
        memcpy(C->c + (size_t)c * dim, cand + (size_t)b * dim, sizeof(float) * dim);
        for (int i = 0; i < n; i++)
            if (dist[(size_t)i * trials + b] < closest[i]) closest[i] = dist[(size_t)i * trials + b];
    }
    km_centres_update_norms(C);
    free(closest); free(dist); free(cand); free(cn); free(cum); free(ids);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

void km_hash(const char *source, const km_centres *C, const double *mean, const double *std, char out[17]) {
    uint64_t h = 0xcbf29ce484222325ULL;
    int32_t kd[2] = {C->k, C->dim};
    h = fnv(h, source, strlen(source) + 1);
    h = fnv(h, kd, sizeof kd);
    h = fnv(h, C->c, sizeof(float) * C->k * C->dim);
    if (mean) h = fnv(h, mean, sizeof(double) * C->dim);
    if (std) h = fnv(h, std, sizeof(double) * C->dim);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void km_hash_bytes(const void *p, size_t n, char out[17]) {
    snprintf(out, 17, "%016llx", (unsigned long long)fnv(0xcbf29ce484222325ULL, p, n));
}
