#include "train/dist.h"
#include "common/log.h"
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>

static int launched_by_mpi(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

void dist_init(avm_dist *d, int *argc, char ***argv) {
    d->rank = 0;
    d->world = 1;
    d->mpi = 0;
    if (!launched_by_mpi()) return;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) avm_die("MPI_Init failed");
    d->mpi = 1;
    if (MPI_Comm_rank(MPI_COMM_WORLD, &d->rank) != MPI_SUCCESS ||
        MPI_Comm_size(MPI_COMM_WORLD, &d->world) != MPI_SUCCESS)
        avm_die("MPI: cannot query rank and size");
}

void dist_finalize(avm_dist *d) {
    if (d->mpi) MPI_Finalize();
    d->mpi = 0;
}

void dist_sum_f32(const avm_dist *d, float *buf, size_t n) {
    if (!d->mpi || d->world == 1) return;
    for (size_t off = 0; off < n; off += INT_MAX) {
        int k = n - off > INT_MAX ? INT_MAX : (int)(n - off);
        if (MPI_Allreduce(MPI_IN_PLACE, buf + off, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            avm_die("rank %d: MPI_Allreduce of the gradients failed", d->rank);
    }
}

void dist_sum_f64(const avm_dist *d, double *buf, int n) {
    if (!d->mpi || d->world == 1) return;
    if (MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        avm_die("rank %d: MPI_Allreduce of the loss statistics failed", d->rank);
}

void dist_barrier(const avm_dist *d) {
    if (d->mpi && d->world > 1) MPI_Barrier(MPI_COMM_WORLD);
}
