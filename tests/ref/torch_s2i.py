"""PyTorch reference for S2I's training loss (tests/tools/parity_s2i.c), float64.

The encoder is torch_avmodel.py's audio branch (front-end, positions, type embedding,
nn.TransformerEncoderLayer's, the fusion projection and layers, final LayerNorm) rebuilt
from the C weights; then the mean over each sample's unpadded tokens, the projection and
the classifier (F.linear), F.cross_entropy summed over the slice and divided by the global
batch (5 samples; the slice holds 3), plus 0.7 times a cross-modal loss toward rows of a
pool of text embeddings (each sample's own row pos[i]), summed over the slice / 5:
  l2       ((emb - text) ** 2).mean over dimensions
  triplet  F.triplet_margin_loss (p=2, eps=0, margin 0.5) of F.normalize'd rows; the negative
           of sample i is picked here independently: torch.cdist from its embedding to every
           row of [the slice's own texts; the pool], rows of its own intent excluded
  infonce  F.cross_entropy(cos(emb_i, pool_j) / 0.2, pos_i)
  triplet_given  the triplet with given negatives (pool rows; sampled ones in training)
Writes <kind>.loss (total, cross-entropy, unweighted cross-modal part), triplet.neg and
<kind>.grad.<name> of every parameter. Usage: torch_s2i.py DIR."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_avmodel import Model  # noqa: E402
from torch_layer import load, save  # noqa: E402

GLOBAL_B, WEIGHT, MARGIN, TAU = 5.0, 0.7, 0.5, 0.2


GIVEN_NEG = [3, 0, -1]      # parity_s2i.c's sampled negatives: pool rows (-1: none)


def xmodal(kind, emb, y, pos, pool, pcls, d):
    text = pool[pos]
    if kind == "triplet_given":
        an, cand = F.normalize(emb, dim=1, eps=1e-8), F.normalize(pool, dim=1, eps=1e-8)
        ok = torch.tensor([k >= 0 for k in GIVEN_NEG])
        neg = torch.tensor([max(k, 0) for k in GIVEN_NEG])
        pn = F.normalize(text, dim=1, eps=1e-8)
        return F.triplet_margin_loss(an[ok], pn[ok], cand[neg][ok], margin=MARGIN, p=2, eps=0,
                                     reduction="sum") / GLOBAL_B
    if kind == "l2":
        return ((emb - text) ** 2).mean(1).sum() / GLOBAL_B
    if kind == "triplet":
        an, cand = F.normalize(emb, dim=1, eps=1e-8), F.normalize(torch.cat([text, pool]), dim=1, eps=1e-8)
        ccls = torch.cat([y, pcls])
        dist = torch.cdist(an.detach(), cand.detach()).masked_fill(y[:, None] == ccls[None, :], float("inf"))
        neg = dist.argmin(1)
        save(d, "triplet.neg", neg.double())
        return F.triplet_margin_loss(an, cand[:emb.shape[0]], cand[neg], margin=MARGIN, p=2, eps=0,
                                     reduction="sum") / GLOBAL_B
    if kind == "infonce":
        sim = F.normalize(emb, dim=1, eps=1e-8) @ F.normalize(pool, dim=1, eps=1e-8).t() / TAU
        return F.cross_entropy(sim, pos, reduction="sum") / GLOBAL_B
    return torch.zeros((), dtype=torch.float64)


def run(d, T, kind):
    m = Model(T, T["config"])
    head = {k: torch.from_numpy(v).requires_grad_(True) for k, v in T.items() if k.startswith("s2i.")}
    audio = torch.from_numpy(T["audio"])
    lens = torch.from_numpy(T["len"]).long()
    Tt = audio.shape[1]
    pad = torch.arange(Tt).unsqueeze(0) >= lens.unsqueeze(1)
    z = m.fusion(m.fuse(m.stream("audio", audio, None, pad, []), None), pad, [])
    keep = (~pad).double().unsqueeze(-1)
    pooled = (z * keep).sum(1) / keep.sum(1)
    emb = F.linear(pooled, head["s2i.proj.weight"], head["s2i.proj.bias"])
    logits = F.linear(emb, head["s2i.cls.weight"], head["s2i.cls.bias"])
    y, pos = torch.from_numpy(T["y"]).long(), torch.from_numpy(T["pos"]).long()
    pool, pcls = torch.from_numpy(T["pool"]), torch.from_numpy(T["pool_cls"]).long()
    ce = F.cross_entropy(logits, y, reduction="sum") / GLOBAL_B
    xm = xmodal(kind, emb, y, pos, pool, pcls, d)
    loss = ce + WEIGHT * xm
    loss.backward()
    save(d, kind + ".loss", torch.stack([loss, ce, xm]).detach())
    for name, p in list(m.params.items()) + list(head.items()):
        save(d, kind + ".grad." + name, p.grad if p.grad is not None else torch.zeros_like(p))


def main():
    d = sys.argv[1]
    T = load(d)
    for kind in ("none", "l2", "triplet", "infonce", "triplet_given"):
        run(d, T, kind)


if __name__ == "__main__":
    main()
