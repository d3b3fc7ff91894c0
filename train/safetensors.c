/* Strict safetensors reading and the check against audio_encoder.h5 (safetensors.h). */
#include "train/safetensors.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/crc32.h"
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b) {
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int by_offset(const void *a, const void *b) {
    const st_tensor *x = *(st_tensor *const *)a, *y = *(st_tensor *const *)b;
    if (x->data != y->data) return x->data < y->data ? -1 : 1;
    return x->bytes < y->bytes ? -1 : x->bytes > y->bytes;   /* empty tensors first */
}

/* One tensor entry of the header. */
static int tensor_entry(const char *path, const char *name, const json_value *e, size_t size,
                        const unsigned char *data, st_tensor *t) {
    if (!e || e->type != JSON_OBJ || e->n != 3 || !json_get(e, "dtype") || !json_get(e, "shape") ||
        !json_get(e, "data_offsets"))
        return avm_fail("%s: %s: not a tensor entry (dtype, shape, data_offsets)", path, name);
    if (strcmp(json_str_or(e, "dtype", ""), "F32")) return avm_fail("%s: %s: dtype is not F32", path, name);
    const json_value *sh = json_get(e, "shape"), *of = json_get(e, "data_offsets");
    if (sh->type != JSON_ARR || sh->n > AVM_TENSOR_MAX_DIMS)
        return avm_fail("%s: %s: shape is not a list of at most %d sizes", path, name, AVM_TENSOR_MAX_DIMS);
    double numel = 1;
    for (int k = 0; k < sh->n; k++) {
        const json_value *d = sh->items[k];
        if (d->type != JSON_NUM || !(d->num >= 0 && d->num <= 1e15) || d->num != (double)(int64_t)d->num)
            return avm_fail("%s: %s: bad shape", path, name);
        t->shape[k] = (int64_t)d->num;
        numel *= d->num;
    }
    t->ndim = sh->n;
    double off[2];
    if (of->type != JSON_ARR || of->n != 2) return avm_fail("%s: %s: data_offsets is not [begin, end]", path, name);
    for (int k = 0; k < 2; k++) {
        const json_value *o = of->items[k];
        if (o->type != JSON_NUM || !(o->num >= 0 && o->num <= (double)size) || o->num != (double)(int64_t)o->num)
            return avm_fail("%s: %s: data_offsets outside the %zu-byte data", path, name, size);
        off[k] = o->num;
    }
    if (off[1] < off[0] || off[1] - off[0] != 4 * numel)
        return avm_fail("%s: %s: data_offsets do not span the %.0f bytes of its shape", path, name, 4 * numel);
    t->data = data + (size_t)off[0];
    t->bytes = (size_t)(off[1] - off[0]);
    t->name = xstrdup(name);
    return 0;
}

/* The header's __metadata__: an object of strings; avmask_crc32 if present. */
static int metadata(const char *path, const json_value *m, st_file *f) {
    if (m->type != JSON_OBJ) return avm_fail("%s: __metadata__ is not an object", path);
    if (f->crc) return avm_fail("%s: duplicate __metadata__", path);
    for (int i = 0; i < m->n; i++) {
        if (m->items[i]->type != JSON_STR) return avm_fail("%s: __metadata__.%s is not a string", path, m->keys[i]);
        for (int j = 0; j < i; j++)
            if (!strcmp(m->keys[i], m->keys[j])) return avm_fail("%s: duplicate __metadata__.%s", path, m->keys[i]);
    }
    const char *c = json_str_or(m, PARAMS_CRC_KEY, NULL);
    uint32_t v;
    if (c && crc_hex_parse(c, &v)) return avm_fail("%s: %s '%s' is not 8 hex digits", path, PARAMS_CRC_KEY, c);
    f->crc = xstrdup(c ? c : "");   /* "" marks __metadata__ as seen */
    return 0;
}

static int parse(const char *path, st_file *f) {
    if (f->size < 8) return avm_fail("%s: shorter than the 8-byte header size", path);
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--) n = n << 8 | f->raw[k];
    if (n > f->size - 8) return avm_fail("%s: header size %llu does not fit the file", path, (unsigned long long)n);
    if (n == 0 || f->raw[8] != '{') return avm_fail("%s: header does not start with '{'", path);
    char *text = xmalloc(n + 1);
    memcpy(text, f->raw + 8, n);
    text[n] = 0;
    int rc = 0;
    if (strlen(text) != n) rc = avm_fail("%s: NUL byte in the header", path);
    json_value *h = rc ? NULL : json_parse(text);
    free(text);
    if (!rc && !h) rc = avm_fail("%s: header is not JSON: %s", path, avm_error());
    if (!rc && h->type != JSON_OBJ) rc = avm_fail("%s: header is not a JSON object", path);
    size_t size = f->size - 8 - n;
    const unsigned char *data = f->raw + 8 + n;
    if (!rc) f->t = xcalloc(h->n + 1, sizeof *f->t);
    for (int i = 0; !rc && i < h->n; i++) {
        if (!strcmp(h->keys[i], "__metadata__")) rc = metadata(path, h->items[i], f);
        else if (!(rc = tensor_entry(path, h->keys[i], h->items[i], size, data, &f->t[f->n]))) f->n++;
    }
    json_free(h);
    if (f->crc && !*f->crc) { free(f->crc); f->crc = NULL; }
    if (rc) return rc;
    qsort(f->t, f->n, sizeof *f->t, by_name);
    for (int i = 1; i < f->n; i++)
        if (!strcmp(f->t[i - 1].name, f->t[i].name)) return avm_fail("%s: duplicate name %s", path, f->t[i].name);
    st_tensor **o = xmalloc((f->n + 1) * sizeof *o);
    for (int i = 0; i < f->n; i++) o[i] = &f->t[i];
    qsort(o, f->n, sizeof *o, by_offset);
    const unsigned char *pos = data;
    for (int i = 0; !rc && i < f->n; i++) {
        if (o[i]->data != pos) rc = avm_fail("%s: %s: starts at byte %zu, expected %zu (gap or overlap)", path,
                                             o[i]->name, (size_t)(o[i]->data - data), (size_t)(pos - data));
        pos += o[i]->bytes;
    }
    free(o);
    if (!rc && pos != data + size)
        rc = avm_fail("%s: tensors cover %zu of %zu data bytes", path, (size_t)(pos - data), size);
    return rc;
}

