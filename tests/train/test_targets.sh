#!/usr/bin/env bash
# timeout: 120
# avmask pretrain --target=clusters (train/README.md "Cluster targets"):
#  1. refusals, each one stderr line naming what is wrong: no --labels, --labels without the
#     target, --valid without --valid-labels, the labels of another feature dir (the
#     training labels given for --valid: label file and utterance named), validation labels
#     of another codebook, --num-classes against the labels' k, --resume with the labels of
#     another codebook (and k), --resume across target kinds (both ways);
#  2. end to end on a real tiny corpus: avmask synth -> extract -> kmeans (MFCC, k=12) ->
#     --apply -> pretrain --target=clusters 60 steps: the training loss of the last 10 steps
#     is below that of the first 10, and their masked accuracy above 1.5x chance (1/k), with
#     the accuracy in metrics.jsonl, train.log and the validation lines.
set -u
export OMP_WAIT_POLICY=PASSIVE
fail() { echo "FAIL: $*"; exit 1; }
mk=$AVMASK_BUILD/tools/train_mkfeats
$mk --out=tr --n=20 --min-tokens=10 --max-tokens=40 || fail mkfeats
$mk --out=va --n=6 --seed=2 --min-tokens=10 --max-tokens=40 || fail mkfeats
"$AVMASK" kmeans --feats=tr --out=km8 --k=8 --source=fbank --sample=1 2>/dev/null || fail kmeans
"$AVMASK" kmeans --feats=tr --out=km6 --k=6 --source=fbank --sample=1 2>/dev/null || fail kmeans
for s in tr va; do
    "$AVMASK" kmeans --apply --codebook=km8 --feats=$s --out=l8_$s 2>/dev/null || fail "apply $s"
    "$AVMASK" kmeans --apply --codebook=km6 --feats=$s --out=l6_$s 2>/dev/null || fail "apply $s"
done
base=(pretrain --feats=tr --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=3 --batch-tokens=240 --max-len=30
      --warmup=1 --threads=1)
cl=(--target=clusters --labels=l8_tr)
# refuses EXPECT ARGS...: exit non-zero, exactly one stderr line, containing EXPECT
refuses() {
    local expect=$1; shift
    if "$AVMASK" "$@" >out.txt 2>err.txt; then fail "accepted: $*"; fi
    [ "$(wc -l <err.txt)" = 1 ] || { cat err.txt; fail "not one line: $*"; }
    grep -qF -- "$expect" err.txt || { cat err.txt; fail "expected '$expect': $*"; }
    echo "refused: $(cat err.txt)"
}
refuses "needs --labels=DIR" "${base[@]}" --out=x --target=clusters
refuses "need --target=clusters" "${base[@]}" --out=x --labels=l8_tr
refuses "needs --valid-labels=DIR" "${base[@]}" --out=x "${cl[@]}" --valid=va
refuses "l8_tr/labels-00000.h5: utterance utt00000: " "${base[@]}" --out=x "${cl[@]}" --valid=va --valid-labels=l8_tr
refuses "labels of another codebook" "${base[@]}" --out=x "${cl[@]}" --valid=va --valid-labels=l6_va
refuses "--num-classes=5 but l8_tr holds labels of a codebook with k = 8" "${base[@]}" --out=x "${cl[@]}" --num-classes=5
[ ! -e x ] || fail "a refused run wrote its output dir"

