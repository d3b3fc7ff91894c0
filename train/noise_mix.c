/* Adding noise to speech in the log-mel domain (see noise.h). */
#include "train/noise.h"
#include <math.h>

double noise_gain(const float *speech, const float *noise, size_t n, double snr_db) {
    double ps = 0, pn = 0;   /* double: thousands of terms spanning many decades */
    for (size_t i = 0; i < n; i++) {
        ps += exp((double)speech[i]);
        pn += exp((double)noise[i]);
    }
    return ps / (pn * pow(10.0, snr_db / 10.0));
}

void noise_add_logmel(float *out, const float *speech, const float *noise, size_t n, double g) {
    float lg = (float)log(g);
    for (size_t i = 0; i < n; i++) {
        /* log-add-exp around the larger term: no overflow, no loss of the smaller one */
        float a = speech[i], b = noise[i] + lg;
        float hi = a > b ? a : b, lo = a > b ? b : a;
        out[i] = hi + log1pf(expf(lo - hi));
    }
}
