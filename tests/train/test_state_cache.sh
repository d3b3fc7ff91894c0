#!/usr/bin/env bash
# timeout: 120
# A frozen probe's encoder states kept in memory (finetune --state-cache-mb, train/state_cache.h):
# a probe with learned layer weights, and one reading the encoder output only, each train as
# with the encoder run at every step (--state-cache-mb=0): the same losses, gradient norms
# and validation figures at every step, within float rounding, and the same final head; the
# cache is announced in the log. A run killed between checkpoints and resumed refills the
# cache and logs the same metrics bit for bit as the uninterrupted run. The cache is not used
# where the states are not fixed (SpecAugment, dropout, an encoder that trains later) or when
# they do not fit in --state-cache-mb, and 2 MPI ranks still equal one process.
set -u
export OMP_WAIT_POLICY=PASSIVE
fail() { echo "FAIL: $*"; exit 1; }
mk=$AVMASK_BUILD/tools/ctc_mkdata
$mk --feats=tr_f --data=tr_d --n=40 --n-mels=20 --seed=1 --pause-class=7 || fail ctc_mkdata
$mk --feats=va_f --data=va_d --n=12 --n-mels=20 --seed=2 --pause-class=7 || fail ctc_mkdata
run=(finetune --init=none --feats=tr_f --data=tr_d --valid=va_f --valid-data=va_d --d=32 --ffn=64 --heads=2
     --layers-audio=2 --layers-fusion=1 --batch-tokens=150 --max-steps=24 --lr=2e-2 --warmup=4 --log-every=1
     --valid-every=5 --save-every=6 --threads=2 --freeze-steps=all)
frame=(--objective=frame --ali=tr_d/phones.ctm --valid-ali=va_d/phones.ctm)
go() {  # out [options]: a run that must succeed
    local out=$1; shift
    "$AVMASK" "${run[@]}" --out=$out "$@" >/dev/null 2>$out.err || { cat $out.err; fail "run $out"; }
}
go mix "${frame[@]}" --layer-weights
go mix0 "${frame[@]}" --layer-weights --state-cache-mb=0
go ctc
go ctc0 --state-cache-mb=0
grep -q "the frozen encoder's states: done in .* 40 utterances, [0-9]* MB kept in memory" mix/train.log || fail "the cache is not announced"
for d in mix0 ctc0; do grep -q "kept in memory" $d/train.log && fail "$d: a cache with --state-cache-mb=0"; done
"$PY" - <<'PY' || fail "cached and recomputed states train differently"
import os, sys, h5py, numpy as np
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
for a, b in (("mix", "mix0"), ("ctc", "ctc0")):
    ra, rb = rows(a + "/metrics.jsonl"), rows(b + "/metrics.jsonl")
    assert [sorted(r) for r in ra] == [sorted(r) for r in rb] and len(ra) >= 24 + 5, (a, len(ra), len(rb))
    worst = 0.0
    for x, y in zip(ra, rb):
        for k in ("loss", "grad_norm", "valid_loss", "valid_err"):
            if k in x:
                d = abs(x[k] - y[k]) / max(abs(y[k]), 1.0)
                worst = max(worst, d)
                assert d < 1e-4, (a, x["step"], k, x[k], y[k])
    ha, hb = h5py.File(a + "/model/ctc_head.h5", "r"), h5py.File(b + "/model/ctc_head.h5", "r")
    assert len(ha["params"]) == len(hb["params"]) == (3 if a == "mix" else 2), (a, list(ha["params"]))
    for k in ha["params"]:
        u, v = np.asarray(ha["params"][k]), np.asarray(hb["params"][k])
        assert np.abs(u - v).max() <= 1e-4 * max(np.abs(v).max(), 1.0), (a, k, np.abs(u - v).max())
    first = [r for r in ra if "loss" in r][0]["loss"], [r for r in ra if "loss" in r][-1]["loss"]
    assert first[1] < 0.8 * first[0], (a, "the probe did not learn", first)
    print(f"{a}: cached vs recomputed states, worst relative difference {worst:.2g} over 24 steps")
PY

# killed after step 8 (last checkpoint: step 6), resumed: the same metrics bit for bit
"$AVMASK" "${run[@]}" "${frame[@]}" --layer-weights --out=k --debug-kill-step=8 >/dev/null 2>k.err
[ $? = 137 ] || { cat k.err; fail "expected death by SIGKILL"; }
go k "${frame[@]}" --layer-weights --resume
grep -q "resuming at step 6" k/train.log || fail "resume message"
[ "$(grep -c 'kept in memory' k/train.log)" = 2 ] || fail "the resumed run did not refill the cache"
"$PY" - <<'PY' || fail "the resumed run differs"
import os, sys
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
a, b = rows("mix/metrics.jsonl"), rows("k/metrics.jsonl")
assert a == b, [(x, y) for x, y in zip(a, b) if x != y][:3]
PY

# where the states are not fixed, or do not fit, the encoder runs at every step
go aug "${frame[@]}" --layer-weights --time-mask-prob=0.1 --max-steps=2
go drop "${frame[@]}" --layer-weights --dropout=0.1 --max-steps=2
go part "${frame[@]}" --layer-weights --freeze-steps=3 --max-steps=4
go big "${frame[@]}" --layer-weights --state-cache-mb=1 --d=256 --ffn=64 --heads=2 --max-steps=2
for d in aug drop part big; do grep -q "kept in memory" $d/train.log && fail "$d: states cached"; done
grep -q "the frozen encoder runs at every step: its states need [0-9]* MB, more than --state-cache-mb=1" big/train.log ||
    fail "no line for a cache that does not fit"

# 2 MPI ranks (each caches the set) against one process
. "$AVMASK_ROOT/tests/train/mpi_launch.sh"   # mpi=(mpirun ... -np 2), mpi_pair
run=(finetune --init=none --feats=tr_f --data=tr_d --valid=va_f --valid-data=va_d --d=32 --ffn=64 --heads=2
     --layers-audio=1 --layers-fusion=1 --max-steps=1 --lr=1e-2 --threads=1 --log-every=1 --valid-every=1
     --batch-tokens=400 --layer-weights --freeze-steps=all "${frame[@]}")
mpi_pair cached "${run[@]}"
grep -q "kept in memory" one_cached/train.log || fail "one process: no cache"
"$PY" - <<'PY' || fail "2 ranks differ from one process"
import os, sys
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import grad_rel, same_metrics
grad_rel("cached", min_size=100)
print("2 ranks vs 1:", same_metrics("cached", ("loss", "grad_norm", "valid_loss", "valid_err"), 1e-6))
PY
echo "test_state_cache: ok"
