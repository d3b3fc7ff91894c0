/* k-means arithmetic on blocks of rows: nearest centres through cblas_sgemm
 * (||x||^2 - 2 x.c + ||c||^2, the expansion scikit-learn uses), OpenMP over row chunks,
 * Lloyd sums, k-means++ seeding and the codebook hash. Nothing here reads files. */
#ifndef AVMASK_KMEANS_H
#define AVMASK_KMEANS_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int k, dim;
    float *c;          /* centres [k, dim] */
    float *cn;         /* ||c||^2 [k], kept by km_centres_update_norms */
} km_centres;

void km_centres_init(km_centres *C, int k, int dim);   /* zero centres */
void km_centres_update_norms(km_centres *C);
void km_centres_free(km_centres *C);

/* Lloyd sums of the rows assigned to each centre: one slice per thread, so that the
 * sums are added in the same order for the same thread count (deterministic). */
typedef struct {
    int k, dim, nthr;
    double *sum;       /* [nthr, k, dim] */
    double *cnt;       /* [nthr, k] */
} km_acc;
void km_acc_init(km_acc *a, int k, int dim);
void km_acc_zero(km_acc *a);
/* Centres become the means of their rows; a centre with no row keeps its place. Returns
 * the number of such empty clusters. */
int  km_acc_update(km_acc *a, km_centres *C);
void km_acc_free(km_acc *a);

/* Nearest centre of each row of x [n, dim] (ties: the lower index). lab and d2 (squared
 * distance, >= 0) may be NULL; acc, if not NULL, receives the rows. Returns the inertia
 * (sum of d2) added in double in a fixed order. */
double km_assign(const km_centres *C, const float *x, int n, int32_t *lab, float *d2, km_acc *acc);

/* Greedy k-means++ (Arthur & Vassilvitskii 2007, with scikit-learn's 2 + ln k local trials)
 * on x [n, dim], n >= k: fills C's centres. */
void km_plusplus(const float *x, int n, int dim, km_centres *C, uint64_t seed);

/* 16 hex digits of FNV-1a 64 over the source name, k, dim, the centres and the
 * normalisation (mean, std [dim]): what labels and checkpoints quote to name a codebook. */
void km_hash(const char *source, const km_centres *C, const double *mean, const double *std, char out[17]);
/* 16 hex digits of FNV-1a 64 over n bytes (the identity of a feature dir's index.tsv). */
void km_hash_bytes(const void *p, size_t n, char out[17]);
#endif
