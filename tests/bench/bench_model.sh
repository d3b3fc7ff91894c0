# Model step speed (forward + backward) vs the same model in PyTorch, same run
# (tests/bench/bench_model.py drives both; prints a RESULT line for tests/bench/run.sh).
set -eu
bench="$AVMASK_BUILD/bench/bench_model"
[ -x "$bench" ] || { echo "missing $bench (make bench builds it)"; exit 1; }
"$PY" "$AVMASK_ROOT/tests/bench/bench_model.py" --bench "$bench"
