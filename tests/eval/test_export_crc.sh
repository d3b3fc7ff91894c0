# timeout: 90
# Export checksums (train/safetensors.h): audio_encoder.h5 and model.safetensors carry the same
# avmask_crc32 (CRC-32 of the tensors in name order, recomputed here with zlib); a bit flipped
# inside a tensor's data in either file is refused by the C loader and by load_avmask.py with
# one line naming the file; an export written before checksums (no key) still loads, with a
# warning; a model.safetensors whose values differ from audio_encoder.h5 is refused in C.
set -eu
"$AVMASK_BUILD/tools/train_mkfeats" --out=feats --n=4 --max-tokens=16 --height=8 --width=8
"$AVMASK" pretrain --feats=feats --out=pt --model=tiny --d=16 --ffn=32 --heads=2 --max-steps=1 \
    --warmup=1 --threads=1 > /dev/null
"$AVMASK" export --checkpoint=pt/checkpoint-last.h5 --out=ex > /dev/null
load_c() { "$AVMASK_BUILD/tools/export_forward" --export="$1" --out=fw --B=1 --T=8 --threads=1; }
lines() { [ "$(wc -l <"$2")" = "$1" ] || { echo "expected $1 line(s) in $2"; exit 1; }; }
load_c ex 2>err
lines 0 err
export PYTHONPATH="$AVMASK_ROOT/eval/pytorch"
"$PY" - <<'P'
import h5py, json, struct, zlib, numpy as np
import load_avmask
raw = open("ex/model.safetensors", "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
h = json.loads(raw[8:8 + n])
st = h["__metadata__"]["avmask_crc32"]
with h5py.File("ex/audio_encoder.h5", "r") as f:
    h5 = f.attrs["avmask_crc32"]
    h5 = h5.decode() if isinstance(h5, bytes) else h5
    t = {k: f["params"][k][()] for k in f["params"]}
crc = 0
for k in sorted(t, key=str.encode):
    crc = zlib.crc32(t[k].astype("<f4").tobytes(), crc)
assert st == h5 == f"{crc:08x}", (st, h5, crc)
print("checksum", st, "in both files, equal to zlib's over the tensors in name order")
load_avmask.load("ex"); load_avmask.load("ex", source="h5")
# flip one bit in the middle of a tensor's data, in each file
name = sorted(t)[len(t) // 2]
a, b = h[name]["data_offsets"]
buf = bytearray(raw); buf[8 + n + (a + b) // 2] ^= 0x10
import shutil
shutil.copytree("ex", "flip_st"); open("flip_st/model.safetensors", "wb").write(buf)
shutil.copytree("ex", "flip_h5")
with h5py.File("ex/audio_encoder.h5", "r") as f:
    off = f["params"][name].id.get_offset()
    nbytes = f["params"][name].id.get_storage_size()
assert off is not None and nbytes > 0
b5 = bytearray(open("ex/audio_encoder.h5", "rb").read()); b5[off + nbytes // 2] ^= 0x10
open("flip_h5/audio_encoder.h5", "wb").write(b5)
for d, src, f in [("flip_st", "safetensors", "model.safetensors"), ("flip_h5", "h5", "audio_encoder.h5")]:
    try:
        load_avmask.load(d, source=src)
    except ValueError as e:
        assert f"{d}/{f}" in str(e) and "checksum mismatch" in str(e), e   # h5: the file's seal
        print("load_avmask refused", d, ":", e)
    else:
        raise SystemExit(f"load_avmask loaded {d}")
# an export from before checksums: no avmask_crc32 in either file
shutil.copytree("ex", "old")
with h5py.File("ex/audio_encoder.h5", "r") as src, h5py.File("old/audio_encoder.h5", "w") as f:
    src.copy("params", f)                           # unsealed, as h5py writes it
    for k, v in src.attrs.items():
        if k != "avmask_crc32":
            f.attrs[k] = v
h2 = dict(h); h2["__metadata__"] = {k: v for k, v in h["__metadata__"].items() if k != "avmask_crc32"}
text = json.dumps(h2).encode(); text += b" " * (-len(text) % 8)
open("old/model.safetensors", "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
import warnings
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    load_avmask.load("old"); load_avmask.load("old", source="h5")
assert len(w) == 2 and all("loaded unchecked" in str(x.message) for x in w), [str(x.message) for x in w]
print("old export loads with a warning")
# the two files of one export disagree (each consistent with its own checksum): the
# safetensors written from other values, its checksum recomputed
vals = load_avmask.read_safetensors("ex/model.safetensors")
data = bytearray(raw[8 + n:]); data[(a + b) // 2] ^= 0x10
crc = 0
for k in sorted(vals, key=str.encode):
    x, y = h[k]["data_offsets"]; crc = zlib.crc32(bytes(data[x:y]), crc)
h3 = json.loads(json.dumps(h)); h3["__metadata__"]["avmask_crc32"] = f"{crc:08x}"
text = json.dumps(h3).encode(); text += b" " * (-len(text) % 8)
shutil.copytree("ex", "differ"); open("differ/model.safetensors", "wb").write(struct.pack("<Q", len(text)) + text + bytes(data))
P
for d in flip_st:model.safetensors flip_h5:audio_encoder.h5 differ:model.safetensors; do
    if load_c ${d%%:*} 2>err; then echo "C loader accepted ${d%%:*}"; exit 1; fi
    cat err; lines 1 err; grep -q "${d%%:*}/${d#*:}" err
done
grep -q 'differs from audio_encoder.h5' err
load_c old 2>err
cat err; lines 1 err; grep -q 'old/audio_encoder.h5: written before exports carried a checksum' err
echo ok
