#!/usr/bin/env bash
# timeout: 90
# avmask pretrain --noise-feats (noisy input, clean target; train/README.md "Noise"):
# a run with noise writes its settings into config.json and the checkpoint; validation
# stays clean (the untrained model's step-0 validation loss equals the run without
# noise's) while training losses change; --noise-prob=0 is bitwise the run without noise;
# bad noise options and a noise set of other features are refused with one line each;
# a run killed by SIGKILL and resumed equals the uninterrupted one bitwise; two MPI ranks
# give the gradient of one process (noise decisions keyed by global sample position).
set -u
export OMP_WAIT_POLICY=PASSIVE OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "FAIL: $*"; exit 1; }
mk=$AVMASK_BUILD/tools/train_mkfeats
$mk --out=tr --n=30 --min-tokens=10 --max-tokens=40 || fail mkfeats
$mk --out=va --n=6 --seed=2 --min-tokens=10 --max-tokens=40 || fail mkfeats
# noise: audio only, utterances shorter and longer than the crops (looped / offset)
$mk --out=nz --n=6 --seed=3 --min-tokens=2 --max-tokens=80 --no-video --shard-size=2 || fail mkfeats
$mk --out=nz40 --n=3 --n-mels=40 --no-video || fail mkfeats
run=(pretrain --feats=tr --valid=va --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=22
     --batch-tokens=240 --max-len=30 --lr=3e-3 --warmup=4 --log-every=1 --valid-every=5 --save-every=6
     --modality-dropout-audio=0.2 --modality-dropout-video=0.2 --dropout=0.1 --attn-dropout=0.1 --threads=2)
noise=(--noise-feats=nz --noise-prob=0.7 --noise-snr=-5,15)

"$AVMASK" "${run[@]}" "${noise[@]}" --out=a 2>a.err || { cat a.err; fail "run with noise"; }
grep -q "noise nz: 6 utterances, mixed into 0.7 of the training samples at -5..15 dB SNR" a.err || { cat a.err; fail "noise line"; }
"$AVMASK" "${run[@]}" --out=clean 2>clean.err || { cat clean.err; fail "run without noise"; }
"$AVMASK" "${run[@]}" --noise-feats=nz --noise-prob=0 --out=p0 2>p0.err || { cat p0.err; fail "run with --noise-prob=0"; }
"$PY" - <<'PY' || fail "noise settings or effects"
import os, sys, h5py, json, numpy as np
cfg = json.load(open("a/config.json"))["train"]
assert cfg["noise_feats"] == "nz" and cfg["noise_prob"] == 0.7 and cfg["noise_snr"] == [-5, 15], cfg
assert json.loads(h5py.File("a/checkpoint-last.h5", "r").attrs["config"])["train"]["noise_snr"] == [-5, 15]
c = json.load(open("clean/config.json"))["train"]
assert c["noise_feats"] is None and c["noise_prob"] == 0, c
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
a, clean, p0 = rows("a/metrics.jsonl"), rows("clean/metrics.jsonl"), rows("p0/metrics.jsonl")
assert a[0] == clean[0] and "valid_loss" in a[0], (a[0], clean[0])   # step 0: clean validation
ta = [r["loss"] for r in a if "loss" in r]; tc = [r["loss"] for r in clean if "loss" in r]
assert len(ta) == 22 and sum(x != y for x, y in zip(ta, tc)) >= 20, (ta, tc)
assert p0 == clean, [(x, y) for x, y in zip(p0, clean) if x != y][:2]
fp, fc = h5py.File("p0/checkpoint-last.h5", "r"), h5py.File("clean/checkpoint-last.h5", "r")
assert all(np.array_equal(fp["params"][k][()], fc["params"][k][()]) for k in fc["params"])
print("noise: config ok; step-0 validation equal; %d of 22 training losses changed; prob 0 = no noise" %
      sum(x != y for x, y in zip(ta, tc)))
PY

