# timeout: 90
# avmask export: pretrain a tiny model for 2 steps on synthetic features, export its audio
# branch, then (tests/ref/export_check.py) the h5 and safetensors tensors equal the
# checkpoint's, config.json carries the CMVN statistics, and eval/pytorch/load_avmask.py
# reproduces the C forward pass and hidden states within 1e-4 relative. Also for a model
# pretrained on cluster targets: its head (final_proj, label_embs) is not exported.
set -eu
"$AVMASK_BUILD/tools/train_mkfeats" --out=feats --n=8 --max-tokens=32 --height=8 --width=8
"$AVMASK" kmeans --feats=feats --out=km --k=4 --source=fbank --sample=1 2>/dev/null
"$AVMASK" kmeans --apply --codebook=km --feats=feats --out=lab 2>/dev/null
# per-token fusion (the default: the export keeps the audio half of fusion_proj), the
# sequence fusion, and an audio-only model
for kind in concat sequence audio clusters; do
    case $kind in
        audio) opts=(--modalities=audio) ;;
        clusters) opts=(--target=clusters --labels=lab) ;;
        *) opts=(--fusion=$kind) ;;
    esac
    "$AVMASK" pretrain --feats=feats --out=pt-$kind --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=2 \
        --warmup=1 --lr=1e-2 --threads=1 "${opts[@]}" > /dev/null
    "$AVMASK" export --checkpoint=pt-$kind/checkpoint-last.h5 --out=ex-$kind | tee out.txt
    grep -q 'step 2' out.txt
    test -s ex-$kind/audio_encoder.h5 && test -s ex-$kind/model.safetensors && test -s ex-$kind/config.json
    "$AVMASK_BUILD/tools/export_forward" --export=ex-$kind --out=fw-$kind --B=3 --T=24 --threads=1
    "$PY" "$AVMASK_ROOT/tests/ref/export_check.py" pt-$kind/checkpoint-last.h5 ex-$kind fw-$kind feats/cmvn.h5
done
grep -q '"fusion": *"sequence"' ex-sequence/config.json && grep -q '"fusion": *"concat"' ex-concat/config.json
"$PY" - <<'E'
import h5py, json
with h5py.File("pt-clusters/checkpoint-last.h5", "r") as f:
    assert f["params/label_embs"].shape == (4, 32) and "audio_head.weight" not in f["params"]
with h5py.File("ex-clusters/audio_encoder.h5", "r") as f:
    assert not any(k.startswith(("final_proj", "label_embs")) for k in f["params"])
assert "target" not in json.load(open("ex-clusters/config.json"))["model"]
print("cluster-trained model: head not exported, config without target")
E
mv pt-concat pt; mv ex-concat ex

# fine-tuning from the export: with the encoder frozen (--freeze-steps=all) it stays equal to the
# export (only the CTC head trains); unfrozen, it moves
"$AVMASK_BUILD/tools/ctc_mkdata" --feats=ff --data=fd --n=8 --n-mels=80
ft=(--init=ex --feats=ff --data=fd --max-steps=2 --warmup=1 --lr=1e-2 --threads=1)
"$AVMASK" finetune "${ft[@]}" --out=ftf --freeze-steps=all > /dev/null
"$AVMASK" finetune "${ft[@]}" --out=ftu > /dev/null
"$AVMASK" decode --model=ftu/model --feats=ff --out=ftu/dec > /dev/null
test "$(wc -l < ftu/dec/hyp)" = 8
"$PY" - <<'E'
import h5py, numpy as np
def params(p):
    with h5py.File(p, "r") as f:
        return {k: f["params"][k][()] for k in f["params"]}
ex, frozen, moved = params("ex/audio_encoder.h5"), params("ftf/model/audio_encoder.h5"), params("ftu/model/audio_encoder.h5")
assert set(ex) == set(frozen) == set(moved)
assert all(np.array_equal(ex[k], frozen[k]) for k in ex), "frozen encoder changed"
assert sum(not np.array_equal(ex[k], moved[k]) for k in ex) > len(ex) // 2, "encoder did not train"
h = params("ftf/model/ctc_head.h5")
assert h["ctc_head.weight"].shape == (10, 32) and h["ctc_head.bias"].shape == (10,)
E

