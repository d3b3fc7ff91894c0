# timeout: 120
# avmask kmeans on synthetic feature shards (tests/tools/train_mkfeats, 80 utterances in 5
# shards): inertia parity with scikit-learn, labels read back with h5py equal the nearest
# centres, --job=K/N + --merge equal one job, corrupt or mismatched label files and bad
# options refused with one line naming the file (and the utterance). Checks with
# tolerances: tests/ref/kmeans_check.py.
set -eu
R="$AVMASK_ROOT/tests/ref/kmeans_check.py"
"$AVMASK_BUILD/tools/train_mkfeats" --out=f --n=80 --no-video --shard-size=16 --seg-min=2 --seg-max=6

echo "== parity with scikit-learn KMeans (fbank k=8, mfcc k=16): Lloyd from the same centres, best of 10"
"$AVMASK" kmeans --feats=f --out=kf --source=fbank --k=8 --sample=1 --tol=0 --dump-feats=df.h5
"$PY" "$R" parity df.h5 kf 8 10
"$AVMASK" kmeans --feats=f --out=km --k=16 --sample=0.3 --n-init=10 --tol=0 --iters=100 --dump-feats=dm.h5 2>km.err
"$PY" "$R" parity dm.h5 km 16 10
grep -q '^kmeans pass 1/20' km/kmeans.log && grep -q '"pass":"final"' km/kmeans.jsonl
"$PY" - <<'PY'
import h5py, json
with h5py.File("km/codebook.h5", "r") as f:
    a = f.attrs
    assert f["centres"].shape == (16, 39) and a["k"] == 16 and a["dim"] == 39 and a["source"] == "mfcc"
    assert a["n_mels"] == 80 and len(a["hash"]) == 16 and f["norm/mean"].shape == (39,)
    fc = json.loads(a["feature_config"])
    assert fc["token"].startswith("mean of the 4 frames") and fc["extract"] == {"synthetic": True, "audio_frames_per_video_frame": 4}
    assert json.loads(a["fit"])["hash"] == a["hash"]
print("codebook attributes OK")
PY
echo "== determinism: the same run gives the same codebook"
"$AVMASK" kmeans --feats=f --out=km2 --k=16 --sample=0.3 --n-init=10 --tol=0 --iters=100 2>/dev/null
cmp <("$PY" -c 'import h5py;print(h5py.File("km/codebook.h5")["centres"][:].tobytes().hex())') \
    <("$PY" -c 'import h5py;print(h5py.File("km2/codebook.h5")["centres"][:].tobytes().hex())')

echo "== apply: labels = nearest centre, one per token"
"$AVMASK" kmeans --apply --codebook=km --feats=f --out=lab
"$PY" "$R" labels f lab dm.h5 km/codebook.h5
[ "$(wc -l <lab/index.tsv)" = 80 ] && [ "$(ls lab/labels-*.h5 | wc -l)" = 5 ]

echo "== --job=K/3 then --merge = one job; a rerun keeps finished shards"
for j in 1 2 3; do "$AVMASK" kmeans --apply --codebook=km/codebook.h5 --feats=f --out=labj --job=$j/3; done
[ ! -e labj/index.tsv ]
"$AVMASK" kmeans --merge --codebook=km --feats=f --out=labj
"$PY" "$R" same lab labj
before=$(stat -c %Y.%s labj/labels-00002.h5)
"$AVMASK" kmeans --apply --codebook=km --feats=f --out=labj 2>/dev/null
[ "$(stat -c %Y.%s labj/labels-00002.h5)" = "$before" ]

