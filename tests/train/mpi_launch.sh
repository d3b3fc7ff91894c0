# Sourced by the MPI tests: the launcher as the array mpi=(...) for `"${mpi[@]}" avmask ...`.
export OMP_WAIT_POLICY=PASSIVE OMPI_MCA_rmaps_base_oversubscribe=1
command -v mpirun >/dev/null || { echo "FAIL: mpirun not installed (openmpi-bin)"; exit 1; }
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
# Sanitizer build: Open MPI's components (dlopened, unloaded at exit) leave allocations
# LeakSanitizer cannot attribute; leaks of our code are checked by the single-process runs.
[ -n "${ASAN_OPTIONS:-}" ] && mpi=(env ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" "${mpi[@]}")
