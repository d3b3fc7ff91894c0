# fbank speed vs torchaudio.compliance.kaldi.fbank on the same speech, same run
# (tests/bench/bench_fbank.py drives both; prints RESULT lines for tests/bench/run.sh).
set -eu
bench="$AVMASK_BUILD/bench/bench_fbank"
[ -x "$bench" ] || { echo "missing $bench (make bench builds it)"; exit 1; }
"$PY" "$AVMASK_ROOT/tests/bench/bench_fbank.py" --bench "$bench"
