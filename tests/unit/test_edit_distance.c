/* eval/edit_distance and eval/trans: hand-aligned tricky cases (tie-breaking, empty sides),
 * a property test against a plain Levenshtein distance, and transcript reading. */
#include "check.h"
#include "common/rng.h"
#include "common/util.h"
#include "train/edit_distance.h"
#include "train/trans.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Splits a copy of s; returns count (tokens point into *buf). */
static int toks(const char *s, char **buf, char **t) {
    *buf = xstrdup(s);
    return split_ws(*buf, t, 64);
}

static void expect(const char *ref, const char *hyp, const char *ops, long s, long d, long i) {
    char *rb, *hb, *r[64], *h[64], got[130];
    int nr = toks(ref, &rb, r), nh = toks(hyp, &hb, h);
    avm_errs e = {0};
    edit_align((const char *const *)r, nr, (const char *const *)h, nh, &e, got);
    CHECK_MSG(!strcmp(got, ops), "'%s' vs '%s': ops %s, want %s", ref, hyp, got, ops);
    CHECK_MSG(e.s == s && e.d == d && e.i == i && e.n == nr && e.c + e.s + e.d == nr && e.utts == 1,
              "'%s' vs '%s': S=%ld D=%ld I=%ld N=%ld", ref, hyp, e.s, e.d, e.i, e.n);
    free(rb); free(hb);
}

static void test_cases(void) {
    expect("a b c", "a b c", "CCC", 0, 0, 0);
    expect("a b c", "a x c", "CSC", 1, 0, 0);
    expect("a b", "b c", "DCI", 0, 1, 1);            /* keep the match, not 2 S */
    expect("a b c d e", "d e x y z", "SSSSS", 5, 0, 0); /* fewest errors (sclite: 6) */
    expect("a b c", "", "DDD", 0, 3, 0);
    expect("", "x y", "II", 0, 0, 2);
    expect("", "", "", 0, 0, 0);
    expect("b", "a b c", "ICI", 0, 0, 2);
    expect("a a", "a", "DC", 0, 1, 0);                /* equal counts: match kept at the end */
    expect("a b c d", "a c d e", "CDCCI", 0, 1, 1);
    expect("the cat sat", "a cat sat down", "SCCI", 1, 0, 1);
}

static void test_rates(void) {
    avm_errs e = {.c = 7, .s = 1, .d = 2, .i = 1, .n = 10, .utts = 2}, z = {0}, ins = {.i = 2};
    CHECK_NEAR(err_rate(&e), 40.0, 1e-12);
    CHECK(err_rate(&z) == 0);
    CHECK(isnan(err_rate(&ins)));
    errs_add(&z, &e);
    errs_add(&z, &ins);
    CHECK(z.s == 1 && z.d == 2 && z.i == 3 && z.n == 10 && z.utts == 2);
    CHECK_NEAR(err_rate(&z), 60.0, 1e-12);
}

static int levenshtein(char **a, int na, char **b, int nb) {
    int d[20][20];
    for (int i = 0; i <= na; i++)
        for (int j = 0; j <= nb; j++) {
            if (!i || !j) { d[i][j] = i + j; continue; }
            int x = d[i - 1][j - 1] + (strcmp(a[i - 1], b[j - 1]) != 0);
            if (d[i - 1][j] + 1 < x) x = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < x) x = d[i][j - 1] + 1;
            d[i][j] = x;
        }
    return d[na][nb];
}

static void test_random(void) {
    static char *alpha[] = {"a", "b", "c"};
    avm_rng r;
    rng_seed(&r, 5, 0);
    int bad = 0;
    for (int it = 0; it < 2000; it++) {
        char *a[19], *b[19], ops[40];
        int na = rng_below(&r, 12), nb = rng_below(&r, 12);
        for (int i = 0; i < na; i++) a[i] = alpha[rng_below(&r, 3)];
        for (int i = 0; i < nb; i++) b[i] = alpha[rng_below(&r, 3)];
        avm_errs e = {0};
        edit_align((const char *const *)a, na, (const char *const *)b, nb, &e, ops);
        /* the ops string must replay into the counts and consume both sides */
        int ri = 0, hi = 0, okops = 1;
        for (char *o = ops; *o; o++) {
            if (*o == 'C') okops &= ri < na && hi < nb && !strcmp(a[ri], b[hi]);
            if (*o == 'S') okops &= ri < na && hi < nb && strcmp(a[ri], b[hi]);
            ri += *o != 'I'; hi += *o != 'D';
        }
        bad += !okops || ri != na || hi != nb || e.s + e.d + e.i != levenshtein(a, na, b, nb) ||
               e.c + e.s + e.i != nb;
    }
    CHECK_MSG(bad == 0, "%d random pairs disagree with Levenshtein", bad);
}

/* The full-table alignment as it was before the linear-memory one: cost table, then the
 * backtrace from the end preferring match/substitution, deletion, insertion. */
