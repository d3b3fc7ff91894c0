/* Data parallelism over MPI. MPI is initialised only when the process was started by
 * an MPI launcher (OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE in the environment), so a
 * plain `avmask pretrain` needs no MPI runtime; world = 1 then and every call is a no-op.
 * Rank 0 writes files and logs; every rank reads its own slice of each global batch. */
#ifndef AVMASK_DIST_H
#define AVMASK_DIST_H
#include <stddef.h>

typedef struct {
    int rank, world;
    int mpi;                /* 1 if MPI_Init was called */
} avm_dist;

void dist_init(avm_dist *d, int *argc, char ***argv);
void dist_finalize(avm_dist *d);
/* In-place sums over all ranks (one MPI_Allreduce; chunked past INT_MAX elements). */
void dist_sum_f32(const avm_dist *d, float *buf, size_t n);
void dist_sum_f64(const avm_dist *d, double *buf, int n);
void dist_barrier(const avm_dist *d);
#endif
