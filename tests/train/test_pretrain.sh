#!/usr/bin/env bash
# timeout: 90
# avmask pretrain on small synthetic shards: output files, metrics.jsonl fields, the loss
# and the validation loss go down, checkpoints readable by h5py; bad input gives one clear
# error each and overwrites nothing; a NaN stops the run and keeps the last good checkpoint.
set -u
export OMP_WAIT_POLICY=PASSIVE   # 2 shared cores: spinning OpenMP workers would stall each other
fail() { echo "FAIL: $*"; exit 1; }
mk=$AVMASK_BUILD/tools/train_mkfeats
$mk --out=tr --n=80 --min-tokens=20 --max-tokens=50 --seg-min=10 --seg-max=25 || fail mkfeats
$mk --out=va --n=16 --seed=2 --min-tokens=20 --max-tokens=50 --seg-min=10 --seg-max=25 || fail mkfeats
cat > tiny.conf <<'CONF'
# a tiny model for this test
model=tiny
d=32
ffn=64
heads=2
dropout=0
attn_dropout=0
CONF
run=(pretrain --feats=tr --valid=va --config=tiny.conf --max-steps=120 --batch-tokens=500 --max-len=50
     --lr=5e-3 --warmup=10 --log-every=20 --valid-every=40 --save-every=60 --threads=1)
"$AVMASK" "${run[@]}" --out=exp 2>run.err || { cat run.err; fail "pretrain failed"; }
for f in checkpoint-last.h5 checkpoint-best.h5 config.json train.log metrics.jsonl; do
    [ -s exp/$f ] || fail "exp/$f missing"
done
grep -q 'valid_loss' exp/train.log || fail "train.log has no validation line"

# metrics: fields, steps, decreasing losses (stated margins: train loss of the last two
# logs 10% below the first; validation loss 4% below the untrained model's)
"$PY" - <<'PY' || fail "metrics check"
import json, math
rows = [json.loads(l) for l in open("exp/metrics.jsonl")]
train = [r for r in rows if "loss" in r]
valid = [r for r in rows if "valid_loss" in r]
keys = {"step", "loss", "loss_audio", "loss_video", "lr", "grad_norm", "tokens_per_s", "seconds"}
assert all(set(r) == keys for r in train), train[0]
diag = {"valid_loss_audio_novideo", "valid_loss_audio_shuffled", "video_gain_shuffled", "video_gain_dropped"}
assert all(set(r) == {"step", "valid_loss", "valid_loss_audio", "valid_loss_video"} | diag for r in valid)
for r in valid:    # the gains are what their definition says
    assert abs(r["video_gain_shuffled"] - (1 - r["valid_loss_audio"] / r["valid_loss_audio_shuffled"])) < 1e-7   # 9 digits printed
    assert abs(r["video_gain_dropped"] - (1 - r["valid_loss_audio"] / r["valid_loss_audio_novideo"])) < 1e-7
assert [r["step"] for r in train] == list(range(20, 121, 20)), [r["step"] for r in train]
assert [r["step"] for r in valid] == [0, 40, 80, 120], [r["step"] for r in valid]
for r in train:
    assert abs(r["loss"] - r["loss_audio"] - r["loss_video"]) < 1e-6 * r["loss"], r
    assert r["grad_norm"] > 0 and r["tokens_per_s"] > 0 and r["lr"] > 0
first, last = train[0]["loss"], (train[-1]["loss"] + train[-2]["loss"]) / 2
print("train loss %.4f -> %.4f, valid %.4f -> %.4f" % (first, last, valid[0]["valid_loss"], valid[-1]["valid_loss"]))
assert last < 0.9 * first, (first, last)
assert valid[-1]["valid_loss"] < 0.96 * valid[0]["valid_loss"], valid
PY

