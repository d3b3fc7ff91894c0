/* PyTorch parity for single ops (tests/ref/torch_ops.py): linear, layer norm, GELU, the
 * attention core with a key padding mask, the reconstruction losses, the layer mix (with
 * and without its LayerNorm).
 *   parity_ops write DIR   inputs and upstream gradients
 *   parity_ops check DIR   outputs and input/parameter gradients against DIR/ref
 * Relative error max|c - ref| / max(max|ref|, 1e-6) per tensor must be <= 1e-4. */
#include "models/ops.h"
#include "common/rng.h"
#include "common/util.h"
#include "tensor_io.h"
#include <string.h>

enum { N = 10, IN = 12, OUT = 7, B = 2, T = 5, D = 8, H = 2, F = 6, K = 3 };

typedef struct {
    float x[N * IN], W[OUT * IN], b[OUT], dy[N * OUT];          /* linear */
    float lx[N * IN], g[IN], lb[IN], ldy[N * IN];                /* layer norm */
    float gx[N * IN], gdy[N * IN];                               /* gelu */
    float qkv[B * T * 3 * D], cdy[B * T * D];                    /* attention */
    float pred[N * F], target[N * F];                            /* losses */
    float mx[K * N * IN], mw[K], mdy[N * IN];                    /* layer mix */
    uint8_t pad[B * T];
} data;

static void fill(float *v, int n, avm_rng *r, float sc) { for (int i = 0; i < n; i++) v[i] = (float)(sc * rng_normal(r)); }

static void make(data *s) {
    avm_rng r;
    rng_seed(&r, 31337, 0);
    fill(s->x, N * IN, &r, 1); fill(s->W, OUT * IN, &r, 0.5f); fill(s->b, OUT, &r, 0.5f); fill(s->dy, N * OUT, &r, 1);
    fill(s->lx, N * IN, &r, 2); fill(s->g, IN, &r, 0.3f); fill(s->lb, IN, &r, 0.3f); fill(s->ldy, N * IN, &r, 1);
    for (int i = 0; i < IN; i++) s->g[i] += 1;
    fill(s->gx, N * IN, &r, 2); fill(s->gdy, N * IN, &r, 1);
    fill(s->qkv, B * T * 3 * D, &r, 1); fill(s->cdy, B * T * D, &r, 1);
    fill(s->pred, N * F, &r, 1); fill(s->target, N * F, &r, 1);
    fill(s->mx, K * N * IN, &r, 3); fill(s->mw, K, &r, 1); fill(s->mdy, N * IN, &r, 1);
    const uint8_t pad[B * T] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    memcpy(s->pad, pad, sizeof pad);
    for (int t = 0; t < T; t++)         /* padded query rows have no defined output */
        if (s->pad[T + t]) for (int j = 0; j < D; j++) s->cdy[(T + t) * D + j] = 0;
}

