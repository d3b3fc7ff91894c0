#!/usr/bin/env bash
# timeout: 180
# MPI data parallelism of avmask s2i: `mpirun -np 2` on one global batch gives the same summed
# gradient (hidden --dump-grad: the first step's, every view of the encoder and the head) as
# one process on the union of both ranks' samples, max|g2 - g1| / max|g1| <= 1e-5, and the
# same logged losses and validation figures (accuracy, cosine). Each rank divides its sums
# by the global batch size, and every cross-modal term of a sample depends on its own
# embedding and the global batch's texts (the pool, the same on every rank), so the ranks'
# shares add up to the union's: checked for no cross-modal loss, l2, the triplet with sampled
# and with hardest negatives, InfoNCE, with SpecAugment and the labelled fraction, a frozen
# probe, and global batches of one utterance (the second rank then has no sample). Dropout
# must be 0 (its masks are keyed by rank). Only rank 0 writes.
set -u
fail() { echo "FAIL: $*"; exit 1; }
. "$AVMASK_ROOT/tests/train/mpi_launch.sh"   # mpi=(mpirun ... -np 2)
"$AVMASK" synth-slu --out=c --speakers-per-family=3 --utts-per-speaker=8 >/dev/null 2>synth.err || { cat synth.err; fail synth-slu; }
for s in train dev; do
    "$AVMASK" extract --data=c/$s --out=f/$s --nj=2 >/dev/null 2>ex.err || { cat ex.err; fail "extract $s"; }
done
"$AVMASK" textlm --text=c/text_corpus.txt --d=32 --ffn=64 --heads=2 --layers=1 --max-steps=5 --batch-tokens=512 \
    --threads=2 --out=lm >/dev/null 2>lm.err || { cat lm.err; fail textlm; }
run=(s2i --init=none --feats=f/train --data=c/train --intents=c/intents.txt --valid=f/dev --valid-data=c/dev
     --text-model=lm/model --d=32 --ffn=64 --heads=2 --layers-audio=1 --layers-fusion=1 --max-steps=1 --lr=1e-2
     --dropout=0 --attn-dropout=0 --threads=1 --log-every=1 --valid-every=1)
modes="none l2 triplet hardest infonce specaug probe single"
for mode in $modes; do
    case $mode in
        none|l2|triplet|infonce) mo=(--batch-tokens=1000 --xmodal-loss=$mode) ;;
        hardest) mo=(--batch-tokens=1000 --xmodal-loss=triplet --xmodal-negative=hardest) ;;
        specaug) mo=(--batch-tokens=1000 --xmodal-loss=triplet --label-fraction=0.5 --time-mask-prob=0.2
                     --time-mask-len=2 --freq-masks=2 --freq-mask-width=5) ;;
        probe) mo=(--batch-tokens=1000 --xmodal-loss=infonce --freeze-steps=all) ;;
        single) mo=(--batch-tokens=1 --xmodal-loss=l2) ;;   # a triplet needs two intents in a batch
    esac
    mpi_pair $mode "${run[@]}" "${mo[@]}"
    [ "$(wc -l < two_$mode/metrics.jsonl)" = 3 ] || fail "metrics.jsonl written by more than rank 0"
    [ "$(grep -c 'model in' two.out)" = 1 ] || fail "model written by more than rank 0"
done
export modes
"$PY" - <<'PY' || fail "gradients or losses differ"
import os, sys
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import grad_rel, same_metrics
for mode in os.environ["modes"].split():
    grad_rel(mode)
    a, b = same_metrics(mode, ("loss", "loss_ce", "loss_xmodal", "acc", "grad_norm", "valid_loss", "valid_acc",
                               "valid_cos"), 1e-6)
    print("%-8s loss %.6f, cross-modal %.6f" % (mode, a[1]["loss"], a[1]["loss_xmodal"]))
    assert (a[1]["loss_xmodal"] > 0) == (mode != "none"), (mode, a[1])
PY
# the probe's encoder gets no gradient (frozen), the head does
"$PY" - <<'PY' || fail "frozen encoder"
import h5py, numpy as np
g = np.fromfile("g1_probe.f32", np.float32)
p = h5py.File("one_probe/model/audio_encoder.h5", "r")["params"]
n = sum(p[k].size for k in p)
assert np.abs(g[:n]).max() == 0 and np.abs(g[n:]).max() > 0, (n, g.size)
PY
echo "test_s2i_mpi: ok"