"$AVMASK" "${base[@]}" --out=c8 "${cl[@]}" --valid=va --valid-labels=l8_va 2>c8.err || { cat c8.err; fail "cluster run"; }
"$AVMASK" "${base[@]}" --out=feat 2>feat.err || { cat feat.err; fail "features run"; }
h8=$("$PY" -c 'import h5py; print(h5py.File("km8/codebook.h5", "r").attrs["hash"])')
h6=$("$PY" -c 'import h5py; print(h5py.File("km6/codebook.h5", "r").attrs["hash"])')
"$PY" - "$h8" <<'PY' || fail "the checkpoint does not record the target"
import h5py, json, sys
c = json.loads(h5py.File("c8/checkpoint-last.h5", "r").attrs["config"])
assert c["train"]["target"] == "clusters" and c["train"]["codebook_hash"] == sys.argv[1], c["train"]
assert c["train"]["num_classes"] == 8 and c["model"]["target"] == "clusters" and c["model"]["num_classes"] == 8
f = json.loads(h5py.File("feat/checkpoint-last.h5", "r").attrs["config"])
assert f["train"]["target"] == "features" and "target" not in f["model"]
PY
more=(--max-steps=5 --resume)
refuses "c8/checkpoint-last.h5 was trained on labels of codebook $h8 (k = 8, " "${base[@]}" "${more[@]}" --out=c8 \
    --target=clusters --labels=l6_tr
grep -qF "holds codebook $h6 (k = 6)" err.txt || fail "the other codebook not named"
refuses "c8/checkpoint-last.h5 was trained with --target=clusters, this run has --target=features" \
    "${base[@]}" "${more[@]}" --out=c8
refuses "feat/checkpoint-last.h5 was trained with --target=features, this run has --target=clusters" \
    "${base[@]}" "${more[@]}" --out=feat "${cl[@]}"
"$AVMASK" "${base[@]}" "${more[@]}" --out=c8 "${cl[@]}" --valid=va --valid-labels=l8_va 2>r.err || { cat r.err; fail "resume with the same labels"; }
grep -q "resuming at step 3" r.err || fail "resume message"

echo "== end to end: synth -> extract -> kmeans -> pretrain --target=clusters"
t0=$(date +%s)
"$AVMASK" synth --out=corpus --speakers=4 --utts-per-speaker=6 --heldout-speakers=2 --snr=clean --noise-clips=0 \
    2>/dev/null || fail synth
"$AVMASK" extract --data=corpus/train --out=f 2>/dev/null || fail extract
"$AVMASK" extract --data=corpus/dev --out=fv 2>/dev/null || fail "extract dev"
"$AVMASK" kmeans --feats=f --out=km --k=12 --sample=0.5 2>/dev/null || fail kmeans
"$AVMASK" kmeans --apply --codebook=km --feats=f --out=lf 2>/dev/null || fail apply
"$AVMASK" kmeans --apply --codebook=km --feats=fv --out=lv 2>/dev/null || fail "apply dev"
t1=$(date +%s)
"$AVMASK" pretrain --feats=f --valid=fv --target=clusters --labels=lf --valid-labels=lv --model=tiny --d=64 --ffn=128 \
    --heads=2 --max-steps=60 --batch-tokens=800 --max-len=100 --lr=2e-3 --warmup=10 --log-every=1 --valid-every=30 \
    --threads=2 --out=e2e 2>e2e.err || { cat e2e.err; fail "pretrain"; }
echo "corpus + features + k-means $((t1 - t0)) s, pretraining $(( $(date +%s) - t1 )) s"
grep -q "step 60: loss .* acc " e2e/train.log && grep -q "valid_loss .*masked accuracy" e2e/train.log ||
    fail "accuracy missing from train.log"
"$PY" - <<'PY' || fail "the model did not learn the cluster targets"
import json
rows = [json.loads(l) for l in open("e2e/metrics.jsonl")]
tr = [r for r in rows if "loss" in r]
va = [r for r in rows if "valid_loss" in r]
assert len(tr) == 60 and len(va) == 3 and all("valid_acc_audio" in r for r in va)
first = sum(r["loss"] for r in tr[:10]) / 10
last = sum(r["loss"] for r in tr[-10:]) / 10
acc0 = sum(r["acc_audio"] for r in tr[:10]) / 10
acc = sum(r["acc_audio"] for r in tr[-10:]) / 10
print("loss %.3f -> %.3f, masked accuracy %.3f -> %.3f (chance 1/12 = 0.083), valid accuracy %s"
      % (first, last, acc0, acc, [round(r["valid_acc_audio"], 3) for r in va]))
assert last < first and acc > 1.5 / 12 and acc > acc0
PY
echo "test_targets: ok"
