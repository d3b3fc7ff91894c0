#!/usr/bin/env bash
# timeout: 90
# Resume: a run killed by SIGKILL between checkpoints (hidden --debug-kill-step) and
# resumed with --resume logs the same losses at every later step as an uninterrupted run
# with the same seed and thread count, and ends with bitwise identical parameters and
# optimizer moments (the comparison is exact: every random decision is keyed by
# (seed, step, sample), the loader position and AdamW state are in the checkpoint).
# Also with --target=clusters (cluster labels by `avmask kmeans`, --unmasked-weight, noise
# mixing): the labels are cropped like the tokens, so the resumed run is bitwise the same.
# A truncated or corrupted checkpoint is refused by --resume and left as it is.
set -u
export OMP_WAIT_POLICY=PASSIVE   # 2 shared cores: spinning OpenMP workers would stall each other
fail() { echo "FAIL: $*"; exit 1; }
mk=$AVMASK_BUILD/tools/train_mkfeats
$mk --out=tr --n=30 --min-tokens=10 --max-tokens=40 || fail mkfeats
$mk --out=va --n=6 --seed=2 --min-tokens=10 --max-tokens=40 || fail mkfeats
$mk --out=nz --n=6 --seed=3 --min-tokens=2 --max-tokens=80 --no-video --shard-size=2 || fail mkfeats
"$AVMASK" kmeans --feats=tr --out=km --k=8 --source=fbank --sample=1 2>/dev/null || fail kmeans
for s in tr va; do "$AVMASK" kmeans --apply --codebook=km --feats=$s --out=lab_$s 2>/dev/null || fail "kmeans --apply $s"; done
run=(pretrain --feats=tr --valid=va --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=22
     --batch-tokens=240 --max-len=30 --lr=3e-3 --warmup=4 --log-every=1 --valid-every=5 --save-every=6
     --modality-dropout-audio=0.2 --modality-dropout-video=0.2 --dropout=0.1 --attn-dropout=0.1 --threads=2)
# the video's mask vector (default), AV-HuBERT's substitution (its sources are keyed too),
# and cluster targets with noisy input
for vm in embed substitute clusters; do
    export vm
    rm -rf a b
    case $vm in
        clusters) extra=(--target=clusters --labels=lab_tr --valid-labels=lab_va --unmasked-weight=0.3
                         --noise-feats=nz --noise-prob=0.5) ;;
        *) extra=(--video-mask=$vm) ;;
    esac
    "$AVMASK" "${run[@]}" --out=a "${extra[@]}" 2>a.err || { cat a.err; fail "uninterrupted run ($vm)"; }
    # killed after step 15 (last checkpoint: step 12), after an epoch boundary (8 batches/epoch)
    "$AVMASK" "${run[@]}" --out=b "${extra[@]}" --debug-kill-step=15 2>b.err
    rc=$?
    [ $rc = 137 ] || fail "expected death by SIGKILL (137), got $rc"
    "$PY" -c "import h5py; assert int(h5py.File('b/checkpoint-last.h5','r').attrs['step']) == 12" || fail "checkpoint step"
    [ "$(tail -1 b/metrics.jsonl | cut -c1-10)" = '{"step":15' ] || fail "the killed run logged past step 12"
    "$AVMASK" "${run[@]}" --out=b "${extra[@]}" --resume 2>b2.err || { cat b2.err; fail "resume"; }
    grep -q "resuming at step 12" b2.err || fail "resume message"
    "$PY" - <<'PY' || fail "resumed run differs ($vm)"
import json, os, sys, h5py, numpy as np
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
a, b = rows("a/metrics.jsonl"), rows("b/metrics.jsonl")
assert a == b, [(x, y) for x, y in zip(a, b) if x != y][:3]
assert len([r for r in a if "loss" in r]) == 22
if os.environ["vm"] == "clusters":
    assert all("acc_audio" in r for r in a if "loss" in r) and all("valid_acc_audio" in r for r in a if "valid_loss" in r)
fa, fb = h5py.File("a/checkpoint-last.h5", "r"), h5py.File("b/checkpoint-last.h5", "r")
for g in ("params", "optim/m", "optim/v"):
    for k in fa[g]:
        assert np.array_equal(fa[g][k][()], fb[g][k][()]), (g, k)
assert int(fa.attrs["step"]) == int(fb.attrs["step"]) == 22
assert int(fa.attrs["epoch"]) == int(fb.attrs["epoch"]) and int(fa.attrs["epoch_pos"]) == int(fb.attrs["epoch_pos"])
assert fa.attrs["best_valid"] == fb.attrs["best_valid"]
print("resume (video mask %s): %d metric lines identical, params and moments bitwise equal" % (os.environ["vm"], len(a)))
PY
    if [ $vm = embed ]; then cp a/checkpoint-last.h5 full.h5; fi
done

# truncated / corrupted checkpoints are refused by --resume and not overwritten
size=$(stat -c %s full.h5)
for cut in $((size / 2)) $((size - 64)); do
    rm -rf c && mkdir c && head -c $cut full.h5 > c/checkpoint-last.h5
    before=$(md5sum < c/checkpoint-last.h5)
    "$AVMASK" "${run[@]}" --out=c --resume 2>c.err && fail "resumed from a truncated checkpoint ($cut of $size bytes)"
    grep -q 'c/checkpoint-last.h5: .*\(truncated\|corrupted\)' c.err || { cat c.err; fail "unclear error"; }
    [ "$(md5sum < c/checkpoint-last.h5)" = "$before" ] || fail "truncated checkpoint overwritten"
done
rm -rf c && mkdir c && cp full.h5 c/checkpoint-last.h5
"$PY" - <<'PY' || fail "corrupting"
import h5py
f = h5py.File("c/checkpoint-last.h5", "r")
d = f["params/audio_encoder.layers.0.ffn.fc1.weight"]
off, n = d.id.get_offset(), d.id.get_storage_size()
f.close()
with open("c/checkpoint-last.h5", "r+b") as g:
    g.seek(off + n // 2); b = g.read(1); g.seek(off + n // 2); g.write(bytes([b[0] ^ 0x40]))
PY
"$AVMASK" "${run[@]}" --out=c --resume 2>c.err && fail "resumed from a corrupted checkpoint"
grep -q 'c/checkpoint-last.h5: file checksum mismatch' c.err || { cat c.err; fail "corruption not named"; }
echo "test_resume: ok"
