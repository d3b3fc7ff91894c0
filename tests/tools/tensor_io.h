/* Raw float32 tensor exchange with the PyTorch references (tests/ref/torch_*.py):
 * DIR/<name>.f32 holds the values, DIR/manifest.txt one line "name ndim d0 d1 ..." per
 * tensor the C side wrote; the reference writes DIR/ref/<name>.f32. Header-only, for tools. */
#ifndef AVMASK_TENSOR_IO_H
#define AVMASK_TENSOR_IO_H
#include "common/util.h"
#include "models/params.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static inline void tio_write(const char *dir, const char *name, const float *v, size_t n, int ndim, const int *shape) {
    char *path = xasprintf("%s/%s.f32", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(v, sizeof(float), n, f) != n || fclose(f)) avm_die("%s: cannot write", path);
    free(path);
    path = xasprintf("%s/manifest.txt", dir);
    if (!(f = fopen(path, "a"))) avm_die("%s: cannot append", path);
    fprintf(f, "%s %d", name, ndim);
    for (int i = 0; i < ndim; i++) fprintf(f, " %d", shape[i]);
    fprintf(f, "\n");
    if (fclose(f)) avm_die("%s: cannot write", path);
    free(path);
}

/* DIR/<name>: n raw bytes, written atomically (the forward tools' outputs). */
static inline void tio_put(const char *dir, const char *name, const void *p, size_t n) {
    char *path = path_join(dir, name);
    if (write_file_atomic(path, p, n)) avm_die("%s", avm_error());
    free(path);
}

/* Writes every parameter of ps under its own name. */
static inline void tio_write_params(const char *dir, const avm_params *ps) {
    for (int i = 0; i < ps->n; i++)
        tio_write(dir, ps->p[i].name, ps->data + ps->p[i].offset, ps->p[i].numel, ps->p[i].ndim, ps->p[i].shape);
}

/* Reads DIR/ref/<name>.f32, which must hold exactly n floats. */
static inline float *tio_read_ref(const char *dir, const char *name, size_t n) {
    char *path = xasprintf("%s/ref/%s.f32", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) avm_die("%s: missing (did the reference run?)", path);
    float *v = xmalloc(n * sizeof(float) + 1);
    size_t got = fread(v, sizeof(float), n + 1, f);
    fclose(f);
    if (got != n) avm_die("%s: %zu floats, expected %zu", path, got, n);
    free(path);
    return v;
}

/* Relative error of a against the reference b: max|a - b| / max(max|b|, 1e-6). */
static inline double tio_rel_err(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= num)) num = e;          /* NaN propagates as a failure */
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return num / (den > 1e-6 ? den : 1e-6);
}

/* Compares one tensor, prints its error, returns 1 if within tol. */
static inline int tio_compare(const char *dir, const char *name, const float *a, size_t n, double tol) {
    float *b = tio_read_ref(dir, name, n);
    double e = tio_rel_err(a, b, n);
    int ok = e <= tol;
    printf("%-4s %-55s rel_err %.3g\n", ok ? "ok" : "BAD", name, e);
    free(b);
    return ok;
}
#endif
