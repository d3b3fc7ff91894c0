# k-means throughput (token vectors per second per core for one pass) vs scikit-learn's
# MiniBatchKMeans (and KMeans' Lloyd iteration) on the same data, same run
# (tests/bench/bench_kmeans.py drives both; prints RESULT lines for tests/bench/run.sh).
# Both sides run the BLAS kernel avmask selects for this CPU (numpy/scikit-learn use the
# system BLAS too): tests/bench/run.sh sets OPENBLAS_CORETYPE for every benchmark.
set -eu
bench="$AVMASK_BUILD/bench/bench_kmeans"
[ -x "$bench" ] || { echo "missing $bench (make bench builds it)"; exit 1; }
"$PY" "$AVMASK_ROOT/tests/bench/bench_kmeans.py" --bench "$bench"