static void table_align(char **ref, int nr, char **hyp, int nh, char *ops) {
    const int64_t big = (int64_t)nr + nh + 1, sub = big + 1, gap = big;
    size_t w = (size_t)nh + 1;
    int64_t *d = xmalloc(((size_t)nr + 1) * w * sizeof *d);
    for (int j = 0; j <= nh; j++) d[j] = j * gap;
    for (int i = 1; i <= nr; i++) {
        int64_t *row = d + i * w, *up = row - w;
        row[0] = i * gap;
        for (int j = 1; j <= nh; j++) {
            int64_t diag = up[j - 1] + (strcmp(ref[i - 1], hyp[j - 1]) ? sub : 0);
            int64_t del = up[j] + gap, ins = row[j - 1] + gap, m = diag < del ? diag : del;
            row[j] = m < ins ? m : ins;
        }
    }
    char *rev = xmalloc((size_t)nr + nh + 1);
    int n = 0, i = nr, j = nh;
    while (i > 0 || j > 0) {
        int64_t cur = d[i * w + j];
        if (i > 0 && j > 0) {
            int same = !strcmp(ref[i - 1], hyp[j - 1]);
            if (cur == d[(i - 1) * w + j - 1] + (same ? 0 : sub)) { rev[n++] = same ? 'C' : 'S'; i--; j--; continue; }
        }
        if (i > 0 && cur == d[(i - 1) * w + j] + gap) { rev[n++] = 'D'; i--; continue; }
        rev[n++] = 'I'; j--;
    }
    for (int k = 0; k < n; k++) ops[k] = rev[n - 1 - k];
    ops[n] = 0;
    free(rev);
    free(d);
}

/* The linear-memory alignment gives exactly the table's ops (same S/D/I and the same
 * tie-breaking), on sizes that go through its divide and conquer (> 2^16 cells), with
 * small alphabets (many ties), unrelated pairs, near-copies and very unequal lengths. */
static void test_same_as_table(void) {
    static char *alpha[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    avm_rng r;
    rng_seed(&r, 11, 0);
    int bad = 0, runs = 0;
    for (int it = 0; it < 60; it++) {
        int na = rng_below(&r, 700), nb = it % 6 == 5 ? rng_below(&r, 20) : rng_below(&r, 700);
        if (it % 2) { int t = na; na = nb; nb = t; }
        int k = 2 + rng_below(&r, 7);
        char **a = xmalloc((na + 1) * sizeof *a), **b = xmalloc((nb + 1) * sizeof *b);
        for (int i = 0; i < na; i++) a[i] = alpha[rng_below(&r, k)];
        for (int i = 0; i < nb; i++)   /* every third pair: b is a noisy copy of a */
            b[i] = it % 3 == 0 && i < na && rng_below(&r, 10) ? a[i] : alpha[rng_below(&r, k)];
        char *want = xmalloc(na + nb + 1), *got = xmalloc(na + nb + 1);
        table_align(a, na, b, nb, want);
        avm_errs e = {0};
        edit_align((const char *const *)a, na, (const char *const *)b, nb, &e, got);
        if (strcmp(want, got)) bad++;
        runs += (long)(na + 1) * (nb + 1) > (1 << 16);
        free(a); free(b); free(want); free(got);
    }
    CHECK_MSG(bad == 0, "%d of 60 random pairs aligned differently from the full table", bad);
    CHECK_MSG(runs >= 20, "only %d pairs were large enough to split", runs);
}

static void test_trans(void) {
    const char *txt = "u2 b  c \n\nu1 a\nu3\n  u0\tx\ty\n";
    CHECK(write_file_atomic("t.txt", txt, strlen(txt)) == 0);
    avm_trans t;
    CHECK(trans_read(&t, "t.txt") == 0);
    CHECK(t.n == 4 && !strcmp(t.u[0].id, "u0") && t.u[0].n == 2 && !strcmp(t.u[0].tok[1], "y"));
    int k = trans_find(&t, "u2");
    CHECK(k == 2 && t.u[k].n == 2 && !strcmp(t.u[k].text, "b  c") && t.u[k].lineno == 1);
    CHECK(t.u[3].n == 0 && !strcmp(t.u[3].text, ""));
    CHECK(trans_find(&t, "zz") == -1);
    trans_free(&t);
    const char *dup = "a x\nb y\na z\n";
    CHECK(write_file_atomic("d.txt", dup, strlen(dup)) == 0);
    CHECK(trans_read(&t, "d.txt") == -1 && strstr(avm_error(), "d.txt:3") && strstr(avm_error(), "'a'"));
    CHECK(trans_read(&t, "nonexistent.txt") == -1 && strstr(avm_error(), "nonexistent.txt"));
    unlink("t.txt"); unlink("d.txt");
}

int main(void) {
    test_cases();
    test_rates();
    test_random();
    test_same_as_table();
    test_trans();
    return check_done("test_edit_distance");
}
