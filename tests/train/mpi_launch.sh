# Sourced by the MPI tests: the launcher as the array mpi=(...) for `"${mpi[@]}" avmask ...`.
export OMP_WAIT_POLICY=PASSIVE OMPI_MCA_rmaps_base_oversubscribe=1
command -v mpirun >/dev/null || { echo "FAIL: mpirun not installed (openmpi-bin)"; exit 1; }
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
# Sanitizer build: Open MPI's components (dlopened, unloaded at exit) leave allocations
# LeakSanitizer cannot attribute; leaks of our code are checked by the single-process runs.
[ -n "${ASAN_OPTIONS:-}" ] && mpi=(env ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" "${mpi[@]}")

# mpi_pair MODE ARGS...: the run ARGS in one process (--out=one_MODE, --dump-grad=g1_MODE.f32)
# and on two ranks (two_MODE, g2_MODE.f32; their stdout in two.out); fails the test unless
# both succeed, two ranks ran and rank 0 alone wrote train.log. The gradients are compared
# by tests/train/runs.py.
mpi_pair() {
    local mode=$1; shift
    "$AVMASK" "$@" --out=one_$mode --dump-grad=g1_$mode.f32 >/dev/null 2>one.err ||
        { cat one.err; fail "single process ($mode)"; }
    "${mpi[@]}" "$AVMASK" "$@" --out=two_$mode --dump-grad=g2_$mode.f32 >two.out 2>two.err ||
        { cat two.err; fail "mpirun -np 2 ($mode)"; }
    grep -q "2 rank(s)" two_$mode/train.log || fail "not two ranks ($mode)"
    [ "$(grep -c 'starting at step 0' two_$mode/train.log)" = 1 ] || fail "train.log written by more than rank 0 ($mode)"
}
