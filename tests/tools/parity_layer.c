/* PyTorch parity for one pre-LN encoder layer with a key padding mask.
 *   parity_layer write DIR   writes weights, input x, pad mask and the loss weights R
 *   parity_layer check DIR   recomputes in C and compares with DIR/ref (tests/ref/torch_layer.py)
 * Loss: L = sum(y * R), R zero on padded rows (their outputs are not defined to match torch).
 * Compared: y on valid rows, dL/dx, and every parameter gradient; relative error
 * max|c - ref| / max(max|ref|, 1e-6) per tensor must be <= 1e-4. */
#include "models/layer.h"
#include "common/rng.h"
#include "common/util.h"
#include "tensor_io.h"
#include <string.h>

enum { B = 2, T = 7, D = 16, H = 4, F = 32 };
static const int lens[B] = {7, 4};

typedef struct {
    avm_params ps;
    avm_layer L;
    float x[B * T * D], R[B * T * D];
    uint8_t pad[B * T];
} setup;

static void make(setup *s) {
    memset(s, 0, sizeof *s);
    layer_register(&s->L, &s->ps, "layer", D, F, H);
    params_alloc(&s->ps);
    avm_rng r;
    rng_seed(&r, 2024, 1);
    layer_init(&s->L, &s->ps, &r, 0.3f);
    /* non-trivial norms and biases so that their gradients are exercised */
    for (int i = 0; i < s->ps.n; i++) {
        const avm_param *p = &s->ps.p[i];
        if (p->ndim == 1)
            for (size_t j = 0; j < p->numel; j++) s->ps.data[p->offset + j] += (float)(0.2 * rng_normal(&r));
    }
    for (int i = 0; i < B * T * D; i++) { s->x[i] = (float)rng_normal(&r); s->R[i] = (float)rng_normal(&r); }
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            s->pad[b * T + t] = t >= lens[b];
            if (t >= lens[b]) for (int j = 0; j < D; j++) s->R[(b * T + t) * D + j] = 0;
        }
}

int main(int argc, char **argv) {
    if (argc != 3) avm_die("usage: parity_layer write|check DIR");
    const char *dir = argv[2];
    setup s;
    make(&s);
    if (!strcmp(argv[1], "write")) {
        float padf[B * T];
        for (int i = 0; i < B * T; i++) padf[i] = s.pad[i];
        int sx[3] = {B, T, D}, sp[2] = {B, T}, sc[1] = {3};
        float cfg[3] = {D, H, F};
        tio_write_params(dir, &s.ps);
        tio_write(dir, "x", s.x, B * T * D, 3, sx);
        tio_write(dir, "R", s.R, B * T * D, 3, sx);
        tio_write(dir, "pad", padf, B * T, 2, sp);
        tio_write(dir, "config", cfg, 3, 1, sc);
        params_free(&s.ps);
        return 0;
    }
    if (strcmp(argv[1], "check")) avm_die("parity_layer: unknown mode %s", argv[1]);
    avm_layer_cache c = {0};
    avm_layer_ws w = {0};
    layer_cache_reserve(&c, &s.L, B, T, 0);
    layer_ws_reserve(&w, &s.L, B, T);
    layer_forward(&s.L, &s.ps, &c, s.x, s.pad, B, T, 0, 0, NULL, &w);
    float y[B * T * D], dx[B * T * D];
    memcpy(y, c.y, sizeof y);
    for (int i = 0; i < B * T; i++)          /* padded rows are not compared */
        if (s.pad[i]) memset(y + i * D, 0, D * sizeof(float));
    layer_backward(&s.L, &s.ps, &c, s.pad, B, T, 0, 0, s.R, dx, &w);
    int ok = 1;
    const double tol = 1e-4;
    ok &= tio_compare(dir, "y", y, B * T * D, tol);
    ok &= tio_compare(dir, "dx", dx, B * T * D, tol);
    for (int i = 0; i < s.ps.n; i++) {
        char name[300];
        snprintf(name, sizeof name, "grad.%s", s.ps.p[i].name);
        ok &= tio_compare(dir, name, s.ps.grad + s.ps.p[i].offset, s.ps.p[i].numel, tol);
    }
    layer_cache_free(&c);
    layer_ws_free(&w);
    params_free(&s.ps);
    printf("%s\n", ok ? "layer parity: all within 1e-4" : "layer parity: FAILED");
    return ok ? 0 : 1;
}