# checkpoints: h5py reads them; best = lowest validation loss; config.json has the model
"$PY" - <<'PY' || fail "checkpoint check"
import h5py, json
cfg = json.load(open("exp/config.json"))
assert cfg["model"]["d"] == 32 and cfg["model"]["audio_in"] == 320 and cfg["model"]["video_in"] == 64, cfg["model"]
f = h5py.File("exp/checkpoint-last.h5", "r")
assert int(f.attrs["step"]) == 120 and json.loads(f.attrs["config"])["model"] == cfg["model"]
w = f["params/audio_frontend.weight"]
assert w.shape == (32, 320), w.shape
assert set(f["optim/m"]) == set(f["params"]) == set(f["optim/v"])
valid = [json.loads(l) for l in open("exp/metrics.jsonl") if "valid_loss" in l]
best = min(valid, key=lambda r: r["valid_loss"])
b = h5py.File("exp/checkpoint-best.h5", "r")
assert int(b.attrs["step"]) == best["step"] and abs(b.attrs["best_valid"] - best["valid_loss"]) < 1e-6
PY

# bad input: one line on stderr, exit non-zero, nothing overwritten
sum0=$(md5sum exp/checkpoint-last.h5 exp/metrics.jsonl exp/config.json)
bad() {  # expected-stderr-regex, then the arguments
    local want=$1; shift
    "$AVMASK" "$@" >bad.out 2>bad.err && fail "accepted: $*"
    [ "$(wc -l <bad.err)" = 1 ] || { cat bad.err; fail "not one line: $*"; }
    grep -Eq "$want" bad.err || { cat bad.err; fail "unclear error for $*: wanted /$want/"; }
    [ "$(md5sum exp/checkpoint-last.h5 exp/metrics.jsonl exp/config.json)" = "$sum0" ] || fail "files changed by: $*"
}
bad 'checkpoint-last.h5 exists.*--resume' "${run[@]}" --out=exp
bad 'different architecture' "${run[@]}" --out=exp --d=64 --heads=4
bad 'different architecture' "${run[@]}" --out=exp --d=64 --heads=4 --resume
bad 'nothere: no such feature directory' "${run[@]}" --out=x --feats=nothere
echo "colour=blue" > typo.conf
bad 'unknown option --colour' "${run[@]}" --out=x --config=typo.conf
bad 'd 30 is not a multiple of heads 4' "${run[@]}" --out=x --d=30 --heads=4
bad 'max-len=600 exceeds' "${run[@]}" --out=x --max-len=600 --batch-tokens=5000
bad 'mask-prob-audio=1.5' "${run[@]}" --out=x --mask-prob-audio=1.5
$mk --out=va8 --n=4 --height=6 --width=6 || fail mkfeats
bad 'do not match' "${run[@]}" --out=x --valid=va8
$mk --out=noframes --n=4 --no-video || fail mkfeats
bad 'no video.*--modalities=audio' "${run[@]}" --out=x --feats=noframes --valid=
# audio-only features train an audio-only model (no video parameters, loss_video null)
"$AVMASK" "${run[@]}" --out=ao --feats=noframes --valid= --modalities=audio --max-steps=3 --log-every=1 2>ao.err ||
    { cat ao.err; fail "audio-only run"; }
"$PY" - <<'PY' || fail "audio-only outputs"
import h5py, json
rows = [json.loads(l) for l in open("ao/metrics.jsonl")]
assert [r["step"] for r in rows] == [1, 2, 3] and all(r["loss_video"] is None and r["loss"] > 0 for r in rows), rows
names = list(h5py.File("ao/checkpoint-last.h5", "r")["params"])
assert not any(n.startswith("video") for n in names) and any(n.startswith("audio_encoder") for n in names), names
PY
rm -f tr/shard-00002.h5
bad 'shard-00002.h5' "${run[@]}" --out=x
[ ! -e x ] || fail "a failed run left x/"

# NaN: stops with a clear message naming the last good checkpoint, which stays loadable
$mk --out=tr --n=80 --min-tokens=20 --max-tokens=50 --seg-min=10 --seg-max=25 || fail mkfeats
"$AVMASK" "${run[@]}" --out=nan --max-steps=10 --save-every=4 --debug-nan-step=7 2>nan.err && fail "NaN run succeeded"
grep -q 'step 7: the loss is nan\|step 7: the gradient norm is nan' nan.err || { cat nan.err; fail "NaN message"; }
grep -q 'last good checkpoint nan/checkpoint-last.h5' nan.err || fail "NaN message names no checkpoint"
"$PY" -c "import h5py; assert int(h5py.File('nan/checkpoint-last.h5','r').attrs['step']) == 4" || fail "kept checkpoint"
echo "test_pretrain: ok"