/* The layer mix of the K states mx (norm: each layer-normed): y, dw, every dx. */
static int check_mix(const char *dir, const data *s, int norm, double tol) {
    static float p[K], xn[K * N * IN], stats[K * 2 * N], ln[4 * IN], y[N * IN], dw[K], dx[K][N * IN];
    avm_layer_mix m = {K, N, IN, norm, p, xn, stats, ln};
    const float *x[K] = {s->mx, s->mx + N * IN, s->mx + 2 * N * IN};
    float *dxp[K] = {dx[0], dx[1], dx[2]};
    memset(dw, 0, sizeof dw);
    layer_mix_forward(&m, x, s->mw, y);
    layer_mix_backward(&m, x, s->mdy, dw, dxp);
    const char *pre = norm ? "mixln" : "mix";
    char nm[32];
    int ok = 1;
    snprintf(nm, sizeof nm, "%s.y", pre);  ok &= tio_compare(dir, nm, y, N * IN, tol);
    snprintf(nm, sizeof nm, "%s.dw", pre); ok &= tio_compare(dir, nm, dw, K, tol);
    snprintf(nm, sizeof nm, "%s.dx", pre); ok &= tio_compare(dir, nm, dx[0], K * N * IN, tol);
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 3) avm_die("usage: parity_ops write|check DIR");
    const char *dir = argv[2];
    static data s;
    make(&s);
    if (!strcmp(argv[1], "write")) {
        int s_x[2] = {N, IN}, s_W[2] = {OUT, IN}, s_b[1] = {OUT}, s_dy[2] = {N, OUT}, s_g[1] = {IN};
        int s_qkv[3] = {B, T, 3 * D}, s_c[3] = {B, T, D}, s_p[2] = {B, T}, s_f[2] = {N, F}, s_h[1] = {1};
        float padf[B * T], heads = H;
        for (int i = 0; i < B * T; i++) padf[i] = s.pad[i];
        tio_write(dir, "x", s.x, N * IN, 2, s_x); tio_write(dir, "W", s.W, OUT * IN, 2, s_W);
        tio_write(dir, "b", s.b, OUT, 1, s_b); tio_write(dir, "dy", s.dy, N * OUT, 2, s_dy);
        tio_write(dir, "lx", s.lx, N * IN, 2, s_x); tio_write(dir, "g", s.g, IN, 1, s_g);
        tio_write(dir, "lb", s.lb, IN, 1, s_g); tio_write(dir, "ldy", s.ldy, N * IN, 2, s_x);
        tio_write(dir, "gx", s.gx, N * IN, 2, s_x); tio_write(dir, "gdy", s.gdy, N * IN, 2, s_x);
        tio_write(dir, "qkv", s.qkv, B * T * 3 * D, 3, s_qkv); tio_write(dir, "cdy", s.cdy, B * T * D, 3, s_c);
        tio_write(dir, "pad", padf, B * T, 2, s_p); tio_write(dir, "heads", &heads, 1, 1, s_h);
        tio_write(dir, "pred", s.pred, N * F, 2, s_f); tio_write(dir, "target", s.target, N * F, 2, s_f);
        int s_mx[3] = {K, N, IN}, s_mw[1] = {K};
        tio_write(dir, "mx", s.mx, K * N * IN, 3, s_mx); tio_write(dir, "mw", s.mw, K, 1, s_mw);
        tio_write(dir, "mdy", s.mdy, N * IN, 2, s_x);
        return 0;
    }
    if (strcmp(argv[1], "check")) avm_die("parity_ops: unknown mode %s", argv[1]);
    const double tol = 1e-4;
    int ok = 1;
    static float y[N * OUT], dx[N * IN], dW[OUT * IN], db[OUT];
    linear_forward(s.x, N, IN, s.W, s.b, OUT, y);
    linear_backward(s.x, N, IN, s.W, OUT, s.dy, dx, dW, db);
    ok &= tio_compare(dir, "linear.y", y, N * OUT, tol);
    ok &= tio_compare(dir, "linear.dx", dx, N * IN, tol);
    ok &= tio_compare(dir, "linear.dW", dW, OUT * IN, tol);
    ok &= tio_compare(dir, "linear.db", db, OUT, tol);
    static float ly[N * IN], mean[N], rstd[N], ldx[N * IN], dg[IN], dlb[IN];
    layernorm_forward(s.lx, N, IN, s.g, s.lb, ly, mean, rstd);
    layernorm_backward(s.lx, N, IN, s.g, mean, rstd, s.ldy, ldx, dg, dlb);
    ok &= tio_compare(dir, "layernorm.y", ly, N * IN, tol);
    ok &= tio_compare(dir, "layernorm.dx", ldx, N * IN, tol);
    ok &= tio_compare(dir, "layernorm.dg", dg, IN, tol);
    ok &= tio_compare(dir, "layernorm.db", dlb, IN, tol);
    static float gy[N * IN], gdx[N * IN];
    gelu_forward(s.gx, N * IN, gy);
    gelu_backward(s.gx, s.gdy, N * IN, gdx);
    ok &= tio_compare(dir, "gelu.y", gy, N * IN, tol);
    ok &= tio_compare(dir, "gelu.dx", gdx, N * IN, tol);
    avm_attn_dims a = {B, T, D, H, 0, 0};
    float *probs = xmalloc((size_t)B * H * T * T * 4), *scratch = xmalloc(attn_scratch_floats(T, 0) * 4);
    static float ctx[B * T * D], dqkv[B * T * 3 * D];
    attn_forward(&a, s.qkv, s.pad, NULL, probs, NULL, ctx, scratch);
    attn_backward(&a, s.qkv, s.pad, probs, NULL, s.cdy, dqkv, scratch);
    ok &= tio_compare(dir, "attn.ctx", ctx, B * T * D, tol);
    ok &= tio_compare(dir, "attn.dqkv", dqkv, B * T * 3 * D, tol);
    free(probs); free(scratch);
    static float dp[N * F];
    for (int k = 0; k < 2; k++) {
        float l = (float)recon_loss_forward(k, s.pred, s.target, N, F);
        recon_loss_backward(k, s.pred, s.target, N, F, 1.0f, dp);
        ok &= tio_compare(dir, k ? "l2.loss" : "l1.loss", &l, 1, tol);
        ok &= tio_compare(dir, k ? "l2.dpred" : "l1.dpred", dp, N * F, tol);
    }
    ok &= check_mix(dir, &s, 0, tol) & check_mix(dir, &s, 1, tol);
    printf("%s\n", ok ? "ops parity: all within 1e-4" : "ops parity: FAILED");
    return ok ? 0 : 1;
}
