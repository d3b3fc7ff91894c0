/* The CTC loss op (models/ops_ctc.c): hand-computed cases, greedy decoding
 * (train/ctc_head.c), a workspace reused across calls (bit for bit the results of scratch
 * allocated per call, no reallocation once reserved), and parity with PyTorch's ctc_loss (tests/ref/ctc_ref.py, float64) on a random batch that includes empty
 * targets, repeated labels, T == minimal length, and impossible utterances.
 * Tolerance: 1e-4 relative (plus 1e-6 absolute for gradients near zero). */
#include "check.h"
#include "common/rng.h"
#include "common/util.h"
#include "models/ops.h"
#include "train/ctc_head.h"
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define REL 1e-4

static int near_rel(double a, double b, double abs_tol) {
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= REL * fabs(b) + abs_tol;
}

static void test_hand(void) {
    /* uniform over V=2: every path has probability 2^-T */
    float x[3 * 2] = {0};
    int one[1] = {1}, rep[2] = {1, 1};
    CHECK_NEAR(ctc_nll((float[]){-0.1f, -2.3f}, 1, 2, one, 1, NULL), 2.3, 1e-6);
    float lp[6];
    ctc_log_softmax(x, 3, 2, lp);
    /* T=2, "1": paths 11, 01, 10 -> p = 3/4 */
    CHECK_NEAR(ctc_nll(lp, 2, 2, one, 1, NULL), -log(0.75), 1e-6);
    /* T=3, "1 1": only 1 0 1 -> p = 1/8; T=2 impossible */
    CHECK_NEAR(ctc_nll(lp, 3, 2, rep, 2, NULL), 3 * log(2.0), 1e-6);
    CHECK(isinf(ctc_nll(lp, 2, 2, rep, 2, NULL)));
    /* empty target: all blanks */
    CHECK_NEAR(ctc_nll(lp, 3, 2, NULL, 0, NULL), 3 * log(2.0), 1e-6);
    /* posteriors of the forced path 1 0 1 are one-hot */
    float g[6];
    ctc_nll(lp, 3, 2, rep, 2, g);
    CHECK_NEAR(g[1], 1, 1e-6); CHECK_NEAR(g[2], 1, 1e-6); CHECK_NEAR(g[5], 1, 1e-6);
    CHECK_NEAR(g[0] + g[3] + g[4], 0, 1e-6);
    /* bad labels are an error, not a crash */
    int bad[1] = {2}, T1 = 1, L1 = 1;
    avm_ctc_opts o = {CTC_SUM, 0, 0};
    CHECK(isnan(ctc_loss(x, &T1, 1, 2, bad, &L1, &o, NULL, NULL, NULL)));
}

static void test_greedy(void) {
    int path[] = {0, 1, 1, 0, 1, 2, 2, 0, 0, 3};
    float s[10 * 4];
    for (int t = 0; t < 10; t++)
        for (int k = 0; k < 4; k++) s[t * 4 + k] = k == path[t] ? 1.f : -1.f;
    int out[10];
    int n = ctc_greedy(s, 10, 4, out);
    CHECK(n == 4 && out[0] == 1 && out[1] == 1 && out[2] == 2 && out[3] == 3);
    CHECK(ctc_greedy(s, 1, 4, out) == 0);
}

/* Finite differences on one small utterance: an independent check of the gradient. */
static void test_fd(void) {
    enum { T = 5, V = 4 };
    avm_rng r;
    rng_seed(&r, 7, 0);
    float x[T * V], g[T * V];
    for (int i = 0; i < T * V; i++) x[i] = (float)rng_normal(&r);
    int lab[3] = {1, 3, 3}, Tn = T, L = 3;
    avm_ctc_opts o = {CTC_SUM, 0, 0};
    ctc_loss(x, &Tn, 1, V, lab, &L, &o, NULL, g, NULL);
    double worst = 0;
    for (int i = 0; i < T * V; i++) {
        float s = x[i];
        x[i] = s + 1e-2f; double up = ctc_loss(x, &Tn, 1, V, lab, &L, &o, NULL, NULL, NULL);
        x[i] = s - 1e-2f; double dn = ctc_loss(x, &Tn, 1, V, lab, &L, &o, NULL, NULL, NULL);
        x[i] = s;
        double d = fabs((up - dn) / 2e-2 - g[i]);
        if (d > worst) worst = d;
    }
    CHECK_MSG(worst < 2e-3, "finite differences differ by %g", worst);
}

