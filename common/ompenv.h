/* OpenMP's wait policy for every subcommand. libgomp spins idle threads by default,
 * which collapses throughput as soon as anything else runs on the cores (a shared
 * cluster node, parallel jobs, MPI ranks): measured here, a 2-thread pretraining step
 * took 3x longer with one other busy process. Passive waiting costs little when the
 * machine is idle. libgomp reads OMP_WAIT_POLICY once when it is loaded, so when the
 * user has not chosen a policy we set PASSIVE and the caller re-executes the binary once
 * (together with other settings read at load time, e.g. models/blas_kernel.h). */
#ifndef AVMASK_OMPENV_H
#define AVMASK_OMPENV_H
/* Sets OMP_WAIT_POLICY=PASSIVE unless the user set a policy; 1 if it did (re-execute). */
int  ompenv_set_passive(void);
/* Runs this binary again with the same arguments and the current environment; returns
 * only if that fails (no /proc), and then the process carries on as it is. */
void env_reexec(char **argv);
#endif
