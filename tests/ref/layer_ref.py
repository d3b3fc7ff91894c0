"""PyTorch reference for `avmask kmeans --source=layer` (tests/cluster/test_kmeans_layer.sh).

Usage: layer_ref.py CHECKPOINT FEATS DUMP CODEBOOK [CHECKPOINT FEATS DUMP CODEBOOK ...]
Rebuilds the checkpoint's model in float64 (tests/ref/torch_avmodel.py: the same weights,
torch.nn.TransformerEncoderLayer), feeds each utterance of FEATS alone (no padding, no
masking, dropout 0), audio normalised with the checkpoint's training cmvn.h5, video with
its pixel mean/std and present for an AV model (unless the codebook's video attribute
is "dropped": then the fusion takes zeros for the video stream, AV-HuBERT's dropped
modality), collects the hidden states in the C order
(embeddings, audio layers, fusion layers), and compares layer N (the codebook's) with the
vectors `--dump-feats` wrote (un-standardised with the codebook's mean/std): the largest
|C - ref| over the largest |ref| must be <= 1e-4. Prints one line per case.
"""
import json
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_avmodel import Model  # noqa: E402

TOL = 1e-4


def load_model(ckpt):
    with h5py.File(ckpt, "r") as f:
        cfg = json.loads(f.attrs["config"])
        T = {}
        f["params"].visititems(lambda n, o: T.__setitem__(n, o[()].astype(np.float64))
                               if isinstance(o, h5py.Dataset) else None)
    mc = cfg["model"]
    assert mc.get("fusion", "concat") == "concat", "reference written for fusion=concat"
    audio_only = mc["modalities"] == "audio"
    T["config"] = [mc["d"], mc["heads"], mc["ffn"], mc["layers_audio"], mc["layers_video"], mc["layers_fusion"],
                   mc["audio_in"], mc["video_in"], mc["max_len"], 0, int(audio_only), 0, 0, 0, 0, 0, 0]
    return Model(T, T["config"]), cfg, audio_only


def utterances(feats):
    """(fbank [frames, n_mels], video [frames, H*W] uint8 or None) per utterance, index order."""
    rows = [l.split("\t") for l in open(os.path.join(feats, "index.tsv")) if l.strip()]
    for r in rows:
        shard, row = int(r[1]), int(r[2])
        with h5py.File(os.path.join(feats, "shard-%05d.h5" % shard), "r") as f:
            ao, vo = f["audio/offsets"][()], f["video/offsets"][()] if "video" in f else None
            fb = f["audio/fbank"][ao[row]:ao[row + 1]]
            vid = f["video/frames"][vo[row]:vo[row + 1]] if vo is not None else None
        yield fb, None if vid is None else vid.reshape(vid.shape[0], -1)


def hidden_states(m, audio_only, a, v):
    """v None for an AV model: the video dropped (zeros enter the fusion in its place)."""
    pad = torch.zeros(1, a.shape[1], dtype=torch.bool)
    hidden = []
    with torch.no_grad():
        za = m.stream("audio", a, None, pad, hidden)
        zv = None if audio_only else torch.zeros_like(za) if v is None else m.stream("video", v, None, pad, [])
        m.fusion(m.fuse(za, zv), pad, hidden)
    return hidden


def check(ckpt, feats, dump, codebook):
    m, cfg, audio_only = load_model(ckpt)
    with h5py.File(cfg["features"]["cmvn"], "r") as c:
        mean, istd = c["audio/mean"][()], 1.0 / np.sqrt(np.maximum(c["audio/var"][()], 1e-10))
        pmean, pstd = float(c["video/mean"][()]), float(c["video/std"][()])
    with h5py.File(codebook, "r") as cb:
        layer, nm, ns = int(cb.attrs["layer"]), cb["norm/mean"][()], cb["norm/std"][()]
        dropped = cb.attrs.get("video", "used") == "dropped"
    with h5py.File(dump, "r") as f:
        got = f["x"][()].astype(np.float64) * ns + nm
    refs = []
    for fb, vid in utterances(feats):
        T = fb.shape[0] // 4
        a = torch.from_numpy(((fb[:4 * T] - mean) * istd).reshape(1, T, -1))
        v = None if audio_only or dropped else torch.from_numpy(((vid[:T].astype(np.float64) - pmean) / pstd)[None])
        refs.append(hidden_states(m, audio_only, a, v)[layer][0].numpy())
    ref = np.concatenate(refs)
    assert ref.shape == got.shape, (ref.shape, got.shape)
    err = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-6)
    print("%s layer %d (%s%s): %d vectors, max |C - ref| / max |ref| = %.2e" % (
        os.path.basename(os.path.dirname(ckpt)), layer, "audio" if audio_only else "av",
        ", video dropped" if dropped else "", len(ref), err))
    assert err <= TOL, "layer vectors differ from the PyTorch reference"


def main():
    args = sys.argv[1:]
    for i in range(0, len(args), 4):
        check(*args[i:i + 4])


if __name__ == "__main__":
    main()
