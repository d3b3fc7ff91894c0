/* OpenMP's wait policy for every subcommand. libgomp spins idle threads by default,
 * which collapses throughput as soon as anything else runs on the cores (a shared
 * cluster node, parallel jobs, MPI ranks): measured here, a 2-thread pretraining step
 * took 3x longer with one other busy process. Passive waiting costs little when the
 * machine is idle. libgomp reads OMP_WAIT_POLICY once when it is loaded, so when the
 * user has not chosen a policy we set PASSIVE and re-execute the binary once. */
#ifndef AVMASK_OMPENV_H
#define AVMASK_OMPENV_H
void ompenv_default_passive(char **argv);
#endif
