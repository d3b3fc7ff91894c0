/* Minimal assertion helpers for C unit tests: each CHECK counts, a failure
 * prints file:line and the expression, and check_done() sets the exit code. */
#ifndef AVMASK_CHECK_H
#define AVMASK_CHECK_H
#include <math.h>
#include <stdio.h>

static int check_total, check_failed;

#define CHECK(cond) do { check_total++; if (!(cond)) { check_failed++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_MSG(cond, ...) do { check_total++; if (!(cond)) { check_failed++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* |a-b| <= tol, printing both values on failure. */
#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); check_total++; \
    if (!(fabs(a_ - b_) <= (tol))) { check_failed++; fprintf(stderr, \
    "%s:%d: CHECK_NEAR failed: %s=%.9g %s=%.9g tol=%g\n", __FILE__, __LINE__, \
    #a, a_, #b, b_, (double)(tol)); } } while (0)

static inline int check_done(const char *name) {
    printf("%s: %d checks, %d failed\n", name, check_total, check_failed);
    return check_failed ? 1 : (check_total ? 0 : 1); /* a test that checks nothing fails */
}
#endif
