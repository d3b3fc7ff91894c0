"""PyTorch reference for the text ops and the text encoder (tests/tools/parity_text.c),
float64: F.embedding with padding_idx=0, the masked mean, F.cross_entropy with
ignore_index=-100 (mean, and a sum over a denominator of 20), F.triplet_margin_loss (p=2,
eps=0) with F.normalize'd rows or raw ones, the hardest negative picked here independently
(torch.cdist among rows of other classes), and the whole encoder: embedding + positions,
nn.TransformerEncoderLayer (tests/ref/torch_layer.py) with the key padding mask, final
LayerNorm, BERT's MLM head (dense, GELU, LayerNorm, decoder tied to the embedding table)
scored over every token with ignore_index=-1, plus sum(pooled * R); the <pad> row's gradient
is dropped as the C encoder defines it."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_layer import build_layer, load, save  # noqa: E402


def leaf(a):
    return torch.from_numpy(a).requires_grad_(True)


def ops(d, T):
    ids = torch.from_numpy(T["ids"]).long()
    table = leaf(T["table"])
    y = F.embedding(ids, table, padding_idx=0)
    (y * torch.from_numpy(T["edy"])).sum().backward()
    save(d, "embed.y", y)
    save(d, "embed.dtable", table.grad)

    x = leaf(T["px"])
    keep = (torch.from_numpy(T["pad"]) < 0.5).double().unsqueeze(-1)
    pooled = (x * keep).sum(1) / keep.sum(1).clamp(min=1)
    (pooled * torch.from_numpy(T["pdy"])).sum().backward()
    save(d, "pool.y", pooled)
    save(d, "pool.dx", x.grad)

    y = torch.from_numpy(T["y"]).long()
    for name, red in (("xent", "mean"), ("xent_sum20", "sum")):
        logits = leaf(T["logits"])
        loss = F.cross_entropy(logits, y, ignore_index=-100, reduction=red)
        if red == "sum":
            loss = loss / 20
        loss.backward()
        save(d, name + ".loss", loss.detach().reshape(1))
        save(d, name + ".dlogits", logits.grad)

    cls = torch.from_numpy(T["cls"]).long()
    given = torch.from_numpy(T["neg"]).long()
    n = cls.shape[0]
    for norm in (False, True):
        for use_given in (False, True):
            a, p = leaf(T["a"]), leaf(T["p"])
            an = F.normalize(a, dim=1, eps=1e-8) if norm else a
            pn = F.normalize(p, dim=1, eps=1e-8) if norm else p
            if use_given:
                neg = given.clone()
            else:
                dist = torch.cdist(an.detach(), pn.detach())
                bad = (cls[:, None] == cls[None, :]) | torch.eye(n, dtype=torch.bool)
                dist = dist.masked_fill(bad, float("inf"))
                neg = dist.argmin(1)
                neg[torch.isinf(dist.min(1).values)] = -1
            ok = neg >= 0
            loss = F.triplet_margin_loss(an[ok], pn[ok], pn[neg[ok]], margin=0.8 if norm else 2.0, p=2, eps=0,
                                         reduction="sum") / ok.sum()
            loss.backward()
            pre = "triplet" + ("_norm" if norm else "") + ("_given" if use_given else "")
            save(d, pre + ".loss", loss.detach().reshape(1))
            save(d, pre + ".da", a.grad)
            save(d, pre + ".dp", p.grad)
            save(d, pre + ".neg", neg.double())


def model(d, T):
    V, dm, ffn, heads, layers, max_len, *lens = (int(v) for v in T["config"])
    B, Tn = T["mids"].shape
    P = {k: leaf(v) for k, v in T.items() if k.startswith("text_encoder.") or k.startswith("mlm_head.")}
    ids = torch.from_numpy(T["mids"]).long()
    tgt = torch.from_numpy(T["mtgt"]).long()
    pad = torch.arange(Tn)[None, :] >= torch.tensor(lens)[:, None]
    x = P["text_encoder.tok_emb"][ids] + P["text_encoder.pos"][:Tn][None]
    pmap = {}
    for i in range(layers):
        layer, lp = build_layer(T, "text_encoder.layers.%d" % i, dm, heads, ffn)
        pmap.update(lp)
        x = layer(x, src_key_padding_mask=pad)
    h = F.layer_norm(x, (dm,), P["text_encoder.norm.weight"], P["text_encoder.norm.bias"], eps=1e-5)
    keep = (~pad).double().unsqueeze(-1)
    pooled = (h * keep).sum(1) / keep.sum(1)
    u = F.gelu(F.linear(h, P["mlm_head.dense.weight"], P["mlm_head.dense.bias"]))
    u = F.layer_norm(u, (dm,), P["mlm_head.norm.weight"], P["mlm_head.norm.bias"], eps=1e-5)
    logits = u @ P["text_encoder.tok_emb"].t() + P["mlm_head.bias"]
    tgt = tgt.masked_fill(pad, -1)
    loss = F.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1), ignore_index=-1)
    loss = loss + (pooled * torch.from_numpy(T["mR"])).sum()
    loss.backward()
    save(d, "model.loss", loss.detach().reshape(1))
    save(d, "model.pooled", pooled)
    P["text_encoder.tok_emb"].grad[0] = 0   # <pad> never trains
    for name, p in list(P.items()) + list(pmap.items()):
        save(d, "grad." + name, p.grad)


def main():
    d = sys.argv[1]
    T = load(d)
    ops(d, T)
    model(d, T)


if __name__ == "__main__":
    main()
