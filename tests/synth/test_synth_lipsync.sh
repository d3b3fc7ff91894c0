# timeout: 120
# The rendered mouth follows the speech: the mouth opening measured from decoded
# pixels in the mouth box (crops file) correlates with the clean audio envelope,
# r > 0.5 on average over utterances and pooled (tests/ref/synth_lipsync.py). And it
# is the speech of the same utterance: against another utterance's envelope the
# correlation is near zero (|r| < 0.25).
set -eu
"$AVMASK" synth --out=c --speakers=4 --utts-per-speaker=3 --seed=3 --train-clean=1 --snr=clean --threads=1 2>/dev/null
"$PY" "$AVMASK_ROOT/tests/ref/synth_lipsync.py" 96 25 16000 c/train c/dev c/test_clean | tee corr.txt
line=$(tail -1 corr.txt)
mean=$(echo "$line" | sed -n 's/.*mean_corr=\([-0-9.]*\).*/\1/p')
pooled=$(echo "$line" | sed -n 's/.*pooled_corr=\([-0-9.]*\).*/\1/p')
n=$(echo "$line" | sed -n 's/.*utts=\([0-9]*\).*/\1/p')
[ "$n" = 12 ] || { echo "expected 12 utterances, got $n"; exit 1; }
awk -v m="$mean" -v p="$pooled" 'BEGIN { exit !(m > 0.5 && p > 0.5) }' || { echo "correlation too low: mean $mean pooled $pooled"; exit 1; }
# control: each video against the next utterance's audio must not correlate
ctl=$(echo "$line" | sed -n 's/.*mismatched_corr=\([-0-9.]*\).*/\1/p')
awk -v c="$ctl" 'BEGIN { exit !(c > -0.25 && c < 0.25) }' || { echo "mismatched pairs correlate: $ctl"; exit 1; }
echo ok
