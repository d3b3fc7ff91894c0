/* eval/specaug: time masks zero whole tokens (all stacked frames), as many as
 * mask_spans reports, at the rate mask_expected_fraction predicts; frequency masks zero
 * at most n bands of at most w bins, the same bins in every frame of a sample; padding
 * and everything else is untouched; the draws repeat for the same (seed, step) and
 * differ for another step. */
#include "check.h"
#include "common/util.h"
#include "train/specaug.h"
#include "train/mask.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { B = 3, T = 60, NM = 10, ST = 4, DIM = NM * ST };

static void fill(avm_batch_data *d, float *x, int *len, int *gidx) {
    memset(d, 0, sizeof *d);
    d->B = B; d->T = T; d->len = len; d->audio = x; d->gidx = gidx;
    len[0] = 60; len[1] = 41; len[2] = 7;
    for (int b = 0; b < B; b++) {
        gidx[b] = 10 + b;
        for (int t = 0; t < T; t++)
            for (int j = 0; j < DIM; j++)   /* never 0 inside a sample, 0 in padding */
                x[((size_t)b * T + t) * DIM + j] = t < len[b] ? 1.0f + (float)(b * 1000 + t * DIM + j) : 0.0f;
    }
}

static void test_time(void) {
    static float x[B * T * DIM];
    int len[B], gidx[B];
    avm_batch_data d;
    avm_specaug s = {0.08, 5, 0, 0};
    double zero_tokens = 0, tokens = 0, expect = 0;
    int bad = 0;
    for (long step = 0; step < 300; step++) {
        fill(&d, x, len, gidx);
        long masked = specaug_apply(&s, &d, NM, ST, 7, step);
        long zeros = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                const float *r = x + ((size_t)b * T + t) * DIM;
                int nz = 0;
                for (int j = 0; j < DIM; j++) nz += r[j] == 0;
                if (t >= len[b]) { bad += nz != DIM; continue; }   /* padding stays 0 */
                bad += nz != 0 && nz != DIM;                        /* a whole token or nothing */
                for (int j = 0; j < DIM && nz == 0; j++) bad += r[j] != 1.0f + (float)(b * 1000 + t * DIM + j);
                zeros += nz == DIM;
            }
        bad += zeros != masked;
        zero_tokens += zeros;
    }
    for (int b = 0; b < B; b++) {
        tokens += 300.0 * len[b];
        expect += 300.0 * len[b] * mask_expected_fraction(len[b], s.time_p, s.time_len);
    }
    CHECK_MSG(bad == 0, "%d malformed tokens", bad);
    CHECK_NEAR(zero_tokens / tokens, expect / tokens, 0.02);
}

static void test_freq(void) {
    static float x[B * T * DIM];
    int len[B], gidx[B];
    avm_batch_data d;
    avm_specaug s = {0, 5, 2, 3};
    int bad = 0, some = 0;
    for (long step = 0; step < 100; step++) {
        fill(&d, x, len, gidx);
        specaug_apply(&s, &d, NM, ST, 7, step);
        for (int b = 0; b < B; b++) {
            int zbin[NM] = {0};
            for (int m = 0; m < NM; m++) zbin[m] = x[((size_t)b * T) * DIM + m] == 0;
            int bands = 0, run = 0, longest = 0, nzero = 0;
            for (int m = 0; m < NM; m++) {
                nzero += zbin[m];
                run = zbin[m] ? run + 1 : 0;
                if (run > longest) longest = run;
                bands += zbin[m] && (m == 0 || !zbin[m - 1]);
            }
            bad += nzero > 2 * 3 || bands > 2;   /* two bands of <= 3 bins (they may touch) */
            some += nzero > 0;
            for (int t = 0; t < len[b]; t++)     /* the same bins in every frame */
                for (int k = 0; k < ST; k++)
                    for (int m = 0; m < NM; m++) {
                        float v = x[((size_t)b * T + t) * DIM + k * NM + m];
                        bad += zbin[m] ? v != 0 : v != 1.0f + (float)(b * 1000 + t * DIM + k * NM + m);
                    }
        }
    }
    CHECK_MSG(bad == 0, "%d wrong values", bad);
    CHECK(some > 150);   /* widths 0..3: most samples have a masked bin */
}

static void test_repeat(void) {
    static float a[B * T * DIM], b[B * T * DIM];
    int len[B], gidx[B];
    avm_batch_data d;
    avm_specaug s = {0.08, 5, 2, 3};
    fill(&d, a, len, gidx);
    specaug_apply(&s, &d, NM, ST, 7, 5);
    fill(&d, b, len, gidx);
    specaug_apply(&s, &d, NM, ST, 7, 5);
    CHECK(memcmp(a, b, sizeof a) == 0);
    fill(&d, b, len, gidx);
    specaug_apply(&s, &d, NM, ST, 7, 6);
    CHECK(memcmp(a, b, sizeof a) != 0);
    avm_specaug off = {0, 5, 0, 20};
    CHECK(!specaug_active(&off) && specaug_active(&s));
}

int main(void) {
    test_time();
    test_freq();
    test_repeat();
    return check_done("test_specaug");
}
