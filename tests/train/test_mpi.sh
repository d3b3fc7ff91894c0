#!/usr/bin/env bash
# timeout: 60
# MPI data parallelism: `mpirun -np 2 avmask pretrain` on one global batch gives the same
# averaged gradient (hidden --dump-grad: the all-reduced gradient of the first step) as
# one process on the union of both ranks' samples: max|g2 - g1| / max|g1| <= 1e-5.
# Checked for --modalities=audio, av, av with --video-mask=substitute, and --target=clusters
# (cluster labels by `avmask kmeans`) audio-only and av with --unmasked-weight=0.5 (the
# unmasked tokens' CE is normalised by the masked count, HuBERT's, so the same weights
# apply) and the masked accuracy logged: each rank weights each modality's loss by its share
# of that modality's masked tokens (train/README.md, "Loss averaging over ranks"), so the sum
# is exact; the logged losses must agree too. Only rank 0 writes.
set -u
fail() { echo "FAIL: $*"; exit 1; }
. "$AVMASK_ROOT/tests/train/mpi_launch.sh"   # mpi=(mpirun ... -np 2)
$AVMASK_BUILD/tools/train_mkfeats --out=tr --n=9 --min-tokens=10 --max-tokens=30 || fail mkfeats
"$AVMASK" kmeans --feats=tr --out=km --k=6 --source=fbank --sample=1 2>/dev/null || fail kmeans
"$AVMASK" kmeans --apply --codebook=km --feats=tr --out=lab 2>/dev/null || fail "kmeans --apply"
run=(pretrain --feats=tr --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=1 --batch-tokens=300
     --max-len=30 --dropout=0 --attn-dropout=0 --threads=1 --log-every=1 --mask-prob-audio=0.2)
cl=(--target=clusters --labels=lab)
for mode in audio av avsub audiocl avcl; do
    case $mode in
        avsub) mo=(--modalities=av --video-mask=substitute) ;;
        audiocl) mo=(--modalities=audio "${cl[@]}") ;;
        avcl) mo=(--modalities=av "${cl[@]}" --unmasked-weight=0.5 --modality-dropout-audio=0.3) ;;
        *) mo=(--modalities=$mode) ;;
    esac
    mpi_pair $mode "${run[@]}" "${mo[@]}"
    [ "$(wc -l < two_$mode/metrics.jsonl)" = 1 ] || fail "metrics.jsonl written by more than rank 0"
done
"$PY" - <<'PY' || fail "gradients or losses differ"
import json, os, sys
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import grad_rel
for mode in ("audio", "av", "avsub", "audiocl", "avcl"):
    grad_rel(mode, min_size=10000)
for mode in ("audio", "av", "avsub", "audiocl", "avcl"):
    a = json.loads(open("one_%s/metrics.jsonl" % mode).readline())
    b = json.loads(open("two_%s/metrics.jsonl" % mode).readline())
    keys = ("loss", "loss_audio") if mode in ("audio", "audiocl", "avcl") else ("loss", "loss_audio", "loss_video")
    keys += ("acc_audio",) if mode.endswith("cl") else ()
    for k in keys:
        assert abs(a[k] - b[k]) <= 1e-6 * abs(a[k]), (mode, k, a[k], b[k])
    print(mode, "losses 1 rank vs 2 ranks:", a["loss_audio"], b["loss_audio"], a["loss_video"], b["loss_video"])
PY
# a few steps over two ranks end with one checkpoint
"${mpi[@]}" "$AVMASK" "${run[@]}" --max-steps=4 --save-every=2 --out=multi 2>multi.err || { cat multi.err; fail "4 steps on 2 ranks"; }
"$PY" -c "import h5py; assert int(h5py.File('multi/checkpoint-last.h5','r').attrs['step']) == 4" || fail "checkpoint"
echo "test_mpi: ok"
