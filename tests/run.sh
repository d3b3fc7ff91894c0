#!/usr/bin/env bash
# Runs every test: C unit tests ($BUILD/tests/test_*) and shell tests (tests/*/test_*.sh).
# Each test gets AVMASK (the binary), AVMASK_BUILD, AVMASK_ROOT, PY (/usr/bin/python3)
# and a fresh TEST_TMP. A shell test may say "# timeout: N" (seconds) in its first lines.
# T=regex selects tests by name. A test that exits 77 could not run here (e.g. no way to
# mount a small file system) and says why on its last line: it is listed as SKIP, never
# as a pass. Ends with the line "N passed, N failed" (", N skipped" if any).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$root/${BUILD:-build}" && pwd)
export AVMASK="$build/avmask" AVMASK_BUILD="$build" AVMASK_ROOT="$root" PY=/usr/bin/python3
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ "${SAN:-0}" = 1 ]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
fi
logs="$build/test-logs"; rm -rf "$logs"; mkdir -p "$logs"
tests=()
for t in "$build"/tests/test_*; do [ -x "$t" ] && [ "${t%.d}" = "$t" ] && tests+=("$t"); done
for t in "$root"/tests/*/test_*.sh; do [ -f "$t" ] && tests+=("$t"); done
pass=0; fail=0; skip=0; failed=()
start_all=$(date +%s)
for t in "${tests[@]}"; do
    name=$(basename "$t"); name=${name%.sh}
    [ -n "${T:-}" ] && ! [[ $name =~ $T ]] && continue
    limit=300
    case "$t" in
        *.sh) l=$(head -5 "$t" | sed -n 's/^# timeout: *\([0-9]*\).*/\1/p'); [ -n "$l" ] && limit=$l
              cmd=(bash "$t") ;;
        *)    cmd=("$t") ;;
    esac
    export TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/avmask-$name.XXXXXX")
    t0=$(date +%s)
    (cd "$TEST_TMP" && timeout "$limit" "${cmd[@]}") >"$logs/$name.log" 2>&1
    rc=$?; dt=$(( $(date +%s) - t0 ))
    if [ $rc = 0 ]; then
        pass=$((pass+1)); printf 'PASS %-32s %4ds\n' "$name" "$dt"; rm -rf "$TEST_TMP"
    elif [ $rc = 77 ]; then
        skip=$((skip+1)); printf 'SKIP %-32s %4ds (%s)\n' "$name" "$dt" "$(tail -1 "$logs/$name.log")"; rm -rf "$TEST_TMP"
    else
        fail=$((fail+1)); failed+=("$name")
        [ $rc = 124 ] && echo "(timed out after ${limit}s)" >>"$logs/$name.log"
        printf 'FAIL %-32s %4ds (exit %d, log %s)\n' "$name" "$dt" "$rc" "$logs/$name.log"
        tail -25 "$logs/$name.log" | sed 's/^/    | /'
    fi
done
echo "total time: $(( $(date +%s) - start_all ))s"
[ $fail -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed$([ $skip = 0 ] || echo ", $skip skipped")"
[ $fail = 0 ] && [ $pass -gt 0 ]
