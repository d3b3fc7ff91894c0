# Model step speed (forward + backward) vs the same model in PyTorch, same run
# (tests/bench/bench_model.py drives both; prints RESULT lines for tests/bench/run.sh), and
# the step's scaling over threads. Both sides run the BLAS kernel avmask selects for this
# CPU: tests/bench/run.sh sets OPENBLAS_CORETYPE for every benchmark.
set -eu
bench="$AVMASK_BUILD/bench/bench_model"
[ -x "$bench" ] || { echo "missing $bench (make bench builds it)"; exit 1; }
"$PY" "$AVMASK_ROOT/tests/bench/bench_model.py" --bench "$bench" --model="${MODEL:-base}"
