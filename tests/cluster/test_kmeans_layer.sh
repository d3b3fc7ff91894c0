#!/usr/bin/env bash
# timeout: 180
# avmask kmeans --source=layer (HuBERT iteration 2): on a 4-speaker synth corpus with a tiny
# AV and a tiny audio-only checkpoint (3 pretraining steps):
#  - the clustered vectors (--dump-feats, un-standardised) equal the float64 PyTorch model's
#    hidden state (tests/ref/layer_ref.py over torch_avmodel.py) at layers 0 (embeddings), 2
#    (last audio layer) and 3 (fusion) of both models, max |C - ref| / max |ref| <= 1e-4;
#  - the AV model's fusion-layer vectors change when the video frames are shuffled (the video
#    enters), its audio-layer vectors and the audio-only model's do not;
#  - --video=drop (the exported audio branch's features): the AV model's fusion layer
#    equals the reference with zeros for the video stream, does not move with the video
#    frames, differs from the video-present vectors, and the codebook says "dropped" (its
#    hash differs, labels.json and --apply follow it);
#  - the codebook records source layer, the checkpoint's absolute path, its checksum_params
#    and the layer; --apply labels equal the nearest centre of the dumped vectors;
#  - refused with one line: a feature dir of another feature config, another checkpoint
#    than the codebook's, a layer out of range, --source=layer without --checkpoint.
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }
A=$AVMASK
"$A" synth --out=c --speakers=4 --utts-per-speaker=4 --heldout-speakers=2 --snr=clean --seed=3 >/dev/null
"$A" extract --data=c/train --out=f/train --nj=2 >/dev/null 2>&1
"$A" extract --data=c/dev --out=f/dev16 --width=16 --height=16 >/dev/null 2>&1
for mod in av audio; do
    "$A" pretrain --feats=f/train --out=p_$mod --model=tiny --modalities=$mod --max-steps=3 --batch-tokens=600 \
        --save-every=3 --threads=2 >p_$mod.log 2>&1 || { tail -3 p_$mod.log; fail "pretrain $mod"; }
done
cp -r f/train f/shuf      # the same features with the video frames of the shard permuted
"$PY" -c "
import h5py, numpy as np
with h5py.File('f/shuf/shard-00000.h5', 'r+') as f:
    v = f['video/frames']; v[...] = v[()][np.random.default_rng(0).permutation(v.shape[0])]"
fit() {  # mod layer feats out [options]
    "$A" kmeans --feats=$3 --out=$4 --k=8 --source=layer --checkpoint=p_$1/checkpoint-last.h5 --layer=$2 \
        --dump-feats=$4/x.h5 --batch-tokens=300 "${@:5}" >$4.log 2>&1 || { tail -3 $4.log; fail "fit $4"; }
}
cases=
for mod in av audio; do
    for L in 0 2 3; do
        mkdir -p km_${mod}_$L; fit $mod $L f/train km_${mod}_$L
        cases+=" p_$mod/checkpoint-last.h5 f/train km_${mod}_$L/x.h5 km_${mod}_$L/codebook.h5"
    done
    for L in 2 3; do mkdir -p shuf_${mod}_$L; fit $mod $L f/shuf shuf_${mod}_$L; done
done
mkdir -p drop_av_3 dshuf_av_3
fit av 3 f/train drop_av_3 --video=drop
fit av 3 f/shuf dshuf_av_3 --video=drop
cases+=" p_av/checkpoint-last.h5 f/train drop_av_3/x.h5 drop_av_3/codebook.h5"
"$PY" "$AVMASK_ROOT/tests/ref/layer_ref.py" $cases
"$PY" - <<'E'
import h5py, numpy as np, os, json
def raw(d):
    with h5py.File(d + "/codebook.h5") as cb, h5py.File(d + "/x.h5") as x:
        return x["x"][()].astype(np.float64) * cb["norm/std"][()] + cb["norm/mean"][()]
for a_dir, b_dir, moves, what in (("km_av_3", "shuf_av_3", True, "av layer 3, video shuffled"),
                                  ("km_av_2", "shuf_av_2", False, "av layer 2, video shuffled"),
                                  ("km_audio_3", "shuf_audio_3", False, "audio layer 3, video shuffled"),
                                  ("km_audio_2", "shuf_audio_2", False, "audio layer 2, video shuffled"),
                                  ("drop_av_3", "dshuf_av_3", False, "av layer 3 video dropped, video shuffled"),
                                  ("km_av_3", "drop_av_3", True, "av layer 3, video present vs dropped")):
    a, b = raw(a_dir), raw(b_dir)
    rel = np.abs(a - b).max() / np.abs(a).max()
    print("%s: max change %.2e of max |x|" % (what, rel))
    assert (rel > 1e-2) if moves else (rel < 1e-5), what
