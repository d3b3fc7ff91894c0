#!/usr/bin/env bash
# Runs every test: C unit tests ($BUILD/tests/test_*) and shell tests (tests/*/test_*.sh).
# Each test gets AVMASK (the binary), AVMASK_BUILD, AVMASK_ROOT, PY (/usr/bin/python3)
# and a fresh TEST_TMP. A shell test may say "# timeout: N" (seconds) in its first lines.
# T=regex selects tests by name. TEST_JOBS tests run side by side (default: the number of
# cores, at most 4; each test's OpenMP uses OMP_NUM_THREADS, 2). A test that exits 77 could
# not run here (e.g. no way to mount a small file system) and says why on its last line: it
# is listed as SKIP, never as a pass. A pass line gives the wall and CPU seconds (user +
# system, with children). Ends with the line "N passed, N failed" (", N skipped"
# if any).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$root/${BUILD:-build}" && pwd)
export AVMASK="$build/avmask" AVMASK_BUILD="$build" AVMASK_ROOT="$root" PY=/usr/bin/python3
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ "${SAN:-0}" = 1 ]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
fi
logs="$build/test-logs"; rm -rf "$logs"; mkdir -p "$logs"
jobs=${TEST_JOBS:-$(nproc)}; [ "$jobs" -gt 4 ] && jobs=4; [ "$jobs" -ge 1 ] || jobs=1

# A shell test's "# timeout: N" (default 300 s).
limit_of() {
    local l=
    [[ $1 == *.sh ]] && l=$(head -5 "$1" | sed -n 's/^# timeout: *\([0-9]*\).*/\1/p')
    echo "${l:-300}"
}

# Runs one test into its log ($name.log, a shell test's $name.sh.log: a C test and a shell
# test may share a name); prints its one result line (with the log's tail on failure) and
# leaves PASS, SKIP or FAIL in $log.status.
run_one() {
    local t=$1 name log limit rc dt out cmd
    name=$(basename "$t"); name=${name%.sh}
    log=$logs/$(basename "$t").log; [[ $t == *.sh ]] || log=$logs/$name.log
    limit=$(limit_of "$t")
    if [[ $t == *.sh ]]; then cmd=(bash "$t"); else cmd=("$t"); fi
    export TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/avmask-$name.XXXXXX")
    local t0=$(date +%s) cpu TIMEFORMAT=%0U+%0S
    # the CPU seconds (user + system) of the test and its children beside the wall time:
    # the suite's length on N cores is about the sum of its tests' CPU seconds / N
    { time { (cd "$TEST_TMP" && timeout "$limit" "${cmd[@]}") >"$log" 2>&1; }; } 2>"$log.cpu"
    rc=$?; dt=$(( $(date +%s) - t0 )); cpu=$(( $(cat "$log.cpu") )); rm -f "$log.cpu"
    if [ $rc = 0 ]; then
        echo PASS >"$log.status"; out=$(printf 'PASS %-32s %4ds %4ds CPU' "$name" "$dt" "$cpu"); rm -rf "$TEST_TMP"
    elif [ $rc = 77 ]; then
        echo SKIP >"$log.status"; out=$(printf 'SKIP %-32s %4ds (%s)' "$name" "$dt" "$(tail -1 "$log")"); rm -rf "$TEST_TMP"
    else
        echo "FAIL $name" >"$log.status"
        [ $rc = 124 ] && echo "(timed out after ${limit}s)" >>"$log"
        out=$(printf 'FAIL %-32s %4ds (exit %d, log %s)\n' "$name" "$dt" "$rc" "$log"; tail -25 "$log" | sed 's/^/    | /')
    fi
    printf '%s\n' "$out"   # one write, so that lines of tests running side by side do not mix
}

tests=()
for t in "$build"/tests/test_*; do [ -x "$t" ] && [ "${t%.d}" = "$t" ] && tests+=("$t"); done
for t in "$root"/tests/*/test_*.sh; do [ -f "$t" ] && tests+=("$t"); done
# Longest first (a shell test's timeout stands for its length; C unit tests are quick), so
# that the few long tests do not end the run alone on one lane.
mapfile -t tests < <(for t in "${tests[@]}"; do
    k=0; [[ $t == *.sh ]] && k=$(limit_of "$t"); printf '%s\t%s\n' "$k" "$t"; done | sort -s -t$'\t' -k1,1nr | cut -f2)
start_all=$(date +%s)
for t in "${tests[@]}"; do
    name=$(basename "$t"); name=${name%.sh}
    [ -n "${T:-}" ] && ! [[ $name =~ $T ]] && continue
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_one "$t" &
done
wait
pass=$(cat "$logs"/*.status 2>/dev/null | grep -c '^PASS')
skip=$(cat "$logs"/*.status 2>/dev/null | grep -c '^SKIP')
failed=($(cat "$logs"/*.status 2>/dev/null | sed -n 's/^FAIL //p'))
fail=${#failed[@]}
echo "total time: $(( $(date +%s) - start_all ))s ($jobs test(s) at a time)"
[ $fail -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed$([ $skip = 0 ] || echo ", $skip skipped")"
[ $fail = 0 ] && [ $pass -gt 0 ]