# failures: one line naming the file
if "$AVMASK" export --checkpoint=missing.h5 --out=x 2>err; then exit 1; fi
cat err; grep -q 'missing.h5' err && test "$(wc -l <err)" = 1
if "$AVMASK" export --checkpoint=pt/checkpoint-last.h5 --out=x --cmvn=nocmvn.h5 2>err; then exit 1; fi
cat err; grep -q 'nocmvn.h5' err && test "$(wc -l <err)" = 1

# model.safetensors passes a strict reader of the published format; broken copies do not
"$PY" "$AVMASK_ROOT/tests/ref/safetensors_strict.py" ex/model.safetensors
head -c 2000 ex/model.safetensors > trunc.safetensors
"$PY" "$AVMASK_ROOT/tests/ref/safetensors_strict.py" trunc.safetensors --expect-fail
"$PY" - <<'E'
import json, struct
raw = open("ex/model.safetensors", "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
h = json.loads(raw[8:8 + n])
name = next(k for k in h if k != "__metadata__")
h[name]["data_offsets"][1] += 4                      # would overlap the next tensor
t = json.dumps(h).encode()
open("overlap.safetensors", "wb").write(struct.pack("<Q", len(t)) + t + raw[8 + n:])
E
"$PY" "$AVMASK_ROOT/tests/ref/safetensors_strict.py" overlap.safetensors --expect-fail
# load_avmask.load refuses broken copies that it used to load as other weights: every
# offset shifted by 4 bytes, one tensor overlapping its neighbour, a duplicate name
PYTHONPATH="$AVMASK_ROOT/eval/pytorch" "$PY" - <<'E'
import json, os, shutil, struct
import load_avmask
raw = open("ex/model.safetensors", "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
h = json.loads(raw[8:8 + n])
data = raw[8 + n:]
names = sorted((k for k in h if k != "__metadata__"), key=lambda k: h[k]["data_offsets"][0])
def write(d, header, buf, text=None):
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree("ex", d)
    t = (text or json.dumps(header)).encode()
    open(d + "/model.safetensors", "wb").write(struct.pack("<Q", len(t)) + t + buf)
shifted = json.loads(json.dumps(h))
for k in names:
    shifted[k]["data_offsets"] = [o + 4 for o in shifted[k]["data_offsets"]]
write("st_shift", shifted, data + b"\0" * 4)
overlap = json.loads(json.dumps(h))
k = names[len(names) // 2]
overlap[k]["data_offsets"] = [o - 4 for o in overlap[k]["data_offsets"]]
write("st_overlap", overlap, data)
t = json.dumps(h)
dup = t[:-1] + ", " + json.dumps(names[0]) + ": " + json.dumps(h[names[1]]) + "}"
write("st_dup", None, data, dup)
fake = json.loads(json.dumps(h))
fake[names[0]]["dtype"] = "I32"
write("st_dtype", fake, data)
load_avmask.load("ex")                                  # the intact export loads
for d, why in [("st_shift", "gap or overlap"), ("st_overlap", "gap or overlap"), ("st_dup", "duplicate"),
               ("st_dtype", "dtype")]:
    try:
        load_avmask.load(d)
    except ValueError as e:
        assert why in str(e) and "model.safetensors" in str(e), (d, e)
        print(d, "refused:", e)
    else:
        raise SystemExit(f"load_avmask.load accepted {d}")
E

# a broken export dir: one line naming the file, for each kind of damage
cp -r ex e_trunc && head -c 3000 ex/audio_encoder.h5 > e_trunc/audio_encoder.h5
cp -r ex e_json && echo "{garbage" > e_json/config.json
cp -r ex e_arch && sed -i 's/"d":32/"d":64/' e_arch/config.json && grep -q '"d":64' e_arch/config.json
cp -r ex e_miss && rm e_miss/audio_encoder.h5
for e in e_trunc:audio_encoder.h5 e_json:config.json e_arch:audio_encoder.h5 e_miss:audio_encoder.h5; do
    if "$AVMASK" finetune "${ft[@]}" --init=${e%%:*} --out=x 2>err >/dev/null; then echo "accepted ${e%%:*}"; exit 1; fi
    cat err; grep -q "${e%%:*}/${e#*:}" err && test "$(wc -l <err)" = 1
done
grep -q "another shape than the configuration" <("$AVMASK" finetune "${ft[@]}" --init=e_arch --out=x 2>&1)
echo ok
