"""PyTorch reference for TinyS2I's joint training loss (tests/tools/parity_tinys2i.c), float64.

The audio encoder is torch_avmodel.py's audio branch rebuilt from the C weights (as in
torch_s2i.py); then the mean over each sample's unpadded tokens and the projection to the
embedding (F.linear). The title encoder is the text encoder of torch_text.py without the MLM
head: token embedding + positions, nn.TransformerEncoderLayer with the key padding mask,
final LayerNorm, the mean over each title's tokens. Over a global batch of 6 (the slice
holds 4):
  decision  F.cross_entropy(tiny.cls(emb), cls, reduction="sum") / 6
  command   F.cross_entropy(tiny.cmd(emb), cmd, ignore_index=-1, reduction="sum") / 2
  title     F.triplet_margin_loss (p=2, eps=0, margin 0.5) of F.normalize'd rows: the anchors
            are the title utterances' embeddings, the positives their titles' pooled
            embeddings, the negatives the given pool rows; summed / 3
  loss = decision + command + 0.7 x title
Writes loss (total and the three parts) and grad.<name> of every parameter (the <pad> row
of the token table gets none, as the C encoder defines it). Usage: torch_tinys2i.py DIR."""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_avmodel import Model  # noqa: E402
from torch_layer import build_layer, load, save  # noqa: E402

GLOBAL_B, NCMD, NTITLE, WEIGHT, MARGIN = 6.0, 2.0, 3.0, 0.7, 0.5


def title_encoder(T, ids, lens):
    P = {k: torch.from_numpy(v).requires_grad_(True) for k, v in T.items()
         if k.startswith("text_encoder.") and ".layers." not in k}
    dm, heads = P["text_encoder.tok_emb"].shape[1], 2
    ffn = T["text_encoder.layers.0.ffn.fc1.weight"].shape[0]
    n, Tn = ids.shape
    pad = torch.arange(Tn)[None, :] >= lens[:, None]
    x = P["text_encoder.tok_emb"][ids] + P["text_encoder.pos"][:Tn][None]
    layer, pmap = build_layer(T, "text_encoder.layers.0", dm, heads, ffn)
    x = layer(x, src_key_padding_mask=pad)
    h = F.layer_norm(x, (dm,), P["text_encoder.norm.weight"], P["text_encoder.norm.bias"], eps=1e-5)
    keep = (~pad).double().unsqueeze(-1)
    return (h * keep).sum(1) / keep.sum(1), P, pmap


def main():
    d = sys.argv[1]
    T = load(d)
    m = Model(T, T["config"])
    head = {k: torch.from_numpy(v).requires_grad_(True) for k, v in T.items() if k.startswith("tiny.")}
    audio = torch.from_numpy(T["audio"])
    lens = torch.from_numpy(T["len"]).long()
    pad = torch.arange(audio.shape[1]).unsqueeze(0) >= lens.unsqueeze(1)
    z = m.fusion(m.fuse(m.stream("audio", audio, None, pad, []), None), pad, [])
    keep = (~pad).double().unsqueeze(-1)
    emb = F.linear((z * keep).sum(1) / keep.sum(1), head["tiny.proj.weight"], head["tiny.proj.bias"])
    cls = torch.from_numpy(T["cls"]).long()
    cmd = torch.from_numpy(T["cmd"]).long()
    pos = torch.from_numpy(T["pos"]).long()
    neg = torch.from_numpy(T["neg"]).long()
    tp, P, pmap = title_encoder(T, torch.from_numpy(T["ids"]).long(), torch.from_numpy(T["tlen"]).long())
    l_dec = F.cross_entropy(F.linear(emb, head["tiny.cls.weight"], head["tiny.cls.bias"]), cls, reduction="sum") / GLOBAL_B
    l_cmd = F.cross_entropy(F.linear(emb, head["tiny.cmd.weight"], head["tiny.cmd.bias"]), cmd, ignore_index=-1,
                            reduction="sum") / NCMD
    a = pos >= 0
    an = F.normalize(emb[a], dim=1, eps=1e-8)
    tn = F.normalize(tp, dim=1, eps=1e-8)
    l_title = F.triplet_margin_loss(an, tn[pos[a]], tn[neg[a]], margin=MARGIN, p=2, eps=0, reduction="sum") / NTITLE
    loss = l_dec + l_cmd + WEIGHT * l_title
    loss.backward()
    save(d, "loss", torch.stack([loss, l_dec, l_cmd, l_title]).detach())
    P["text_encoder.tok_emb"].grad[0] = 0   # <pad> never trains
    for name, p in list(m.params.items()) + list(head.items()) + list(P.items()) + list(pmap.items()):
        save(d, "grad." + name, p.grad if p.grad is not None else torch.zeros_like(p))


if __name__ == "__main__":
    main()
