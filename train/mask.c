#include "train/mask.h"
#include <math.h>
#include <string.h>

static void mark(uint8_t *mask, int start, int len, int L) {
    int end = start + L < len ? start + L : len;
    for (int t = start; t < end; t++) mask[t] = 1;
}

int mask_spans(avm_rng *r, uint8_t *mask, int len, int T, double p, int L) {
    memset(mask, 0, (size_t)T);
    if (len <= 0 || p <= 0 || L <= 0) return 0;
    int spans = 0;
    for (int t = 0; t < len; t++)
        if (rng_uniform(r) < p) { mark(mask, t, len, L); spans++; }
    if (!spans && len >= L) mark(mask, (int)rng_below(r, (uint32_t)(len - L + 1)), len, L);
    int n = 0;
    for (int t = 0; t < len; t++) n += mask[t];
    return n;
}

double mask_expected_fraction(int len, double p, int L) {
    if (len <= 0) return 0;
    double s = 0;
    for (int t = 0; t < len; t++) s += 1.0 - pow(1.0 - p, t + 1 < L ? t + 1 : L);
    if (len >= L) s += pow(1.0 - p, len) * L;   /* the forced span when no start was drawn */
    return s / len;
}

void mask_substitute(avm_rng *r, const uint8_t *mask, int len, int T, const float *in, float *out, int dim) {
    size_t row = (size_t)dim * sizeof(float);
    memcpy(out, in, (size_t)T * row);
    for (int a = 0; a < len;) {
        if (!mask[a]) { a++; continue; }
        int n = 0;
        while (a + n < len && mask[a + n]) n++;
        int choices = len - n;              /* starts in [0, len-n] other than a */
        if (choices <= 0) memset(out + (size_t)a * dim, 0, (size_t)n * row);
        else {
            int u = (int)rng_below(r, (uint32_t)choices);
            if (u >= a) u++;
            memcpy(out + (size_t)a * dim, in + (size_t)u * dim, (size_t)n * row);
        }
        a += n;
    }
}
