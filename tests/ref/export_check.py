#!/usr/bin/python3
"""Checks an avmask export against its checkpoint and the C forward pass.

usage: export_check.py CKPT EXPORT_DIR FORWARD_DIR CMVN_H5
 - audio_encoder.h5 and model.safetensors hold exactly the audio-branch tensors of the
   checkpoint (/params/*), bit for bit (fusion_proj.weight of an AV checkpoint: its audio
   half, the first d columns);
 - config.json carries the CMVN statistics of CMVN_H5;
 - eval/pytorch/load_avmask.py (float64) reproduces the C forward pass and hidden states
   written by tests/tools/export_forward (FORWARD_DIR) on unpadded rows:
   max|c - ref| / max(max|ref|, 1e-6) <= 1e-4 per tensor.
"""
import json
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.environ.get("AVMASK_ROOT", "."), "eval", "pytorch"))
import load_avmask  # noqa: E402

BRANCH = ("audio_frontend.", "audio_encoder.", "fusion_encoder.", "fusion_proj.")


def main(ckpt, ex, fw, cmvn):
    with h5py.File(ckpt, "r") as f:
        ck = {k: f["params"][k][()] for k in f["params"]}
    want = {k for k in ck if k.startswith(BRANCH) or k in ("audio_pos", "audio_type")}
    h5 = load_avmask.read_h5(os.path.join(ex, "audio_encoder.h5"))
    st = load_avmask.read_safetensors(os.path.join(ex, "model.safetensors"))
    assert set(h5) == want, sorted(set(h5) ^ want)
    assert set(st) == want, sorted(set(st) ^ want)
    if "fusion_proj.weight" in ck:     # [d, 2d] (AV) or [d, d] (audio-only): the audio half
        w = ck["fusion_proj.weight"]
        ck["fusion_proj.weight"] = w[:, :w.shape[0]]
    for k in want:
        assert h5[k].dtype == np.float32 and np.array_equal(h5[k], ck[k]), k
        assert np.array_equal(st[k], ck[k]), k
    print(f"{len(want)} tensors equal in checkpoint, audio_encoder.h5, model.safetensors")

    config = json.load(open(os.path.join(ex, "config.json")))
    with h5py.File(cmvn, "r") as f:
        assert np.allclose(config["cmvn"]["mean"], f["audio/mean"][()], rtol=1e-7, atol=0)
        assert np.allclose(config["cmvn"]["var"], f["audio/var"][()], rtol=1e-7, atol=0)
    B, T, din, d, nh = map(int, open(os.path.join(fw, "shape.txt")).read().split())
    x = np.fromfile(os.path.join(fw, "x.f32"), dtype=np.float32).reshape(B, T, din)
    lens = np.fromfile(os.path.join(fw, "len.i32"), dtype=np.int32)
    out = np.fromfile(os.path.join(fw, "out.f32"), dtype=np.float32).reshape(B, T, d)
    hid = np.fromfile(os.path.join(fw, "hidden.f32"), dtype=np.float32).reshape(nh, B, T, d)

    for source in ("safetensors", "h5"):
        model, _ = load_avmask.load(ex, source=source)
        model = model.double()
        with torch.no_grad():
            ref, rh = model(torch.from_numpy(x).double(), torch.from_numpy(lens.astype(np.int64)),
                            return_hidden=True)
        assert len(rh) == nh, (len(rh), nh)
        valid = np.arange(T)[None, :] < lens[:, None]
        worst = 0.0
        for name, c, r in [("out", out, ref)] + [(f"hidden[{k}]", hid[k], rh[k]) for k in range(nh)]:
            r = r.numpy()[valid]
            err = np.abs(c[valid] - r).max() / max(np.abs(r).max(), 1e-6)
            assert err <= 1e-4, f"{source} {name}: relative error {err:.3g}"
            worst = max(worst, err)
        print(f"{source}: torch reproduces the C audio branch, worst relative error {worst:.3g}")

    # the feature helper: CMVN then 4 frames per token
    fb = np.random.default_rng(0).normal(size=(41, len(config["cmvn"]["mean"]))).astype(np.float32)
    tok = load_avmask.features(fb, config).numpy()
    assert tok.shape == (10, 4 * fb.shape[1])
    m0 = np.asarray(config["cmvn"]["mean"], np.float32)
    s0 = np.sqrt(np.maximum(np.asarray(config["cmvn"]["var"]), 1e-10)).astype(np.float32)
    assert np.allclose(tok[1, fb.shape[1]:2 * fb.shape[1]], (fb[5] - m0) / s0, rtol=1e-5, atol=1e-5)


if __name__ == "__main__":
    main(*sys.argv[1:5])
