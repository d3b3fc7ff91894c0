#!/usr/bin/env bash
# timeout: 90
# MPI data parallelism of fine-tuning: `mpirun -np 2 avmask finetune` on one global batch
# gives the same summed gradient (hidden --dump-grad: the gradient of the first step, every
# view of the encoder and the head) as one process on the union of both ranks' samples,
# max|g2 - g1| / max|g1| <= 1e-5, and the same logged loss and validation loss and error
# rate: each rank's CTC mean is divided by the global batch size (models/ops.h, CTC loss), so the
# ranks' losses and gradients add up to the union's. Checked with SpecAugment (keyed by
# the sample's place in the global batch), with learned layer weights and a frozen encoder,
# with global batches of one utterance (the second rank then has no sample), and with the
# frame objective (its token mean is divided by the global batch's token count). Dropout
# must be 0 (its masks are keyed by rank). Only rank 0 writes.
set -u
fail() { echo "FAIL: $*"; exit 1; }
. "$AVMASK_ROOT/tests/train/mpi_launch.sh"   # mpi=(mpirun ... -np 2)
mk=$AVMASK_BUILD/tools/ctc_mkdata
$mk --feats=tr_f --data=tr_d --n=24 --n-mels=20 --seed=1 || fail ctc_mkdata
$mk --feats=va_f --data=va_d --n=9 --n-mels=20 --seed=2 || fail ctc_mkdata
# utterances of 16-24 tokens: with --batch-tokens=24 every global batch holds one
$mk --feats=lg_f --data=lg_d --n=6 --n-mels=20 --seed=3 --min-units=4 --seg-min=4 --seg-max=4 || fail ctc_mkdata
run=(finetune --init=none --feats=tr_f --data=tr_d --valid=va_f --valid-data=va_d --d=32 --ffn=64 --heads=2
     --layers-audio=1 --layers-fusion=1 --max-steps=1 --lr=1e-2 --dropout=0 --attn-dropout=0 --threads=1
     --log-every=1 --valid-every=1)
for mode in plain specaug probe single frame; do
    case $mode in
        plain) mo=(--batch-tokens=400) ;;
        specaug) mo=(--batch-tokens=400 --time-mask-prob=0.2 --time-mask-len=2 --freq-masks=2 --freq-mask-width=5) ;;
        probe) mo=(--batch-tokens=400 --layer-weights --freeze-steps=all) ;;
        single) mo=(--batch-tokens=24 --feats=lg_f --data=lg_d) ;;
        frame) mo=(--batch-tokens=400 --objective=frame --ali=tr_d/phones.ctm --valid-ali=va_d/phones.ctm) ;;
    esac
    mpi_pair $mode "${run[@]}" "${mo[@]}"
    [ "$(wc -l < two_$mode/metrics.jsonl)" = 2 ] || fail "metrics.jsonl written by more than rank 0"
    [ "$(grep -c 'model in' two.out)" = 1 ] || fail "model written by more than rank 0"
done
"$PY" - <<'PY' || fail "gradients or losses differ"
import os, sys
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import grad_rel, same_metrics
for mode in ("plain", "specaug", "probe", "single", "frame"):
    grad_rel(mode)
    a, b = same_metrics(mode, ("loss", "grad_norm", "valid_loss", "valid_err", "impossible"), 1e-6)
    print(mode, "1 rank vs 2 ranks:", a, b)
PY
# the probe's encoder gets no gradient (frozen), the head and the layer weights do
"$PY" - <<'PY' || fail "frozen encoder"
import h5py, numpy as np
g = np.fromfile("g1_probe.f32", np.float32)
n = sum(h5py.File("one_probe/model/audio_encoder.h5", "r")["params"][k].size for k in h5py.File("one_probe/model/audio_encoder.h5", "r")["params"])
assert np.abs(g[:n]).max() == 0 and np.abs(g[n:]).max() > 0, (n, g.size)
PY
# a few steps over two ranks end with one checkpoint and the model dirs
"${mpi[@]}" "$AVMASK" "${run[@]}" --batch-tokens=400 --max-steps=4 --save-every=2 --valid-every=2 --out=multi \
    >/dev/null 2>multi.err || { cat multi.err; fail "4 steps on 2 ranks"; }
"$PY" -c "import h5py; assert int(h5py.File('multi/checkpoint-last.h5','r').attrs['step']) == 4" || fail "checkpoint"
[ -s multi/model/ctc_head.h5 ] && [ -s multi/model-best/ctc_head.h5 ] || fail "model dirs"
echo "test_finetune_mpi: ok"