int st_read(const char *path, st_file *f) {
    memset(f, 0, sizeof *f);
    char *raw = read_file(path, &f->size);
    if (!raw) return -1;
    f->raw = (unsigned char *)raw;
    int rc = parse(path, f);
    if (!rc && f->crc) {
        uint32_t want, got = 0;
        crc_hex_parse(f->crc, &want);
        for (int i = 0; i < f->n; i++) got = crc32_update(got, f->t[i].data, f->t[i].bytes);
        if (got != want)
            rc = avm_fail("%s: checksum mismatch (stored %s, data %08x): corrupted export refused", path, f->crc, got);
    }
    if (rc) st_free(f);
    return rc;
}

void st_free(st_file *f) {
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    free(f->t);
    free(f->raw);
    free(f->crc);
    memset(f, 0, sizeof *f);
}

int st_check_params(const char *path, const st_file *f, const avm_tensor *want, int n) {
    avm_tensor *t = xmalloc((size_t)(n + 1) * sizeof *t);
    memcpy(t, want, (size_t)n * sizeof *t);
    params_h5_sort(t, n);   /* the order of f->t */
    int rc = n != f->n ? avm_fail("%s: %d tensors, the configuration has %d", path, f->n, n) : 0;
    for (int i = 0; !rc && i < n; i++) {
        const avm_tensor *p = &t[i];
        const st_tensor *s = &f->t[i];
        int same = !strcmp(p->name, s->name) && s->ndim == p->ndim;
        for (int k = 0; same && k < p->ndim; k++) same = s->shape[k] == p->shape[k];
        if (!same) rc = avm_fail("%s: %s: not the tensor or shape the configuration has (%s)", path, s->name, p->name);
        else if (memcmp(s->data, p->data, s->bytes))
            rc = avm_fail("%s: %s differs from audio_encoder.h5: corrupted export refused", path, s->name);
    }
    free(t);
    return rc;
}
