#!/usr/bin/python3
"""The frame-level probe's first step (finetune --objective=frame) against PyTorch.

usage: frame_check.py MODEL_DIR FEATS_DIR CTM GRAD_FILE

MODEL_DIR is what a one-step run wrote (an lr of 1e-9, so its weights are the step's own);
GRAD_FILE its --dump-grad (float32 in view order: the encoder's views, then the head's
weight [V, d], bias [V] and layer weights [nw]). The whole training set must have been that
step's batch. The reference, in float64: every utterance's features read with h5py and made
tokens by load_avmask.features (CMVN of config.json, 4 frames per token), the encoder of
eval/pytorch/load_avmask.py, the head of asr_check.head_logits, and the labels computed
here from the CTM: the phone whose [start, start + dur) holds the token centre
(t + 0.5) * 0.04 s, outside every phone silence = unit 0; units.txt ('<symbol> <id>' lines) gives the ids. Loss:
F.cross_entropy over every token (the mean). Passes when the C head gradient (weight, bias,
layer weights) matches within 1e-4 of its largest magnitude, and the encoder's part of
the dump is zero (frozen).
"""
import json
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.environ.get("AVMASK_ROOT", "."), "eval", "pytorch"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load_avmask  # noqa: E402
from asr_check import head_logits  # noqa: E402

TOL = 1e-4
TOKEN_S = 0.04


def read_feats(d):
    """utt-id -> fbank, in index order."""
    out = {}
    with open(os.path.join(d, "index.tsv")) as f:
        rows = [line.split() for line in f if line.strip()]
    for uid, shard, row, _na, _nv in rows:
        with h5py.File(os.path.join(d, "shard-%05d.h5" % int(shard)), "r") as f:
            off = f["audio/offsets"][()]
            out[uid] = f["audio/fbank"][off[int(row)]:off[int(row) + 1]]
    return out


def token_labels(ctm, units, uid, T):
    segs = sorted((float(p[2]), float(p[2]) + float(p[3]), p[4]) for p in ctm if p[0] == uid)
    y = []
    for t in range(T):
        c = (t + 0.5) * TOKEN_S
        ph = [s[2] for s in segs if s[0] <= c < s[1]]
        y.append(units[ph[0]] if ph else 0)
    return y


def main(model_dir, feats, ctm_path, grad_path):
    model, config = load_avmask.load(model_dir)
    model = model.double()
    with open(os.path.join(model_dir, "asr.json")) as f:
        desc = json.load(f)
    assert desc["objective"] == "frame", desc
    nw, ln = desc.get("layer_weights", 0), desc.get("layer_norm", 0)
    units = dict((p[0], int(p[1])) for p in (line.split() for line in open(os.path.join(model_dir, "units.txt"))) if p)
    ctm = [line.split() for line in open(ctm_path) if line.strip()]
    with h5py.File(os.path.join(model_dir, "ctc_head.h5"), "r") as f:
        head = {k: torch.from_numpy(f["params"][k][()]).double().requires_grad_() for k in f["params"]}

    xs = [load_avmask.features(fb, config) for fb in read_feats(feats).values()]
    ids = list(read_feats(feats).keys())
    B, T = len(xs), max(x.shape[0] for x in xs)
    x = torch.zeros(B, T, xs[0].shape[1], dtype=torch.float64)
    for b, xb in enumerate(xs):
        x[b, :xb.shape[0]] = xb.double()
    lens = torch.tensor([xb.shape[0] for xb in xs])
    valid = torch.arange(T)[None, :] < lens[:, None]
    y = torch.tensor([v for uid, xb in zip(ids, xs) for v in token_labels(ctm, units, uid, xb.shape[0])])

    with torch.no_grad():
        out, hidden = model(x, lens, return_hidden=True)
    logits = head_logits(list(hidden) + [out], head, nw, ln)[valid]
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    ref = [head["ctc_head.weight"].grad, head["ctc_head.bias"].grad]
    if nw:
        ref.append(head["ctc_head.layer_weights"].grad)
    ref = torch.cat([g.reshape(-1) for g in ref]).numpy()

    g = np.fromfile(grad_path, dtype=np.float32)
    enc, mine = g[:g.size - ref.size], g[g.size - ref.size:]
    assert np.abs(enc).max() == 0, f"the frozen encoder got a gradient (max {np.abs(enc).max():.3g})"
    err = np.abs(mine - ref).max() / max(np.abs(ref).max(), 1e-12)
    print(f"frame probe: {int(valid.sum())} tokens of {B} utterances, loss {float(loss):.6f}, "
          f"head gradient ({ref.size} values) relative error {err:.3g} (tolerance {TOL})")
    assert err <= TOL, f"C head gradient differs from the torch reference by {err:.3g} relative"
    print(f"loss {float(loss):.6f}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