with h5py.File("km_av_3/codebook.h5") as a, h5py.File("drop_av_3/codebook.h5") as b:
    assert a.attrs["video"] == "used" and b.attrs["video"] == "dropped", (a.attrs["video"], b.attrs["video"])
    assert a.attrs["hash"] != b.attrs["hash"], "the same hash with and without the video"
    assert json.loads(b.attrs["feature_config"])["video"] == "dropped"
with h5py.File("km_av_3/codebook.h5") as cb, h5py.File("p_av/checkpoint-last.h5") as ck:
    at = cb.attrs
    assert at["source"] == "layer" and at["layer"] == 3, dict(at)
    assert at["checkpoint"] == os.path.realpath("p_av/checkpoint-last.h5"), at["checkpoint"]
    assert at["checkpoint_crc32"] == "%08x" % ck.attrs["checksum_params"], (at["checkpoint_crc32"], ck.attrs["checksum_params"])
print("codebook records source, checkpoint, checksum and layer")
E
"$A" kmeans --apply --codebook=km_av_3 --feats=f/train --out=lab >/dev/null 2>&1 || fail "apply"
"$A" kmeans --apply --codebook=drop_av_3 --feats=f/train --out=lab_drop >/dev/null 2>&1 || fail "apply --video=drop"
"$PY" - <<'E'
import h5py, numpy as np, json
for km, lab_dir, video in (("km_av_3", "lab", "used"), ("drop_av_3", "lab_drop", "dropped")):
    with h5py.File(km + "/codebook.h5") as cb, h5py.File(km + "/x.h5") as x, h5py.File(lab_dir + "/labels-00000.h5") as l:
        c, X, lab = cb["centres"][()].astype(np.float64), x["x"][()].astype(np.float64), l["labels"][()]
        assert l.attrs["source"] == "layer"
    d = ((X[:, None, :] - c[None]) ** 2).sum(-1)
    best = d.min(1)
    assert len(lab) == len(X) and np.all(d[np.arange(len(X)), lab] <= best + 1e-5 * (1 + best)), \
        "%s: labels are not the nearest centres" % km
    j = json.load(open(lab_dir + "/labels.json"))
    assert j["source"] == "layer" and j["layer"] == 3 and j["checkpoint"].endswith("p_av/checkpoint-last.h5"), j
    assert j["video"] == video, j
    print("apply (video %s): %d labels, each the nearest centre" % (video, len(lab)))
E
refused() {  # pattern command...
    local pat=$1; shift
    "$@" >out.txt 2>&1 && fail "accepted: $*"
    [ "$(wc -l <out.txt)" = 1 ] || { cat out.txt; fail "not one line: $*"; }
    grep -q -- "$pat" out.txt || fail "message '$(cat out.txt)' lacks '$pat'"
    echo "refused: $(cat out.txt)"
}
refused "f/dev16: feature config differs from the training features of .*p_av/checkpoint-last.h5: video.width is 16 vs 32" \
    "$A" kmeans --apply --codebook=km_av_3 --feats=f/dev16 --out=lab16
refused "p_audio/checkpoint-last.h5: parameter checksum .*, the codebook was fitted on .* of .*p_av/checkpoint-last.h5" \
    "$A" kmeans --apply --codebook=km_av_3 --checkpoint=p_audio/checkpoint-last.h5 --feats=f/train --out=lab2
refused "layer=4: the model has layers 0..3 (0 embeddings, 1..2 audio encoder, 3..3 fusion)" \
    "$A" kmeans --feats=f/train --out=bad --source=layer --checkpoint=p_av/checkpoint-last.h5 --layer=4
refused "source=layer goes with --checkpoint=FILE and --layer=N" "$A" kmeans --feats=f/train --out=bad --source=layer --layer=1
refused "p_audio/checkpoint-last.h5: --video=drop: an audio-only model has no video to drop" \
    "$A" kmeans --feats=f/train --out=bad --source=layer --checkpoint=p_audio/checkpoint-last.h5 --layer=1 --video=drop
refused "video=drop goes with --source=layer" "$A" kmeans --feats=f/train --out=bad --video=drop
echo "test_kmeans_layer: ok"
