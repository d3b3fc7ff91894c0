#!/usr/bin/python3
"""Rebuilds a fine-tuned avmask model (train/asr.h) in PyTorch and checks the C logits.

usage: asr_check.py MODEL_DIR FORWARD_DIR
FORWARD_DIR is what tests/tools/asr_forward wrote for MODEL_DIR (x.f32, len.i32, logits.f32,
shape.txt). The reference, in float64: the encoder from eval/pytorch/load_avmask.py
(model(x, lengths, return_hidden=True): the embeddings, every audio and fusion layer output,
then the final output, the order of asr.c's states), ctc_head.h5 read with h5py, asr.json's
layer_weights and layer_norm (absent: 0). With layer weights the head reads
sum_k softmax(w)_k S_k, S_k = torch.nn.functional.layer_norm(state_k, (d,), eps=1e-5) (no
affine) when layer_norm is 1, else the state itself; without, the final output. Passes when
max|c - ref| / max|ref| <= 1e-4 over the unpadded rows (float32 C against float64 torch).
Prints the RMS of every state, to show how their scales differ.
"""
import json
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.environ.get("AVMASK_ROOT", "."), "eval", "pytorch"))
import load_avmask  # noqa: E402

TOL = 1e-4


def head_logits(states, head, nw, ln):
    """The head over the encoder states (the hidden states, then the output): with nw layer
    weights over sum_k softmax(w)_k S_k (S_k layer-normed without affine when ln), else over
    the output. head: ctc_head.h5's tensors (they may require grad)."""
    if not nw:
        return states[-1] @ head["ctc_head.weight"].T + head["ctc_head.bias"]
    assert len(states) == nw, f"{len(states)} encoder states, {nw} layer weights"
    p = torch.softmax(head["ctc_head.layer_weights"], 0)
    d = states[0].shape[-1]
    if ln:
        states = [torch.nn.functional.layer_norm(s, (d,), eps=1e-5) for s in states]
    print("layer weights (softmax):", " ".join(f"{float(v):.3f}" for v in p))
    rep = sum(p[k] * states[k] for k in range(nw))
    return rep @ head["ctc_head.weight"].T + head["ctc_head.bias"]


def main(model_dir, fw):
    with open(os.path.join(model_dir, "asr.json")) as f:
        desc = json.load(f)
    nw, ln = desc.get("layer_weights", 0), desc.get("layer_norm", 0)
    with h5py.File(os.path.join(model_dir, "ctc_head.h5"), "r") as f:
        head = {k: torch.from_numpy(f["params"][k][()]).double() for k in f["params"]}
    B, T, din, d, V, c_nw, c_ln = map(int, open(os.path.join(fw, "shape.txt")).read().split())
    assert (c_nw, c_ln) == (nw, ln), f"C read layer_weights {c_nw}, layer_norm {c_ln}; asr.json says {nw}, {ln}"
    x = np.fromfile(os.path.join(fw, "x.f32"), dtype=np.float32).reshape(B, T, din)
    lens = np.fromfile(os.path.join(fw, "len.i32"), dtype=np.int32)
    logits = np.fromfile(os.path.join(fw, "logits.f32"), dtype=np.float32).reshape(int(lens.sum()), V)

    model, _ = load_avmask.load(model_dir)
    model = model.double()
    with torch.no_grad():
        out, hidden = model(torch.from_numpy(x).double(), torch.from_numpy(lens.astype(np.int64)),
                            return_hidden=True)
        states = list(hidden) + [out]
        valid = torch.from_numpy(np.arange(T)[None, :] < lens[:, None])
        rms = [float(s[valid].pow(2).mean().sqrt()) for s in states]
        print("state RMS:", " ".join(f"{r:.3g}" for r in rms))
        ref = head_logits(states, head, nw, ln)[valid].numpy()
    err = np.abs(logits - ref).max() / max(np.abs(ref).max(), 1e-6)
    print(f"layer_weights {nw} layer_norm {ln}: {ref.shape[0]} rows x {V} logits, "
          f"relative error {err:.3g} (tolerance {TOL})")
    assert err <= TOL, f"{model_dir}: C logits differ from the torch reference by {err:.3g} relative"


if __name__ == "__main__":
    main(*sys.argv[1:3])