# refuses CMD... EXPECT: exit non-zero, exactly one stderr line, containing EXPECT
refuses() {
    local expect=$1; shift
    if "$@" >out.txt 2>err.txt; then echo "accepted: $*"; exit 1; fi
    [ "$(wc -l <err.txt)" = 1 ] || { echo "not one line: $*"; cat err.txt; exit 1; }
    grep -qF -- "$expect" err.txt || { echo "expected '$expect': $*"; cat err.txt; exit 1; }
    echo "refused: $(cat err.txt)"
}
corrupt() {   # corrupt NAME PYTHON: a copy of lab with labels-00001.h5 edited by PYTHON (f = the file)
    rm -rf "$1"; cp -r lab "$1"
    "$PY" -c "import h5py, numpy as np
f = h5py.File('$1/labels-00001.h5', 'r+')
$2
f.close()"
}
echo "== corrupt or mismatched label files"
u=$(awk '$2 == 1 && $3 == 3 {print $1}' f/index.tsv)
corrupt short "lab = f['labels'][:]; off = f['offsets'][:]
del f['labels']; f['labels'] = np.delete(lab, off[4] - 1); off[4:] -= 1
del f['offsets']; f['offsets'] = off"
refuses "short/labels-00001.h5: utterance $u: " "$AVMASK" kmeans --merge --codebook=km --feats=f --out=short
grep -q "labels for $(awk -v u=$u '$1 == u {print $4 / 4}' f/index.tsv) tokens" err.txt
corrupt hash "f.attrs['codebook_hash'] = '0123456789abcdef'"
refuses "hash/labels-00001.h5: utterance utt00016: codebook 0123456789abcdef, expected $("$PY" -c 'import h5py;print(h5py.File("km/codebook.h5").attrs["hash"])')" \
    "$AVMASK" kmeans --merge --codebook=km --feats=f --out=hash
corrupt ids "ids = f['utt_ids'][:]; ids[[0, 1]] = ids[[1, 0]]; del f['utt_ids']; f['utt_ids'] = ids"
refuses "ids/labels-00001.h5: utterance utt00016: not at row 0" "$AVMASK" kmeans --merge --codebook=km --feats=f --out=ids
corrupt range "lab = f['labels'][:]; lab[5] = 16; f['labels'][:] = lab"
awk '{print $1, 1, 0, 9, "a"}' f/index.tsv >fake.ctm
refuses "range/labels-00001.h5: utterance utt00016: label 16 at token 5 outside [0, 16)" \
    "$AVMASK" kmeans --metrics --labels=range --feats=f --ali=fake.ctm
rm -rf gone; cp -r lab gone; rm gone/labels-00003.h5
refuses "gone/labels-00003.h5: no such file" "$AVMASK" kmeans --metrics --labels=gone --feats=f --ali=fake.ctm
refuses "exists with codebook" "$AVMASK" kmeans --apply --codebook=kf --feats=f --out=lab

echo "== bad options and inputs"
refuses "--k=0" "$AVMASK" kmeans --feats=f --out=x --k=0
refuses "--source=cepstra: expected mfcc, fbank or layer" "$AVMASK" kmeans --feats=f --out=x --source=cepstra
refuses "--sample=0 is out of range (0, 1]" "$AVMASK" kmeans --feats=f --out=x --sample=0
refuses "fewer than --k=5000" "$AVMASK" kmeans --feats=f --out=x --k=5000 --sample=1
refuses "missing/: no such feature directory" "$AVMASK" kmeans --feats=missing/ --out=x
refuses "--job=3/2: expected K/N" "$AVMASK" kmeans --apply --codebook=km --feats=f --out=x --job=3/2
refuses "nothere.h5: no such file" "$AVMASK" kmeans --apply --codebook=nothere.h5 --feats=f --out=x
refuses "unknown option --kk" "$AVMASK" kmeans --feats=f --out=x --kk=3
refuses "exclude each other" "$AVMASK" kmeans --apply --metrics --feats=f --out=x
cp km/codebook.h5 bad.h5
"$PY" -c "import h5py; f = h5py.File('bad.h5', 'r+'); f['centres'][0, 0] += 1"
refuses "bad.h5: file checksum mismatch" "$AVMASK" kmeans --apply --codebook=bad.h5 --feats=f --out=x
"$PY" "$AVMASK_ROOT/tests/ref/h5_reseal.py" bad.h5   # behind the seal, the codebook's own hash
refuses "bad.h5: stored hash" "$AVMASK" kmeans --apply --codebook=bad.h5 --feats=f --out=x
"$AVMASK_BUILD/tools/train_mkfeats" --out=f40 --n=4 --no-video --n-mels=40
refuses "f40: 40 mel bins, the codebook was fitted on 80" "$AVMASK" kmeans --apply --codebook=km --feats=f40 --out=x
echo "all kmeans checks passed"
