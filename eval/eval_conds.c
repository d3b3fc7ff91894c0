/* avmask eval's conditions: keys, their value buckets and the order they are printed in. */
#include "common/util.h"
#include "eval/eval_conds.h"
#include <stdlib.h>
#include <string.h>

cond_key *cond_key_get(conds *c, const char *key) {
    for (int i = 0; i < c->nk; i++) if (!strcmp(c->k[i].key, key)) return &c->k[i];
    c->k = xrealloc(c->k, (c->nk + 1) * sizeof *c->k);
    c->k[c->nk] = (cond_key){xstrdup(key), NULL, 0};
    return &c->k[c->nk++];
}

void conds_collect_keys(conds *c, const avm_trans *by) {
    for (int i = 0; i < by->n; i++)
        for (int j = 0; j < by->u[i].n; j++) {
            const char *tok = by->u[i].tok[j], *eq = strchr(tok, '=');
            if (!eq || eq == tok)   /* checked before the copy: nothing left unfreed at exit */
                avm_die("%s:%d: '%s' is not key=value", by->path, by->u[i].lineno, tok);
            char *key = xstrdup(tok);
            key[eq - tok] = 0;
            cond_key_get(c, key);
            free(key);
        }
}

avm_errs *bucket_get(cond_key *k, const char *value) {
    for (int i = 0; i < k->nb; i++) if (!strcmp(k->b[i].value, value)) return &k->b[i].e;
    k->b = xrealloc(k->b, (k->nb + 1) * sizeof *k->b);
    k->b[k->nb] = (cond_bucket){xstrdup(value), {0}};
    return &k->b[k->nb++].e;
}

const char *cond_value(const avm_trans *by, const avm_trans_utt *u, const char *key) {
    size_t kl = strlen(key);
    for (int j = 0; j < u->n; j++) {
        const char *eq = strchr(u->tok[j], '=');
        if (!eq || eq == u->tok[j])
            avm_die("%s:%d: '%s' is not key=value", by->path, u->lineno, u->tok[j]);
        if ((size_t)(eq - u->tok[j]) == kl && !strncmp(u->tok[j], key, kl)) return eq + 1;
    }
    return NULL;
}

static int is_number(const char *s) {
    char *end;
    strtod(s, &end);
    return end != s && !*end;
}

/* Numeric order when every value is a number (snr=-5 < 0 < 10), else C order;
 * the missing-value bucket last. */
static int numeric_sort;
static int by_value(const void *pa, const void *pb) {
    const char *a = ((const cond_bucket *)pa)->value, *b = ((const cond_bucket *)pb)->value;
    int na = !strcmp(a, NONE_VALUE), nb = !strcmp(b, NONE_VALUE);
    if (na || nb) return na - nb;
    if (numeric_sort) {
        double x = strtod(a, NULL), y = strtod(b, NULL);
        return (x > y) - (x < y);
    }
    return strcmp(a, b);
}

void sort_values(cond_key *k) {
    numeric_sort = 1;
    for (int i = 0; i < k->nb; i++)
        if (strcmp(k->b[i].value, NONE_VALUE) && !is_number(k->b[i].value)) numeric_sort = 0;
    qsort(k->b, k->nb, sizeof *k->b, by_value);
}

void conds_free(conds *c) {
    for (int k = 0; k < c->nk; k++) {
        for (int i = 0; i < c->k[k].nb; i++) free(c->k[k].b[i].value);
        free(c->k[k].b);
        free(c->k[k].key);
    }
    free(c->k);
    c->k = NULL;
    c->nk = 0;
}