# bad options and mismatched noise features: one line each, nothing written
bad() {  # expected-stderr-regex, then the arguments
    local want=$1; shift
    "$AVMASK" "$@" >bad.out 2>bad.err && fail "accepted: $*"
    [ "$(wc -l <bad.err)" = 1 ] || { cat bad.err; fail "not one line: $*"; }
    grep -Eq "$want" bad.err || { cat bad.err; fail "unclear error for $*: wanted /$want/"; }
    [ ! -e x ] || fail "a refused run left x/"
}
bad 'noise features nz40 and training features tr differ: n_mels is 40 vs 80' "${run[@]}" --out=x --noise-feats=nz40
bad 'nothere: no such feature directory' "${run[@]}" --out=x --noise-feats=nothere
bad 'noise-prob=1.5 is out of range \[0, 1\]' "${run[@]}" --out=x --noise-feats=nz --noise-prob=1.5
bad 'noise-snr=20,5 must be LO,HI' "${run[@]}" --out=x --noise-feats=nz --noise-snr=20,5
bad 'noise-snr=5 must be LO,HI' "${run[@]}" --out=x --noise-feats=nz --noise-snr=5
bad 'need --noise-feats' "${run[@]}" --out=x --noise-prob=0.5

# killed after step 15 (last checkpoint: step 12) and resumed: the same run, bitwise
"$AVMASK" "${run[@]}" "${noise[@]}" --out=b --debug-kill-step=15 2>b.err
rc=$?
[ $rc = 137 ] || fail "expected death by SIGKILL (137), got $rc"
"$AVMASK" "${run[@]}" "${noise[@]}" --out=b --resume 2>b2.err || { cat b2.err; fail "resume"; }
grep -q "resuming at step 12" b2.err || fail "resume message"
"$PY" - <<'PY' || fail "resumed run with noise differs"
import json, os, sys, h5py, numpy as np
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
a, b = rows("a/metrics.jsonl"), rows("b/metrics.jsonl")
assert a == b, [(x, y) for x, y in zip(a, b) if x != y][:3]
fa, fb = h5py.File("a/checkpoint-last.h5", "r"), h5py.File("b/checkpoint-last.h5", "r")
for g in ("params", "optim/m", "optim/v"):
    for k in fa[g]:
        assert np.array_equal(fa[g][k][()], fb[g][k][()]), (g, k)
print("resume with noise: %d metric lines identical, params and moments bitwise equal" % len(a))
PY

# two ranks: the averaged gradient of the first step equals one process's
if command -v mpirun >/dev/null; then
    mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
    [ -n "${ASAN_OPTIONS:-}" ] && mpi=(env ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" "${mpi[@]}")
    one=(pretrain --feats=tr --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=1 --batch-tokens=300 --max-len=30
         --dropout=0 --attn-dropout=0 --threads=1 --log-every=1 --mask-prob-audio=0.2 --modalities=audio
         --noise-feats=nz --noise-prob=0.7)
    "$AVMASK" "${one[@]}" --out=m1 --dump-grad=g1.f32 2>m1.err || { cat m1.err; fail "single process"; }
    "${mpi[@]}" "$AVMASK" "${one[@]}" --out=m2 --dump-grad=g2.f32 >m2.out 2>m2.err || { cat m2.err; fail "mpirun -np 2"; }
    grep -q "2 rank(s)" m2.err || fail "not two ranks"
    "$AVMASK" "${one[@]}" --out=m0 --noise-prob=0 --dump-grad=g0.f32 2>m0.err || { cat m0.err; fail "no-noise process"; }
    "$PY" - <<'PY' || fail "gradient of 2 ranks with noise"
import numpy as np
g0, g1, g2 = (np.fromfile("g%d.f32" % i, np.float32) for i in (0, 1, 2))
rel = np.abs(g2 - g1).max() / np.abs(g1).max()
moved = np.abs(g1 - g0).max() / np.abs(g1).max()
print("noise, 2 ranks vs 1: max rel %.3g; noise moved the gradient by %.3g" % (rel, moved))
assert rel <= 1e-5 and moved > 1e-3, (rel, moved)
PY
fi
echo "test_noise: ok"
