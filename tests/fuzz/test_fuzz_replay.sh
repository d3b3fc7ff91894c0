# timeout: 120
# Replays every fuzz target's seed corpus and saved regressions (tests/fuzz/corpus/<t>/,
# tests/fuzz/regressions/<t>/) through the target built with the gcc replay driver
# ($AVMASK_BUILD/fuzz/fuzz_<t>; ASan+UBSan in the SAN build). Fails if a target is not
# built, has no corpus, or crashes or breaks an invariant on an input.
set -eu
cd "$AVMASK_ROOT/tests/fuzz"
n=0
for src in fuzz_*.c; do
    t=${src#fuzz_}; t=${t%.c}
    bin="$AVMASK_BUILD/fuzz/fuzz_$t"
    [ -x "$bin" ] || { echo "fuzz target $t not built ($bin; make test builds it)"; exit 1; }
    [ -n "$(ls corpus/$t 2>/dev/null)" ] || { echo "fuzz target $t has no seed corpus (tests/fuzz/corpus/$t/)"; exit 1; }
    dirs=(corpus/$t)
    [ -d regressions/$t ] && dirs+=(regressions/$t)
    (cd "$TEST_TMP" && TMPDIR="$TEST_TMP" "$bin" "${dirs[@]/#/$AVMASK_ROOT/tests/fuzz/}") 2>"$TEST_TMP/$t.err" || {
        echo "fuzz target $t failed on its corpus or a regression:"; tail -30 "$TEST_TMP/$t.err"; exit 1; }
    n=$((n + 1))
done
echo "$n targets replayed"
