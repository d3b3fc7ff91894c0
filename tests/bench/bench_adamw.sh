# Optimizer speed (global-norm clipping + AdamW) vs PyTorch's, same run
# (tests/bench/bench_adamw.py drives both; prints a RESULT line for tests/bench/run.sh).
set -eu
bench="$AVMASK_BUILD/bench/bench_adamw"
[ -x "$bench" ] || { echo "missing $bench (make bench builds it)"; exit 1; }
"$PY" "$AVMASK_ROOT/tests/bench/bench_adamw.py" --bench "$bench"