/* The mean over a global batch split between two ranks (opts.batch = the global count): the
 * halves' losses add up to the whole batch's, their gradient rows are the whole's, bit for
 * bit; an impossible utterance counts 0 in either. */
static void test_split(void) {
    enum { B = 4, V = 5, TM = 6 };
    int T[B] = {6, 4, 5, 2}, L[B] = {2, 1, 3, 2}, lab[8] = {1, 2, 4, 3, 1, 4, 2, 2};
    avm_rng r;
    rng_seed(&r, 11, 0);
    float x[B * TM * V], g[B * TM * V], gh[B * TM * V];
    for (int i = 0; i < B * TM * V; i++) x[i] = (float)rng_normal(&r);
    avm_ctc_opts whole = {CTC_MEAN, 1, 0}, part = {CTC_MEAN, 1, B};
    double all = ctc_loss(x, T, B, V, lab, L, &whole, NULL, g, NULL);
    int rows0 = T[0] + T[1], labs0 = L[0] + L[1];
    double a = ctc_loss(x, T, 2, V, lab, L, &part, NULL, gh, NULL);
    double b = ctc_loss(x + rows0 * V, T + 2, 2, V, lab + labs0, L + 2, &part, NULL, gh + rows0 * V, NULL);
    int rows = rows0 + T[2] + T[3];
    CHECK_MSG(fabs(a + b - all) <= 1e-12 * fabs(all), "halves %.17g + %.17g, whole %.17g", a, b, all);
    CHECK(!memcmp(g, gh, sizeof(float) * rows * V));
}

/* A workspace kept across calls (as a fine-tuning run keeps it): the results are those of
 * scratch allocated per call, bit for bit, when a longer batch grows it and a shorter one
 * follows, on 1 and 2 threads; once reserved for the longest utterance, a call moves none of
 * its buffers (it allocates nothing). */
static void test_workspace(void) {
    enum { V = 5, TM = 9, B = 3 };
    int Ts[B] = {3, 9, 6}, Ls[B] = {1, 4, 2}, lab[8] = {2, 1, 3, 3, 4, 4, 1, 2};
    avm_rng r;
    rng_seed(&r, 5, 0);
    float x[B * TM * V], g0[B * TM * V], g1[B * TM * V];
    for (int i = 0; i < B * TM * V; i++) x[i] = (float)rng_normal(&r);
    avm_ctc_opts o = {CTC_MEAN, 1, 0};
    avm_ctc_ws ws = {0};
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        /* a short batch, then the whole (it grows), then the short one again */
        const int nb[3] = {1, B, 1};
        for (int k = 0; k < 3; k++) {
            double n0[B], n1[B];
            double a = ctc_loss(x, Ts, nb[k], V, lab, Ls, &o, n0, g0, NULL);
            double b = ctc_loss(x, Ts, nb[k], V, lab, Ls, &o, n1, g1, &ws);
            size_t rows = 0;
            for (int i = 0; i < nb[k]; i++) rows += Ts[i];
            CHECK_MSG(a == b && !memcmp(n0, n1, sizeof(double) * nb[k]) && !memcmp(g0, g1, sizeof(float) * rows * V),
                      "%d threads, batch %d: reused workspace %.17g, fresh scratch %.17g", threads, k, b, a);
        }
    }
    ctc_ws_free(&ws);
    ctc_ws_reserve(&ws, TM, 4, V);
    ctc_loss(x, Ts, B, V, lab, Ls, &o, NULL, g1, &ws);   /* fits the batch arrays */
    void *before[5] = {ws.slot, ws.slot[0].lp, ws.slot[0].alpha, ws.slot[0].beta, ws.toff};
    ctc_loss(x, Ts, B, V, lab, Ls, &o, NULL, g1, &ws);
    void *after[5] = {ws.slot, ws.slot[0].lp, ws.slot[0].alpha, ws.slot[0].beta, ws.toff};
    CHECK_MSG(!memcmp(before, after, sizeof before), "a call within the reserved sizes reallocated its scratch");
    CHECK(ws.cap_tv == (size_t)TM * V && ws.cap_ts == (size_t)TM * 9 && ws.cap_s == 9 && ws.cap_v == V);
    ctc_ws_free(&ws);
}

static int write_raw(const char *path, const void *p, size_t n) { return write_file_atomic(path, p, n); }

static float *read_f32(const char *path, size_t want) {
    size_t len;
    char *s = read_file(path, &len);
    if (!s || len != want * sizeof(float)) { free(s); return NULL; }
    return (float *)s;
}

