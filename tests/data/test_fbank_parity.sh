# timeout: 60
# fbank parity with torchaudio.compliance.kaldi.fbank on real speech (pocketsphinx-testdata)
# and synthetic signals (tests/ref/fbank_ref.py), plus the tool's refusal of impossible
# options with a one-line reason.
set -eu
tool="$AVMASK_BUILD/tools/fbank_dump"
[ -x "$tool" ] || { echo "missing $tool"; exit 1; }

"$PY" "$AVMASK_ROOT/tests/ref/fbank_ref.py" --tool "$tool" --work "$TEST_TMP" | tee parity.log
# the reference must have compared every case it lists, none skipped
n=$(grep -c '^ok ' parity.log)
grep -q "^ALL $n CASES OK\$" parity.log
[ "$n" -ge 25 ] || { echo "only $n cases compared"; exit 1; }

# impossible options: non-zero exit, one line naming the problem, no output file
speech=/usr/share/pocketsphinx/test/data/cards/001.wav
expect_fail() {
    local pattern=$1; shift
    if "$tool" "$@" "$speech" bad.f32 2>err.txt; then echo "accepted: $*"; exit 1; fi
    [ "$(wc -l <err.txt)" = 1 ] || { echo "not one line: $*"; cat err.txt; exit 1; }
    grep -q "$pattern" err.txt || { echo "unexpected message for $*:"; cat err.txt; exit 1; }
    [ ! -e bad.f32 ] || { echo "wrote output despite: $*"; exit 1; }
}
expect_fail 'high_freq 9000' --high-freq=9000
expect_fail 'n_mels 0' --n-mels=0
expect_fail 'low_freq 8000' --low-freq=8000
expect_fail 'high_freq -8000' --high-freq=-8000
expect_fail 'mel bin .* is empty' --n-mels=200
expect_fail 'frame length 0' --frame-length=0
expect_fail 'preemph 1.5' --preemph=1.5
echo "fbank parity and option checks passed"
