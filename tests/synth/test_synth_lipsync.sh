# timeout: 120
# The rendered mouth follows the speech: the mouth opening measured from decoded
# pixels in the mouth box (crops file) correlates with the clean audio envelope,
# r > 0.5 on average over utterances and pooled (tests/ref/synth_lipsync.py). And it
# is the speech of the same utterance: against another utterance's envelope the
# correlation is near zero.
set -eu
"$AVMASK" synth --out=c --speakers=4 --utts-per-speaker=3 --seed=3 --train-clean=1 --snr=clean --threads=1 2>/dev/null
"$PY" "$AVMASK_ROOT/tests/ref/synth_lipsync.py" 96 25 16000 c/train c/dev c/test_clean | tee corr.txt
line=$(tail -1 corr.txt)
mean=$(echo "$line" | sed -n 's/.*mean_corr=\([-0-9.]*\).*/\1/p')
pooled=$(echo "$line" | sed -n 's/.*pooled_corr=\([-0-9.]*\).*/\1/p')
n=$(echo "$line" | sed -n 's/.*utts=\([0-9]*\).*/\1/p')
[ "$n" = 12 ] || { echo "expected 12 utterances, got $n"; exit 1; }
awk -v m="$mean" -v p="$pooled" 'BEGIN { exit !(m > 0.5 && p > 0.5) }' || { echo "correlation too low: mean $mean pooled $pooled"; exit 1; }
# control: pair each video with the next utterance's audio (crops stay with the video)
"$PY" - <<'PY'
import sys, numpy as np
sys.path.insert(0, __import__("os").environ["AVMASK_ROOT"] + "/tests/ref")
from synth_lipsync import decode, read_map, opening
scp, crops = read_map("c/train/media.scp"), read_map("c/train/crops")
utts = sorted(scp)
rs = []
for i, u in enumerate(utts):
    v = "c/train/" + scp[u][0]
    a = "c/train/" + scp[utts[(i + 1) % len(utts)]][0]
    m = opening(decode(v, ["-f", "rawvideo", "-pix_fmt", "gray"], np.uint8).reshape(-1, 96, 96), list(map(int, crops[u])))
    pcm = decode(a, ["-vn", "-f", "f32le", "-ac", "1", "-ar", "16000"], np.float32)
    n = min(len(m), len(pcm) // 640)
    env = np.sqrt((pcm[:n * 640].reshape(n, 640).astype(np.float64) ** 2).mean(1))
    rs.append(np.corrcoef(m[:n], env)[0, 1])
print(f"mismatched pairs: mean_corr={np.mean(rs):.4f}")
sys.exit(0 if abs(np.mean(rs)) < 0.25 else 1)
PY
echo ok
