"""PyTorch reference for one pre-LN encoder layer (tests/tools/parity_layer.c).

Reads DIR/manifest.txt and DIR/<name>.f32 written by the C tool, rebuilds the layer as
torch.nn.TransformerEncoderLayer(norm_first=True, activation="gelu", batch_first=True) in
float64, computes L = sum(y * R) with the key padding mask, and writes y (padded rows
zeroed), dx and grad.<param> for every parameter to DIR/ref/<name>.f32 (float32).
"""
import os
import sys

import numpy as np
import torch


def load(d):
    """All tensors listed in the manifest, as float64 numpy arrays of their shapes."""
    out = {}
    with open(os.path.join(d, "manifest.txt")) as f:
        for line in f:
            parts = line.split()
            name, ndim = parts[0], int(parts[1])
            shape = [int(v) for v in parts[2:2 + ndim]]
            a = np.fromfile(os.path.join(d, name + ".f32"), dtype=np.float32)
            out[name] = a.reshape(shape).astype(np.float64)
    return out


def save(d, name, t):
    os.makedirs(os.path.join(d, "ref"), exist_ok=True)
    a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
    a.astype(np.float32).tofile(os.path.join(d, "ref", name + ".f32"))


# C parameter suffix -> attribute path in nn.TransformerEncoderLayer
LAYER_MAP = {
    "norm1.weight": "norm1.weight", "norm1.bias": "norm1.bias",
    "attn.in_proj.weight": "self_attn.in_proj_weight", "attn.in_proj.bias": "self_attn.in_proj_bias",
    "attn.out_proj.weight": "self_attn.out_proj.weight", "attn.out_proj.bias": "self_attn.out_proj.bias",
    "norm2.weight": "norm2.weight", "norm2.bias": "norm2.bias",
    "ffn.fc1.weight": "linear1.weight", "ffn.fc1.bias": "linear1.bias",
    "ffn.fc2.weight": "linear2.weight", "ffn.fc2.bias": "linear2.bias",
}


def build_layer(T, prefix, d, heads, ffn):
    """An encoder layer holding the C weights T[prefix + '.' + suffix]; returns (layer, {c_name: param})."""
    layer = torch.nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, activation="gelu",
                                             batch_first=True, norm_first=True).double()
    layer.train()   # the exact (non fast-path) computation
    named = dict(layer.named_parameters())
    pmap = {}
    with torch.no_grad():
        for suffix, attr in LAYER_MAP.items():
            p = named[attr]
            p.copy_(torch.from_numpy(T[prefix + "." + suffix]))
            pmap[prefix + "." + suffix] = p
    return layer, pmap


def main():
    d = sys.argv[1]
    torch.manual_seed(0)
    T = load(d)
    dm, heads, ffn = (int(v) for v in T["config"])
    layer, pmap = build_layer(T, "layer", dm, heads, ffn)
    x = torch.from_numpy(T["x"]).requires_grad_(True)
    pad = torch.from_numpy(T["pad"]) > 0.5
    R = torch.from_numpy(T["R"])
    y = layer(x, src_key_padding_mask=pad)
    (y * R).sum().backward()
    save(d, "y", y.masked_fill(pad.unsqueeze(-1), 0.0))
    save(d, "dx", x.grad)
    for name, p in pmap.items():
        save(d, "grad." + name, p.grad)


if __name__ == "__main__":
    main()
