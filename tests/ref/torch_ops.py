"""PyTorch reference for single ops (tests/tools/parity_ops.c), float64: F.linear, F.layer_norm,
F.gelu (exact), the attention core of F.multi_head_attention_forward (scaled dot product
with a key padding mask, q|k|v packed as in_proj outputs), F.l1_loss and F.mse_loss, and the
layer mix (s3prl's Featurizer: softmax-weighted sum of states, each F.layer_norm'd without
affine parameters or not)."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_layer import load, save  # noqa: E402


def leaf(a):
    return torch.from_numpy(a).requires_grad_(True)


def attention(qkv, pad, heads):
    """ctx [B, T, d] from packed q|k|v [B, T, 3d]; padded keys masked with -inf."""
    B, T, d3 = qkv.shape
    d = d3 // 3
    dh = d // heads
    q, k, v = (t.reshape(B, T, heads, dh).transpose(1, 2) for t in qkv.split(d, dim=-1))
    s = q @ k.transpose(-1, -2) / dh ** 0.5
    s = s.masked_fill(pad[:, None, None, :], float("-inf"))
    return (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)


def main():
    d = sys.argv[1]
    T = load(d)
    x, W, b = leaf(T["x"]), leaf(T["W"]), leaf(T["b"])
    y = F.linear(x, W, b)
    (y * torch.from_numpy(T["dy"])).sum().backward()
    for n, t in (("y", y), ("dx", x.grad), ("dW", W.grad), ("db", b.grad)):
        save(d, "linear." + n, t)
    x, g, lb = leaf(T["lx"]), leaf(T["g"]), leaf(T["lb"])
    y = F.layer_norm(x, (x.shape[-1],), g, lb, eps=1e-5)
    (y * torch.from_numpy(T["ldy"])).sum().backward()
    for n, t in (("y", y), ("dx", x.grad), ("dg", g.grad), ("db", lb.grad)):
        save(d, "layernorm." + n, t)
    x = leaf(T["gx"])
    y = F.gelu(x)
    (y * torch.from_numpy(T["gdy"])).sum().backward()
    save(d, "gelu.y", y)
    save(d, "gelu.dx", x.grad)
    qkv = leaf(T["qkv"])
    pad = torch.from_numpy(T["pad"]) > 0.5
    ctx = attention(qkv, pad, int(T["heads"][0]))
    ctx = ctx.masked_fill(pad.unsqueeze(-1), 0.0)   # padded query rows: defined as 0 in C
    (ctx * torch.from_numpy(T["cdy"])).sum().backward()
    save(d, "attn.ctx", ctx)
    save(d, "attn.dqkv", qkv.grad)
    for name, fn in (("l1", F.l1_loss), ("l2", F.mse_loss)):
        p = leaf(T["pred"])
        loss = fn(p, torch.from_numpy(T["target"]))
        loss.backward()
        save(d, name + ".loss", loss.detach().reshape(1))
        save(d, name + ".dpred", p.grad)

    for name, norm in (("mix", False), ("mixln", True)):
        x, w = leaf(T["mx"]), leaf(T["mw"])
        s = F.layer_norm(x, (x.shape[-1],), eps=1e-5) if norm else x
        y = (w.softmax(0)[:, None, None] * s).sum(0)
        (y * torch.from_numpy(T["mdy"])).sum().backward()
        save(d, name + ".y", y)
        save(d, name + ".dw", w.grad)
        save(d, name + ".dx", x.grad)


if __name__ == "__main__":
    main()
