#!/usr/bin/env bash
# timeout: 120
# MPI data parallelism of avmask textlm: `mpirun -np 2` on one global batch gives the same
# summed first-step gradient (hidden --dump-grad, every view) as one process on the union,
# max|g2 - g1| / max|g1| <= 1e-5, and the same logged loss, masked accuracy and validation
# loss: each rank divides its masked tokens' cross-entropy by the global count. Checked with
# batches of many sentences and with global batches of one sentence (the second rank then
# has none). Dropout 0 and --contrastive=0: dropout masks are keyed by rank, and the
# contrastive term's negatives come from each rank's own slice (train/README.md), so with
# it two ranks only have to run, train and write their files once.
set -u
fail() { echo "FAIL: $*"; exit 1; }
. "$AVMASK_ROOT/tests/train/mpi_launch.sh"   # mpi=(mpirun ... -np 2)
bash "$AVMASK_ROOT/recipes/steps/text_corpus.sh" corpus.txt >/dev/null || fail "text_corpus.sh"
head -600 corpus.txt | awk 'NR % 10 != 0' >train.txt
head -600 corpus.txt | awk 'NR % 10 == 0' >valid.txt
awk 'NF >= 12' train.txt >long.txt   # at least 13 tokens: two never fit in 16
run=(textlm --text=train.txt --valid-text=valid.txt --d=32 --ffn=64 --heads=2 --layers=1 --max-len=16 --min-count=1
     --max-steps=1 --lr=1e-2 --dropout=0 --attn-dropout=0 --contrastive=0 --threads=1 --log-every=1 --valid-every=1)
for mode in many single; do
    case $mode in
        many) mo=(--batch-tokens=400) ;;
        single) mo=(--batch-tokens=16 --text=long.txt) ;;   # one sentence per global batch
    esac
    mpi_pair $mode "${run[@]}" "${mo[@]}"
    [ "$(grep -c 'model in' two.out)" = 1 ] || fail "model written by more than rank 0"
done
"$PY" - <<'PY' || fail "gradients or losses differ"
import os, sys
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import grad_rel, same_metrics
for mode in ("many", "single"):
    grad_rel(mode, min_size=10000)
    a, b = same_metrics(mode, ("loss", "acc", "grad_norm", "valid_loss", "valid_acc"), 1e-5)
    assert len(a) == 3, len(a)   # validation at 0, the step, validation at 1
PY
# the contrastive term on two ranks: runs, trains, one set of files
"${mpi[@]}" "$AVMASK" "${run[@]}" --batch-tokens=400 --contrastive=1 --dropout=0.1 --max-steps=3 --out=two_con >two.out 2>two.err ||
    { cat two.err; fail "mpirun -np 2 with the contrastive term"; }
[ "$(grep -c 'model in' two.out)" = 1 ] && [ -f two_con/model/text_encoder.h5 ] || fail "contrastive run's model"
grep -q '"loss_contrastive":[0-9]' two_con/metrics.jsonl || fail "no contrastive loss logged"
echo "test_textlm_mpi: ok"
