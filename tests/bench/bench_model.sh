# Model step speed (forward + backward) vs the same model in PyTorch, same run
# (tests/bench/bench_model.py drives both; prints a RESULT line for tests/bench/run.sh).
# Both sides run the BLAS kernel avmask selects for this CPU (models/blas_kernel.h): Debian's
# torch sends float32 products to the same system OpenBLAS, which would otherwise fall back
# to its slowest kernel on CPUs it does not know, for torch and for the bench binary alike.
set -eu
bench="$AVMASK_BUILD/bench/bench_model"
[ -x "$bench" ] || { echo "missing $bench (make bench builds it)"; exit 1; }
system=$("$AVMASK" --system)
echo "$system"
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    export OPENBLAS_CORETYPE=$(sed 's/.* kernel \([A-Za-z0-9]*\).*/\1/' <<<"$system")
fi
"$PY" "$AVMASK_ROOT/tests/bench/bench_model.py" --bench "$bench"
