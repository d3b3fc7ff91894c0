/* Running CMVN statistics: per-dimension sum and sum of squares of fbank frames in
 * double, and pooled pixel statistics; accumulators from parallel jobs merge by
 * addition. */
#include "data/fbank.h"
#include "common/log.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cmvn_acc_init(avm_cmvn_acc *a, int dim) {
    memset(a, 0, sizeof *a);
    if (dim < 0) avm_die("cmvn: negative dimension %d", dim);
    a->dim = dim;
    a->sum = xcalloc(dim ? dim : 1, sizeof(double));
    a->sumsq = xcalloc(dim ? dim : 1, sizeof(double));
}

void cmvn_acc_add(avm_cmvn_acc *a, const float *feats, int64_t frames) {
    int d = a->dim;
    for (int64_t t = 0; t < frames; t++) {
        const float *f = feats + t * d;
        for (int j = 0; j < d; j++) {
            double v = f[j];
            a->sum[j] += v;
            a->sumsq[j] += v * v;
        }
    }
    a->count += (double)frames;
}

/* Integer partial sums are exact; flushed to double in blocks far below overflow
 * (255^2 * 2^20 per block). */
void cmvn_acc_add_pixels(avm_cmvn_acc *a, const uint8_t *px, int64_t n) {
    const int64_t block = 1 << 20;
    for (int64_t i0 = 0; i0 < n; i0 += block) {
        int64_t i1 = i0 + block < n ? i0 + block : n;
        uint64_t s = 0, s2 = 0;
        for (int64_t i = i0; i < i1; i++) {
            s += px[i];
            s2 += (uint64_t)px[i] * px[i];
        }
        a->pix_sum += (double)s;
        a->pix_sumsq += (double)s2;
    }
    a->pix_count += (double)n;
}

void cmvn_acc_merge(avm_cmvn_acc *dst, const avm_cmvn_acc *src) {
    if (dst->dim != src->dim) avm_die("cmvn: cannot merge statistics of dimension %d into %d", src->dim, dst->dim);
    for (int j = 0; j < dst->dim; j++) {
        dst->sum[j] += src->sum[j];
        dst->sumsq[j] += src->sumsq[j];
    }
    dst->count += src->count;
    dst->pix_sum += src->pix_sum;
    dst->pix_sumsq += src->pix_sumsq;
    dst->pix_count += src->pix_count;
}

void cmvn_acc_stats(const avm_cmvn_acc *a, double *mean, double *var, double *pix_mean, double *pix_std) {
    for (int j = 0; j < a->dim; j++) {
        double m = a->count > 0 ? a->sum[j] / a->count : 0;
        double v = a->count > 0 ? a->sumsq[j] / a->count - m * m : 0;
        if (mean) mean[j] = m;
        if (var) var[j] = v > 0 ? v : 0;   /* rounding can make a constant dim slightly negative */
    }
    double pm = a->pix_count > 0 ? a->pix_sum / a->pix_count : 0;
    double pv = a->pix_count > 0 ? a->pix_sumsq / a->pix_count - pm * pm : 0;
    if (pix_mean) *pix_mean = pm;
    if (pix_std) *pix_std = pv > 0 ? sqrt(pv) : 0;
}

void cmvn_acc_free(avm_cmvn_acc *a) {
    free(a->sum);
    free(a->sumsq);
    a->sum = a->sumsq = NULL;
    a->dim = 0;
}
