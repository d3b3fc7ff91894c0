#!/usr/bin/env bash
# make fuzz: runs each libFuzzer target (build-fuzz/fuzz/fuzz_<name>) for FUZZ_SECONDS on
# its seed corpus (tests/fuzz/corpus/<name>/) and saved regressions
# (tests/fuzz/regressions/<name>/), at the lowest priority. New coverage goes to a scratch
# corpus (build-fuzz/corpus/<name>/), never into the repository; a crash, leak, timeout or
# out-of-memory input is copied into tests/fuzz/regressions/<name>/ and reported.
# Ends with one line per target and exits 1 if any target found something.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-60}
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary=(); found=0
for t in "$@"; do
    bin="$root/build-fuzz/fuzz/fuzz_$t"
    [ -x "$bin" ] || { echo "fuzz: no target $t ($bin)"; found=1; continue; }
    seeds="$root/tests/fuzz/corpus/$t" regs="$root/tests/fuzz/regressions/$t"
    work="$root/build-fuzz/corpus/$t" art="$root/build-fuzz/artifacts/$t/" log="$root/build-fuzz/fuzz-$t.log"
    mkdir -p "$work" "$art"
    dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    [ -d "$regs" ] && dirs+=("$regs")
    echo "fuzz: $t for ${secs}s (log $log)"
    t0=$(date +%s)
    (cd "$root/build-fuzz" && nice -n 19 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=1024 -max_len=8192 -print_final_stats=1 -artifact_prefix="$art" "${dirs[@]}") >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    new=0
    for a in "$art"*; do
        [ -f "$a" ] || continue
        mkdir -p "$regs"
        cp "$a" "$regs/$(basename "$a")" && rm "$a"
        new=$((new + 1))
    done
    if [ $rc = 0 ] && [ $new = 0 ]; then
        summary+=("$(printf '%-16s %4ss  %8s runs  %-9s  nothing found' "$t" "$(( $(date +%s) - t0 ))" "${runs:-?}" "${cov:-cov: ?}")")
    else
        found=1
        summary+=("$(printf '%-16s %4ss  %8s runs  %-9s  FOUND (exit %d): %d input(s) saved in tests/fuzz/regressions/%s/' \
                  "$t" "$(( $(date +%s) - t0 ))" "${runs:-?}" "${cov:-cov: ?}" $rc $new "$t")")
        grep -m3 -E 'ERROR|runtime error|invariant broken|SUMMARY' "$log" | sed 's/^/    | /'
    fi
done
printf '%s\n' "${summary[@]}"
exit $found
