#include "models/params.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

size_t params_add(avm_params *ps, const char *name, int ndim, const int *shape, int decay) {
    if (ps->data) avm_die("params_add(%s): parameters are already allocated", name);
    if (ndim < 1 || ndim > AVM_MAX_DIMS) avm_die("params_add(%s): %d dimensions", name, ndim);
    if (params_find(ps, name)) avm_die("params_add: duplicate parameter %s", name);
    if (ps->n == ps->cap) ps->p = xrealloc(ps->p, (size_t)(ps->cap = ps->cap ? 2 * ps->cap : 64) * sizeof *ps->p);
    avm_param *p = &ps->p[ps->n++];
    memset(p, 0, sizeof *p);
    p->name = xstrdup(name);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) { p->shape[i] = shape[i]; p->numel *= (size_t)shape[i]; }
    p->decay = decay;
    /* keep every view 16-float (64-byte) aligned for vector loads */
    p->offset = (ps->total + 15) & ~(size_t)15;
    ps->total = p->offset + p->numel;
    return p->offset;
}

void params_alloc(avm_params *ps) {
    size_t bytes = ((ps->total + 15) & ~(size_t)15) * sizeof(float);
    if (posix_memalign((void **)&ps->data, 64, bytes) || posix_memalign((void **)&ps->grad, 64, bytes))
        avm_die("out of memory for %zu parameters", ps->total);
    memset(ps->data, 0, bytes);
    memset(ps->grad, 0, bytes);
}

const avm_param *params_find(const avm_params *ps, const char *name) {
    for (int i = 0; i < ps->n; i++)
        if (!strcmp(ps->p[i].name, name)) return &ps->p[i];
    return NULL;
}

float *params_data(const avm_params *ps, const char *name) {
    const avm_param *p = params_find(ps, name);
    if (!p) avm_die("no parameter named %s", name);
    return ps->data + p->offset;
}

void params_zero_grad(avm_params *ps) {
    /* in parallel slices: one thread's memset does not use a node's memory bandwidth */
    size_t n = ps->total, chunk = 1 << 16;
    long nc = (long)((n + chunk - 1) / chunk);
    #pragma omp parallel for schedule(static) if (n > 4 * chunk)
    for (long c = 0; c < nc; c++) {
        size_t i0 = (size_t)c * chunk, len = i0 + chunk < n ? chunk : n - i0;
        memset(ps->grad + i0, 0, len * sizeof(float));
    }
}

size_t params_values(const avm_params *ps) {
    size_t n = 0;
    for (int i = 0; i < ps->n; i++) n += ps->p[i].numel;
    return n;
}

void params_free(avm_params *ps) {
    for (int i = 0; i < ps->n; i++) free(ps->p[i].name);
    free(ps->p);
    if (!ps->borrowed) {
        free(ps->data);
        free(ps->grad);
    }
    memset(ps, 0, sizeof *ps);
}

int params_tensors(const avm_params *ps, float *buf, int (*keep)(const char *), avm_tensor **out) {
    int n = 0;
    *out = xmalloc((size_t)(ps->n + 1) * sizeof **out);
    for (int i = 0; i < ps->n; i++) {
        const avm_param *p = &ps->p[i];
        if (keep && !keep(p->name)) continue;
        avm_tensor *t = &(*out)[n++];
        t->name = p->name;
        t->ndim = p->ndim;
        memcpy(t->shape, p->shape, sizeof t->shape);
        t->numel = p->numel;
        t->data = buf + p->offset;
    }
    return n;
}

void params_join(avm_params *dst, avm_params *const *parts, int n) {
    memset(dst, 0, sizeof *dst);
    size_t *base = xmalloc(sizeof(size_t) * (n ? n : 1));
    for (int j = 0; j < n; j++) {
        const avm_params *q = parts[j];
        base[j] = (dst->total + 15) & ~(size_t)15;
        for (int k = 0; k < q->n; k++) {
            const avm_param *v = &q->p[k];
            size_t off = params_add(dst, v->name, v->ndim, v->shape, v->decay);
            if (off != base[j] + v->offset) avm_die("params_join(%s): misplaced view", v->name);
            dst->p[dst->n - 1].frozen = v->frozen;
        }
    }
    params_alloc(dst);
    for (int j = 0; j < n; j++) {
        avm_params *q = parts[j];
        memcpy(dst->data + base[j], q->data, sizeof(float) * q->total);
        memcpy(dst->grad + base[j], q->grad, sizeof(float) * q->total);
        if (!q->borrowed) { free(q->data); free(q->grad); }
        q->data = dst->data + base[j];
        q->grad = dst->grad + base[j];
        q->borrowed = 1;
    }
    free(base);
}
