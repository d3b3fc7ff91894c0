/* Edit-distance alignment (see metrics.h for the cost and tie-breaking rules). */
#include "eval/metrics.h"
#include "common/util.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Costs are errors * big + substitutions with big > any substitution count, so that
 * comparing one integer compares (errors, substitutions) lexicographically. */
void edit_align(const char *const *ref, int nr, const char *const *hyp, int nh,
                avm_errs *e, char *ops) {
    const int64_t big = (int64_t)nr + nh + 1, sub = big + 1, gap = big;
    size_t w = (size_t)nh + 1;
    int64_t *d = xmalloc(((size_t)nr + 1) * w * sizeof *d);
    for (int j = 0; j <= nh; j++) d[j] = j * gap;
    for (int i = 1; i <= nr; i++) {
        int64_t *row = d + i * w, *up = row - w;
        row[0] = i * gap;
        for (int j = 1; j <= nh; j++) {
            int64_t diag = up[j - 1] + (strcmp(ref[i - 1], hyp[j - 1]) ? sub : 0);
            int64_t del = up[j] + gap, ins = row[j - 1] + gap;
            int64_t m = diag < del ? diag : del;
            row[j] = m < ins ? m : ins;
        }
    }
    /* backtrace from the end; the ops come out reversed */
    char *rev = xmalloc((size_t)nr + nh + 1);
    int n = 0, i = nr, j = nh;
    while (i > 0 || j > 0) {
        int64_t cur = d[i * w + j];
        if (i > 0 && j > 0) {
            int same = !strcmp(ref[i - 1], hyp[j - 1]);
            if (cur == d[(i - 1) * w + j - 1] + (same ? 0 : sub)) {
                rev[n++] = same ? 'C' : 'S'; i--; j--; continue;
            }
        }
        if (i > 0 && cur == d[(i - 1) * w + j] + gap) { rev[n++] = 'D'; i--; continue; }
        rev[n++] = 'I'; j--;
    }
    for (int k = 0; k < n; k++) {
        char op = rev[n - 1 - k];
        if (ops) ops[k] = op;
        e->c += op == 'C'; e->s += op == 'S'; e->d += op == 'D'; e->i += op == 'I';
    }
    if (ops) ops[n] = 0;
    e->n += nr;
    e->utts++;
    free(rev);
    free(d);
}

void errs_add(avm_errs *dst, const avm_errs *src) {
    dst->c += src->c; dst->s += src->s; dst->d += src->d; dst->i += src->i;
    dst->n += src->n; dst->utts += src->utts;
}

double err_rate(const avm_errs *e) {
    long err = e->s + e->d + e->i;
    if (e->n == 0) return err ? NAN : 0.0;
    return 100.0 * err / e->n;
}
