#!/usr/bin/env bash
# timeout: 120
# The stacking (fbank frames per token) comes from one place, the shards' feature
# configuration (audio_frames_per_video_frame, 100 / --fps at extraction): features of 2
# frames per token train a model of 2 x n_mels inputs end to end (pretrain, export,
# k-means, fine-tuning); sets of different stackings that meet are refused with one line
# naming the shard or the dirs, and so is a configuration that records no stacking.
set -u
export OMP_WAIT_POLICY=PASSIVE
fail() { echo "FAIL: $*"; exit 1; }
mk=$AVMASK_BUILD/tools/train_mkfeats
$mk --out=s2 --n=12 --min-tokens=10 --max-tokens=30 --n-mels=20 --stack=2 || fail mkfeats
$mk --out=s4 --n=6 --min-tokens=10 --max-tokens=30 --n-mels=20 --seed=2 || fail mkfeats
run=(pretrain --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=2 --batch-tokens=300 --max-len=30 --threads=1)
"$AVMASK" "${run[@]}" --feats=s2 --out=p2 2>p2.err || { cat p2.err; fail "pretrain on 2 frames per token"; }
"$PY" - <<'PY' || fail "the model does not take 2 x 20 inputs"
import h5py, json
c = json.load(open("p2/config.json"))
assert c["features"]["stack"] == 2 and c["model"]["audio_in"] == 40, (c["features"]["stack"], c["model"]["audio_in"])
assert h5py.File("p2/checkpoint-last.h5", "r")["params/audio_frontend.weight"].shape == (32, 40)
PY
"$AVMASK" export --checkpoint=p2/checkpoint-last.h5 --out=e2 >/dev/null 2>&1 || fail "export"
grep -q '"stack":2' e2/config.json || fail "export config without the stacking"
# CTC fine-tuning from that export on labelled features of 2 frames per token, decoded
$AVMASK_BUILD/tools/ctc_mkdata --feats=c2 --data=c2d --n=8 --n-mels=20 --stack=2 || fail ctc_mkdata
"$AVMASK" finetune --init=e2 --feats=c2 --data=c2d --out=f2 --max-steps=2 --threads=1 >/dev/null 2>f2.err ||
    { cat f2.err; fail "fine-tuning on 2 frames per token"; }
"$AVMASK" decode --model=f2/model --feats=c2 --out=d2 >/dev/null 2>&1 || fail "decode"
[ "$(wc -l < d2/hyp)" = 8 ] || fail "decode: not 8 hypotheses"
"$AVMASK" finetune --init=none --feats=c2 --data=c2d --d=32 --ffn=64 --heads=2 --out=f0 --max-steps=1 --threads=1 \
    >/dev/null 2>&1 || fail "fresh encoder on 2 frames per token"
grep -q '"stack":2' f0/model/config.json && grep -q '"audio_in":40' f0/model/config.json || fail "fresh encoder config"
$AVMASK_BUILD/tools/ctc_mkdata --feats=c4 --data=c4d --n=8 --n-mels=20 --seed=1 || fail ctc_mkdata
"$AVMASK" kmeans --feats=s2 --out=km2 --k=4 --source=fbank --sample=1 2>/dev/null || fail "kmeans on 2 frames per token"
"$AVMASK" kmeans --apply --codebook=km2 --feats=s2 --out=lab2 2>/dev/null || fail "kmeans --apply"
"$PY" - <<'PY' || fail "not one label per 2 frames"
feats = {l.split("\t")[0]: int(l.split("\t")[3]) for l in open("s2/index.tsv")}
labs = {l.split("\t")[0]: int(l.split("\t")[3]) for l in open("lab2/index.tsv")}
assert feats.keys() == labs.keys() and all(labs[u] * 2 == feats[u] for u in feats), (feats, labs)
PY

one() {  # expected-regex, then the command: fails with exactly one line matching it
    local want=$1; shift
    "$@" >out 2>err && fail "accepted: $*"
    [ "$(wc -l <err)" = 1 ] || { cat err; fail "not one line: $*"; }
    grep -Eq "$want" err || { cat err; fail "unclear error for $*: wanted /$want/"; }
}
one 's4/shard-00000.h5: 4 audio frames per token .*trained on 2' \
    "$AVMASK" finetune --init=e2 --feats=s4 --data=c4d --out=f --max-steps=1
one 'c4/shard-00000.h5: 4 audio frames per token .*trained on 2' "$AVMASK" decode --model=f2/model --feats=c4 --out=d4
one 'do not match' "$AVMASK" "${run[@]}" --feats=s2 --valid=s4 --out=x
one 's4: 4 audio frames per token, the codebook was fitted on 2' \
    "$AVMASK" kmeans --apply --codebook=km2 --feats=s4 --out=lab4
$mk --out=nostack --n=4 --extract-json='{"synthetic":true}' || fail mkfeats
one "nostack/shard-00000.h5: feature configuration: 'audio_frames_per_video_frame' missing" \
    "$AVMASK" "${run[@]}" --feats=nostack --out=y
echo "test_stack: ok"
