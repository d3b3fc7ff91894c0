#!/usr/bin/env bash
# timeout: 120
# What fine-tuning carries: the parameter names of its checkpoint (/params, /optim/m,
# /optim/v) and of its model dirs (model/, model-best/: audio_encoder.h5, model.safetensors,
# ctc_head.h5), read with h5py, are exactly the export's plus the CTC head's
# (ctc_head.weight, ctc_head.bias, and ctc_head.layer_weights with --layer-weights), nothing
# else (no mask embedding, no pretraining head), fine-tuning from an export and from
# --init=none. A checkpoint of the earlier layout, which also held mask_emb_audio and
# audio_head.* (made here by adding them with h5py and resealing), is refused by --resume with
# one line naming the file and why, and left untouched.
set -u
export OMP_WAIT_POLICY=PASSIVE
fail() { echo "FAIL: $*"; exit 1; }
mk=$AVMASK_BUILD/tools/ctc_mkdata
"$AVMASK_BUILD/tools/train_mkfeats" --out=feats --n=8 --max-tokens=32 --height=8 --width=8 || fail train_mkfeats
"$AVMASK" pretrain --feats=feats --out=pt --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=2 --warmup=1 --lr=1e-2 \
    --threads=1 >/dev/null 2>&1 || fail pretrain
"$AVMASK" export --checkpoint=pt/checkpoint-last.h5 --out=ex >/dev/null || fail export
$mk --feats=ff --data=fd --n=16 --n-mels=80 --seed=1 || fail ctc_mkdata
$mk --feats=vf --data=vd --n=6 --n-mels=80 --seed=2 || fail ctc_mkdata
ft=(--feats=ff --data=fd --valid=vf --valid-data=vd --max-steps=3 --warmup=1 --lr=1e-2 --valid-every=2 --threads=1)
"$AVMASK" finetune --init=ex "${ft[@]}" --out=fx >/dev/null 2>fx.err || { cat fx.err; fail "finetune from the export"; }
"$AVMASK" finetune --init=ex "${ft[@]}" --layer-weights --freeze-steps=1 --out=fw >/dev/null 2>fw.err ||
    { cat fw.err; fail "finetune with layer weights"; }
"$AVMASK" finetune --init=none "${ft[@]}" --d=32 --ffn=64 --heads=2 --out=fn >/dev/null 2>fn.err ||
    { cat fn.err; fail "finetune --init=none"; }
"$PY" - <<'E' || fail "fine-tuning carries other parameters than the export's and the head's"
import json, struct, h5py
def names(path, group="params"):
    with h5py.File(path, "r") as f:
        return set(f[group])
def st_names(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return set(json.loads(raw[8:8 + n])) - {"__metadata__"}
export = names("ex/audio_encoder.h5")
assert not any(k.startswith(("mask_emb", "audio_head", "video", "final_proj", "label_embs")) for k in export), export
head = {"ctc_head.weight", "ctc_head.bias"}
for run, h in (("fx", head), ("fw", head | {"ctc_head.layer_weights"}), ("fn", head)):
    for g in ("params", "optim/m", "optim/v"):
        got = names(run + "/checkpoint-last.h5", g)
        assert got == export | h, (run, g, sorted(got - export - h), sorted((export | h) - got))
    for sub in ("model", "model-best"):
        d = "%s/%s/" % (run, sub)
        assert names(d + "audio_encoder.h5") == export, (run, sub)
        assert st_names(d + "model.safetensors") == export, (run, sub)
        assert names(d + "ctc_head.h5") == h, (run, sub)
print("checkpoints and model dirs: %d export tensors + the head, nothing else" % len(export))
E

# the earlier layout: the same checkpoint with the three tensors it used to carry
cp -r fx old
"$PY" - <<'E' || fail "making the old-layout checkpoint"
import h5py, numpy as np
with h5py.File("old/checkpoint-last.h5", "r+") as f:
    d, a = f["params/audio_frontend.weight"].shape
    for g in ("params", "optim/m", "optim/v"):
        f[g + "/mask_emb_audio"] = np.zeros(d, "<f4")
        f[g + "/audio_head.weight"] = np.zeros((a, d), "<f4")
        f[g + "/audio_head.bias"] = np.zeros(a, "<f4")
E
"$PY" "$AVMASK_ROOT/tests/ref/h5_reseal.py" old/checkpoint-last.h5   # as if avmask had written it
sum0=$(md5sum < old/checkpoint-last.h5)
"$AVMASK" finetune --init=ex "${ft[@]}" --max-steps=5 --out=old --resume >/dev/null 2>old.err && fail "resumed the old layout"
[ "$(wc -l < old.err)" = 1 ] || { cat old.err; fail "not one line"; }
grep -q 'old/checkpoint-last.h5 was written before fine-tuning carried the encoder alone (it holds mask_emb_audio' old.err ||
    { cat old.err; fail "the old layout is not named"; }
[ "$(md5sum < old/checkpoint-last.h5)" = "$sum0" ] || fail "the refused checkpoint changed"
# the intact checkpoint of the same run resumes
"$AVMASK" finetune --init=ex "${ft[@]}" --max-steps=5 --out=fx --resume >/dev/null 2>fx2.err || { cat fx2.err; fail "resume"; }
grep -q 'resuming at step 3' fx/train.log || fail "resume message"
echo "test_finetune_layout: ok"
