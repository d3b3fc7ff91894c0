/* Edit-distance alignment (see edit_distance.h for the cost and tie-breaking rules).
 *
 * Memory is linear in the input (a 20k-token utterance against its hypothesis used to
 * need 2.5 GB for the full cost table). The alignment is still exactly the one the full
 * table's backtrace gives, found by divide and conquer (Hirschberg's idea, with the
 * split chosen to reproduce the backtrace's tie-breaking):
 *
 * F(i, j) is the cost of the best alignment of ref[0..i) with hyp[0..j). The backtrace
 * walks from the end and at (i, j) takes, in this order, the first move that stays
 * optimal: diagonal (F(i-1, j-1) + cost = F(i, j)), deletion (F(i-1, j) + gap), else
 * insertion. In a forward sweep over rows mid+1..nr one can carry, for every cell, the
 * column A(i, j) where the backtrace started at that cell first reaches row mid (it only
 * depends on the moves chosen, i.e. on F of the cell and its three predecessors). So
 * A(nr, nh) = a is where the backtrace from the end enters row mid, in O(nh) memory.
 * Then the backtrace of the rectangle rows mid..nr, columns a..nh (started at (mid, a))
 * and of rows 0..mid, columns 0..a are the two halves of the full one: a move the full
 * backtrace takes is optimal within its half (the path goes through (mid, a)), and a
 * move preferred to it that were optimal within the half would be optimal in the full
 * table too, so the full backtrace would have taken it. Small rectangles use the table. */
#include "train/edit_distance.h"
#include "common/util.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_CELLS (1 << 16)   /* below this, the plain table (512 KiB at most) */

/* A sub-problem: ref[r0..r1) against hyp[c0..c1); ops go to rev (reversed order). */
typedef struct {
    const char *const *ref, *const *hyp;
    int64_t sub, gap;        /* costs of the whole problem (errors * big + substitutions) */
    char *rev;
    int n;
} aligner;

static int64_t diag_cost(const aligner *al, int i, int j) {
    return strcmp(al->ref[i], al->hyp[j]) ? al->sub : 0;
}

/* One DP row: row = costs of ref[i] (absolute index) against hyp[c0..c1), from up. */
static void dp_row(const aligner *al, int i, int c0, int w, const int64_t *up, int64_t *row) {
    row[0] = up[0] + al->gap;
    for (int j = 1; j <= w; j++) {
        int64_t d = up[j - 1] + diag_cost(al, i, c0 + j - 1), del = up[j] + al->gap, ins = row[j - 1] + al->gap;
        int64_t m = d < del ? d : del;
        row[j] = m < ins ? m : ins;
    }
}

/* The backtrace's move at (i, j) of a sub-problem: 0 diagonal, 1 deletion, 2 insertion;
 * cur = F(i, j), up = row i-1, left = F(i, j-1). i, j are relative, (ri, cj) absolute. */
static int move_at(const aligner *al, int i, int j, int ri, int cj, int64_t cur, const int64_t *up) {
    if (i > 0 && j > 0 && cur == up[j - 1] + diag_cost(al, ri - 1, cj - 1)) return 0;
    if (i > 0 && cur == up[j] + al->gap) return 1;
    return 2;
}

/* Small rectangles: the full table and its backtrace. */
static void align_table(aligner *al, int r0, int r1, int c0, int c1) {
    int h = r1 - r0, w = c1 - c0;
    size_t W = (size_t)w + 1;
    int64_t *d = xmalloc(((size_t)h + 1) * W * sizeof *d);
    for (int j = 0; j <= w; j++) d[j] = j * al->gap;
    for (int i = 1; i <= h; i++) dp_row(al, r0 + i - 1, c0, w, d + (i - 1) * W, d + i * W);
    for (int i = h, j = w; i > 0 || j > 0;) {
        int mv = move_at(al, i, j, r0 + i, c0 + j, d[i * W + j], i > 0 ? d + (i - 1) * W : NULL);
        if (mv == 0) { al->rev[al->n++] = strcmp(al->ref[r0 + i - 1], al->hyp[c0 + j - 1]) ? 'S' : 'C'; i--; j--; }
        else if (mv == 1) { al->rev[al->n++] = 'D'; i--; }
        else { al->rev[al->n++] = 'I'; j--; }
    }
    free(d);
}

/* Column (relative) where the backtrace from the end of the sub-problem first enters
 * row mid (relative, 1 <= mid < rows): one forward sweep, two rows of F and of A. */
static int entry_column(const aligner *al, int r0, int r1, int c0, int c1, int mid) {
    int h = r1 - r0, w = c1 - c0;
    int64_t *up = xmalloc(((size_t)w + 1) * sizeof *up), *row = xmalloc(((size_t)w + 1) * sizeof *row);
    int *aup = xmalloc(((size_t)w + 1) * sizeof *aup), *arow = xmalloc(((size_t)w + 1) * sizeof *arow);
    for (int j = 0; j <= w; j++) up[j] = j * al->gap;
    for (int i = 1; i <= h; i++) {
        dp_row(al, r0 + i - 1, c0, w, up, row);
        if (i > mid)
            for (int j = 0; j <= w; j++) {
                int mv = move_at(al, i, j, r0 + i, c0 + j, row[j], up);
                if (mv == 2) arow[j] = arow[j - 1];
                else if (i == mid + 1) arow[j] = mv == 0 ? j - 1 : j;
                else arow[j] = mv == 0 ? aup[j - 1] : aup[j];
            }
        int64_t *t = up; up = row; row = t;
        int *ta = aup; aup = arow; arow = ta;
    }
    int a = aup[w];
    free(up); free(row); free(aup); free(arow);
    return a;
}

/* Appends the reversed ops of the sub-problem's backtrace: the lower half first (it is
 * the part nearer the end), then the upper one. */
static void align_rect(aligner *al, int r0, int r1, int c0, int c1) {
    int h = r1 - r0, w = c1 - c0;
    if (h <= 1 || (int64_t)(h + 1) * (w + 1) <= TABLE_CELLS) { align_table(al, r0, r1, c0, c1); return; }
    int mid = h / 2, a = entry_column(al, r0, r1, c0, c1, mid);
    align_rect(al, r0 + mid, r1, c0 + a, c1);
    align_rect(al, r0, r0 + mid, c0, c0 + a);
}

/* Costs are errors * big + substitutions with big > any substitution count, so that
 * comparing one integer compares (errors, substitutions) lexicographically. */
void edit_align(const char *const *ref, int nr, const char *const *hyp, int nh,
                avm_errs *e, char *ops) {
    const int64_t big = (int64_t)nr + nh + 1;
    aligner al = {ref, hyp, big + 1, big, xmalloc((size_t)nr + nh + 1), 0};
    align_rect(&al, 0, nr, 0, nh);
    for (int k = 0; k < al.n; k++) {
        char op = al.rev[al.n - 1 - k];
        if (ops) ops[k] = op;
        e->c += op == 'C'; e->s += op == 'S'; e->d += op == 'D'; e->i += op == 'I';
    }
    if (ops) ops[al.n] = 0;
    e->n += nr;
    e->utts++;
    free(al.rev);
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
