/* train/mask.c: span masking statistics, span shape, the at-least-one-span rule and
 * determinism of the (seed, purpose, step, sample) keyed generators. */
#include "check.h"
#include "train/mask.h"
#include "train/seeding.h"
#include <string.h>

/* Mean masked fraction over many samples against the exact expectation
 * 1/len * sum_t 1-(1-p)^min(t+1,L); the standard error of the mean is below 0.003
 * here, the tolerance 0.01. Every run of masked tokens is >= L long unless it was
 * clipped by the end of the sample. */
static void test_stats(int len, double p, int L) {
    uint8_t m[512];
    int n = 3000, short_runs = 0;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        avm_rng r;
        train_rng(&r, 11, SEED_MASK_AUDIO, 5, i);
        int k = mask_spans(&r, m, len, len + 7, p, L);
        int cnt = 0;
        for (int t = 0; t < len + 7; t++) cnt += m[t];
        CHECK(cnt == k);
        CHECK(!m[len] && !m[len + 6]);                 /* padding never masked */
        for (int t = 0, run = 0; t <= len; t++) {
            if (t < len && m[t]) { run++; continue; }
            if (run && run < L && t != len) short_runs++;
            run = 0;
        }
        sum += (double)k / len;
    }
    double expect = mask_expected_fraction(len, p, L);
    CHECK_NEAR(sum / n, expect, 0.01);
    CHECK(short_runs == 0);
    printf("len %d p %.3f L %d: masked %.4f expected %.4f\n", len, p, L, sum / n, expect);
}

static void test_guarantee(void) {
    uint8_t m[64];
    avm_rng r;
    int exact = 1, none_short = 1;
    for (int i = 0; i < 200; i++) {
        train_rng(&r, 3, SEED_MASK_VIDEO, i, 0);
        exact &= mask_spans(&r, m, 30, 64, 1e-12, 10) == 10;   /* no start drawn: one forced span */
        none_short &= mask_spans(&r, m, 6, 64, 1e-12, 10) == 0; /* shorter than L: no guarantee */
    }
    CHECK(exact);
    CHECK(none_short);
    CHECK(mask_spans(&r, m, 30, 64, 0.0, 10) == 0);            /* p = 0 disables masking */
    CHECK(mask_spans(&r, m, 30, 64, 1.0, 10) == 30);
}

static void test_determinism(void) {
    uint8_t a[100], b[100];
    avm_rng r1, r2;
    train_rng(&r1, 42, SEED_MASK_AUDIO, 17, 3);
    train_rng(&r2, 42, SEED_MASK_AUDIO, 17, 3);
    mask_spans(&r1, a, 100, 100, 0.08, 10);
    mask_spans(&r2, b, 100, 100, 0.08, 10);
    CHECK(!memcmp(a, b, 100));
    int differ = 0;
    int64_t keys[4][3] = {{43, 17, 3}, {42, 18, 3}, {42, 17, 4}, {42, 17, 3}};
    for (int k = 0; k < 4; k++) {
        train_rng(&r2, (uint64_t)keys[k][0], k == 3 ? SEED_MASK_VIDEO : SEED_MASK_AUDIO, keys[k][1], keys[k][2]);
        mask_spans(&r2, b, 100, 100, 0.08, 10);
        differ += memcmp(a, b, 100) != 0;
    }
    CHECK(differ == 4);   /* seed, step, sample and purpose each change the mask */
}

/* Substitution: unmasked rows unchanged; every masked run holds the frames of a run of the
 * same length elsewhere in the sample (rows here carry their index, so the source is
 * readable), never its own; a run over the whole sample becomes zeros; padding copied. */
static void test_substitute(void) {
    enum { T = 40, DIM = 3 };
    float in[T * DIM], out[T * DIM];
    for (int t = 0; t < T; t++) for (int j = 0; j < DIM; j++) in[t * DIM + j] = (float)(t + 1) + 0.25f * j;
    int own = 0, runs = 0, starts[T] = {0};
    for (int i = 0; i < 400; i++) {
        avm_rng r;
        uint8_t m[T];
        train_rng(&r, 3, SEED_MASK_VIDEO, 1, i);
        int len = 30;
        mask_spans(&r, m, len, T, 0.06, 5);
        train_rng(&r, 3, SEED_VIDEO_SUBST, 1, i);
        mask_substitute(&r, m, len, T, in, out, DIM);
        for (int t = 0; t < T; t++)
            if (t >= len || !m[t]) CHECK(!memcmp(out + t * DIM, in + t * DIM, sizeof(float) * DIM));
        for (int a = 0; a < len;) {
            if (!m[a]) { a++; continue; }
            int n = 0;
            while (a + n < len && m[a + n]) n++;
            int u = (int)out[a * DIM] - 1;         /* the source row of the run's first frame */
            CHECK(u >= 0 && u + n <= len);
            for (int k = 0; k < n; k++)
                for (int j = 0; j < DIM; j++) CHECK(out[(a + k) * DIM + j] == in[(u + k) * DIM + j]);
            own += u == a;
            starts[u]++;
            runs++;
            a += n;
        }
    }
    CHECK(runs > 300 && own == 0);
    int used = 0;
    for (int t = 0; t < T; t++) used += starts[t] > 0;
    CHECK(used >= 20);                             /* sources spread over the sample */
    uint8_t all[T];
    memset(all, 1, sizeof all);
    avm_rng r;
    train_rng(&r, 3, SEED_VIDEO_SUBST, 2, 0);
    mask_substitute(&r, all, 10, T, in, out, DIM);
    for (int t = 0; t < 10 * DIM; t++) CHECK(out[t] == 0.0f);
    CHECK(!memcmp(out + 10 * DIM, in + 10 * DIM, sizeof(float) * (T - 10) * DIM));
}

int main(void) {
    test_substitute();
    test_stats(200, MASK_DEFAULT_P_AUDIO, MASK_DEFAULT_L_AUDIO);
    test_stats(40, MASK_DEFAULT_P_VIDEO, MASK_DEFAULT_L_VIDEO);
    test_stats(25, 0.3, 3);
    test_guarantee();
    test_determinism();
    return check_done("test_train_mask");
}
