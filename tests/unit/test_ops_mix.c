/* The layer-mix op (models/ops_mix.c), with and without the per-state LayerNorm: the
 * forward against the mix computed in double, the gradients of the weights and of every
 * state against central finite differences (fdcheck.h), weight gradients accumulate, the
 * last state's gradient may alias dy, a state scaled by 1000 leaves the normed mix
 * unchanged, and layer_mix_infer (states normed in place) gives the forward's floats. The PyTorch parity of the op is in tests/models/test_torch_parity.sh. */
#include "check.h"
#include "fdcheck.h"
#include "models/ops.h"
#include <stdlib.h>
#include <string.h>

enum { K = 3, N = 6, D = 8 };

typedef struct {
    avm_layer_mix m;
    float *x[K], *w, *y, *R;
} mix_ctx;

static double mix_loss(void *c_) {
    mix_ctx *c = c_;
    layer_mix_forward(&c->m, (const float *const *)c->x, c->w, c->y);
    return dotR(c->y, c->R, N * D);
}

/* y in double from the definition: sum_k softmax(w)_k S_k, S_k = x_k or LN(x_k). */
static double mix_ref_err(const mix_ctx *c) {
    double z = 0, p[K], err = 0;
    for (int k = 0; k < K; k++) z += exp(c->w[k]);
    for (int k = 0; k < K; k++) p[k] = exp(c->w[k]) / z;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            double y = 0;
            for (int k = 0; k < K; k++) {
                const float *r = c->x[k] + i * D;
                double mu = 0, var = 0;
                for (int t = 0; t < D; t++) mu += r[t] / (double)D;
                for (int t = 0; t < D; t++) var += (r[t] - mu) * (r[t] - mu) / D;
                y += p[k] * (c->m.norm ? (r[j] - mu) / sqrt(var + 1e-5) : r[j]);
            }
            double e = fabs(y - c->y[i * D + j]);
            if (e > err) err = e;
        }
    return err;
}

static void test_mix(int norm) {
    mix_ctx c;
    static float p[K], xn[K * N * D], stats[K * 2 * N], ln[4 * D];
    avm_layer_mix m = {K, N, D, norm, p, xn, stats, ln};
    c.m = m;
    for (int k = 0; k < K; k++) c.x[k] = randv(N * D, 1.0f + k);
    c.w = randv(K, 0.5f); c.y = zerov(N * D); c.R = randv(N * D, 1);
    mix_loss(&c);
    CHECK_MSG(mix_ref_err(&c) < 1e-5, "norm %d: mix off the double reference by %g", norm, mix_ref_err(&c));
    float *dw = zerov(K), *dx[K], *dw2 = randv(K, 1), *dw20 = xmalloc(K * sizeof(float));
    for (int k = 0; k < K; k++) dx[k] = zerov(N * D);
    layer_mix_backward(&c.m, (const float *const *)c.x, c.R, dw, dx);
    fd_check(norm ? "mix(norm).dw" : "mix.dw", mix_loss, &c, c.w, dw, K);
    for (int k = 0; k < K; k++) fd_check(norm ? "mix(norm).dx" : "mix.dx", mix_loss, &c, c.x[k], dx[k], N * D);
    /* dw accumulates; without dx only dw is computed; dx[K-1] may alias dy */
    mix_loss(&c);
    memcpy(dw20, dw2, K * sizeof(float));
    layer_mix_backward(&c.m, (const float *const *)c.x, c.R, dw2, NULL);
    int acc = 1;
    for (int k = 0; k < K; k++) acc &= fabsf(dw2[k] - (dw20[k] + dw[k])) <= 1e-6f * (1 + fabsf(dw20[k]));
    CHECK_MSG(acc, "norm %d: weight gradients do not accumulate", norm);
    float *dy = xmalloc(N * D * sizeof(float)), *dx2[K];
    memcpy(dy, c.R, N * D * sizeof(float));
    for (int k = 0; k < K - 1; k++) dx2[k] = zerov(N * D);
    dx2[K - 1] = dy;
    memset(dw2, 0, K * sizeof(float));
    layer_mix_backward(&c.m, (const float *const *)c.x, dy, dw2, dx2);
    int same = !memcmp(dw2, dw, K * sizeof(float));
    for (int k = 0; k < K; k++) same &= !memcmp(dx2[k], dx[k], N * D * sizeof(float));
    CHECK_MSG(same, "norm %d: aliasing dx[K-1] with dy changes the gradients", norm);
    if (norm) {   /* LN(1000 x) = LN(x) up to eps: the scale of a state does not matter */
        float *y0 = zerov(N * D);
        memcpy(y0, c.y, N * D * sizeof(float));
        for (int i = 0; i < N * D; i++) c.x[1][i] *= 1000;
        mix_loss(&c);
        double e = 0;
        for (int i = 0; i < N * D; i++) e = fmax(e, fabs(c.y[i] - y0[i]));
        CHECK_MSG(e < 1e-4, "normed mix moved by %g when a state was scaled by 1000", e);
        free(y0);
    }
    /* layer_mix_infer: the same floats, the states normed in place (copies here) */
    float *xc[K], *yi = zerov(N * D);
    mix_loss(&c);
    for (int k = 0; k < K; k++) { xc[k] = zerov(N * D); memcpy(xc[k], c.x[k], N * D * sizeof(float)); }
    layer_mix_infer(&c.m, xc, c.w, yi);
    CHECK_MSG(!memcmp(yi, c.y, N * D * sizeof(float)), "norm %d: layer_mix_infer differs from layer_mix_forward", norm);
    if (norm) CHECK(memcmp(xc[0], c.x[0], N * D * sizeof(float)));
    for (int k = 0; k < K; k++) free(xc[k]);
    free(yi);
    for (int k = 0; k < K; k++) { free(c.x[k]); free(dx[k]); }
    for (int k = 0; k < K - 1; k++) free(dx2[k]);
    free(c.w); free(c.y); free(c.R); free(dw); free(dw2); free(dw20); free(dy);
}

int main(void) {
    rng_seed(&g_rng, 4242, 0);
    test_mix(0);
    test_mix(1);
    return check_done("test_ops_mix");
}
