#!/usr/bin/env bash
# Runs every benchmark in tests/bench/ (bench_*.sh) and ends with one table of the
# figures they report. A benchmark prints whatever it likes, plus one line per headline
# figure in the form
#   RESULT <name> | <our figure> | <reference figure> | <ratio>
# which this script gathers. Benchmarks never decide a pass or a fail.
# B=REGEX runs the benchmarks whose file name matches; REPEATS=N sets the repeats of each
# (small for a smoke run; BENCHMARKING.md asks for at least 5), STEPS the timed steps per
# run of the training benchmarks.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$root/${BUILD:-build}" && pwd)
export AVMASK="$build/avmask" AVMASK_BUILD="$build" AVMASK_ROOT="$root" PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Every contender runs the BLAS kernel avmask selects for this CPU (models/blas_kernel.h):
# the bench binaries and Python's numpy/torch/scikit-learn load the same system OpenBLAS,
# which would otherwise fall back to its slowest kernel on CPUs it does not know. A kernel
# the user set is kept.
system=$("$AVMASK" --system)
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    OPENBLAS_CORETYPE=$(sed 's/.* kernel \([A-Za-z0-9]*\).*/\1/' <<<"$system")
    export OPENBLAS_CORETYPE
fi
out=$(mktemp)
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
for b in "$root"/tests/bench/bench_*.sh; do
    [ -f "$b" ] || continue
    [ -n "${B:-}" ] && ! [[ $(basename "$b") =~ $B ]] && continue
    echo "=== $(basename "$b" .sh)"
    echo "$system"      # the CPU, its ISA and the BLAS kernel beside every benchmark's figures
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/avmask-bench.XXXXXX")
    (cd "$tmp" && bash "$b") 2>&1 | tee -a "$out"
    rm -rf "$tmp"
done
echo
echo "$system"
echo "| figure | avmask | reference | ratio |"
echo "|---|---|---|---|"
sed -n 's/^RESULT \(.*\)$/| \1 |/p' "$out"
rm -f "$out"
