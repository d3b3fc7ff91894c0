/* The BLAS kernel for this CPU. Debian 12's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernel
 * from the CPU model it recognises and falls back to the slowest one (Prescott, SSE3) on
 * CPUs newer than itself, e.g. current Xeons with AVX-512: the training step then runs 3x
 * slower than with its SkylakeX kernel. OpenBLAS reads OPENBLAS_CORETYPE once, when it is
 * loaded, so a better kernel is chosen by setting it and re-executing the binary (as
 * common/ompenv.h does for OMP_WAIT_POLICY). A user's own OPENBLAS_CORETYPE is kept. */
#ifndef AVMASK_BLAS_KERNEL_H
#define AVMASK_BLAS_KERNEL_H
#include <stddef.h>

/* The kernel OpenBLAS runs (openblas_get_corename). */
const char *blas_kernel_current(void);
/* The best kernel of this OpenBLAS for the CPU's instruction set: SkylakeX (AVX-512
 * F/BW/DQ/VL), Haswell (AVX2 + FMA), Sandybridge (AVX); NULL below that. */
const char *blas_kernel_for_cpu(void);
/* The widest vector ISA of the CPU: "AVX-512", "AVX2", "AVX", "SSE". */
const char *cpu_isa(void);
/* Rank of a kernel by the ISA it uses: 4 AVX-512, 3 AVX2, 2 AVX, 1 SSE, 0 unknown name. */
int blas_kernel_rank(const char *name);
/* When OPENBLAS_CORETYPE is unset and the current kernel ranks below the CPU's, sets it to
 * blas_kernel_for_cpu() (and AVMASK_BLAS_DETECTED to what OpenBLAS chose) and returns 1: the
 * caller re-executes the binary. Otherwise 0. */
int blas_kernel_select(void);
/* One line: CPU model, ISA, BLAS library and kernel (and why it is that kernel), threads;
 * with a warning sentence when the kernel is below the CPU. */
void blas_kernel_describe(char *buf, size_t n, int threads);
#endif