static void test_torch(void) {
    /* T and L per utterance: random, empty target, tight without and with repeats,
     * impossible (T too short for the repeats), long */
    enum { B = 8, V = 6 };
    int T[B] = {12, 4, 3, 4, 4, 20, 1, 30};
    int L[B] = {4, 0, 3, 3, 3, 7, 1, 9};
    int lab[64], nl = 0;
    avm_rng r;
    rng_seed(&r, 1234, 0);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < L[b]; i++) lab[nl++] = 1 + rng_below(&r, V - 1);
    /* utt 2: T == L, distinct neighbours; utt 3: "2 2 3" needs exactly its 4 frames;
     * utt 4: "1 1 1" needs 5 frames, has 4: impossible; utt 6: T == L == 1 */
    int off = 4;
    lab[off] = 1; lab[off + 1] = 2; lab[off + 2] = 3; off += 3;
    lab[off] = 2; lab[off + 1] = 2; lab[off + 2] = 3; off += 3;
    lab[off] = 1; lab[off + 1] = 1; lab[off + 2] = 1;
    size_t nT = 0;
    for (int b = 0; b < B; b++) nT += T[b];
    float *x = xmalloc(nT * V * sizeof *x), *g = xmalloc(nT * V * sizeof *g);
    for (size_t i = 0; i < nT * V; i++) x[i] = (float)(3 * rng_normal(&r));

    const char *dir = "ctc_ref";
    CHECK(mkdir_p(dir) == 0);
    char meta[512];
    int m = snprintf(meta, sizeof meta, "%d %d\n", B, V);
    for (int b = 0; b < B; b++) m += snprintf(meta + m, sizeof meta - m, "%d %d\n", T[b], L[b]);
    CHECK(write_raw("ctc_ref/meta.txt", meta, m) == 0);
    CHECK(write_raw("ctc_ref/logits.f32", x, nT * V * sizeof *x) == 0);
    CHECK(write_raw("ctc_ref/labels.i32", lab, nl * sizeof *lab) == 0);
    const char *py = getenv("PY") ? getenv("PY") : "/usr/bin/python3";
    const char *root = getenv("AVMASK_ROOT") ? getenv("AVMASK_ROOT") : ".";
    char *cmd = xasprintf("%s %s/tests/ref/ctc_ref.py %s", py, root, dir);
    int rc = system(cmd);
    free(cmd);
    CHECK_MSG(rc == 0, "ctc_ref.py failed (exit %d)", rc);
    if (rc) goto out;

    avm_ctc_ws ws = {0};   /* one workspace for the four variants, as a training run keeps it */
    for (int red = 0; red < 2; red++)
        for (int zi = 0; zi < 2; zi++) {
            avm_ctc_opts o = {red ? CTC_MEAN : CTC_SUM, zi, 0};
            double nll[B];
            double loss = ctc_loss(x, T, B, V, lab, L, &o, nll, g, &ws);
            char *lp = xasprintf("%s/loss_%s%d.f32", dir, red ? "mean" : "sum", zi);
            char *gp = xasprintf("%s/grad_%s%d.f32", dir, red ? "mean" : "sum", zi);
            float *rl = read_f32(lp, 1 + B), *rg = read_f32(gp, nT * V);
            CHECK_MSG(rl && rg, "cannot read %s / %s", lp, gp);
            if (rl && rg) {
                CHECK_MSG(near_rel(loss, rl[0], 0), "%s: loss %.9g vs torch %.9g", lp, loss, rl[0]);
                for (int b = 0; b < B; b++)
                    CHECK_MSG(near_rel(nll[b], rl[1 + b], 0), "utt %d: nll %.9g vs %.9g", b, nll[b], rl[1 + b]);
                CHECK(isinf(nll[4]) && !isinf(nll[3]) && !isinf(nll[2]));
                size_t t0 = 0, bad = 0;
                for (int b = 0; b < B; b++) {
                    for (size_t i = t0 * V; i < (t0 + T[b]) * V; i++) {
                        if (isinf(nll[b])) {       /* ours: zero; torch: zero or NaN */
                            bad += g[i] != 0 || (zi && rg[i] != 0);
                        } else {
                            bad += !near_rel(g[i], rg[i], 1e-6);
                        }
                    }
                    t0 += T[b];
                }
                CHECK_MSG(bad == 0, "%s: %zu gradient entries differ", gp, bad);
            }
            free(rl); free(rg); free(lp); free(gp);
        }
    ctc_ws_free(&ws);
out:
    free(x); free(g);
}

int main(void) {
    test_hand();
    test_greedy();
    test_fd();
    test_split();
    test_workspace();
    test_torch();
    return check_done("test_ctc");
}
