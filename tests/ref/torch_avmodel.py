"""PyTorch reference for the whole audio-visual model (tests/tools/parity_avmodel.c).

Rebuilds the model in float64 from the C weights (same names, see models/README.md) out of
torch.nn.TransformerEncoderLayer (pre-LN, GELU), torch.nn.functional.layer_norm and plain
matmuls, runs the same batch with the same masks and modality-dropout decisions (dropout 0),
and writes the losses (or, for the audio branch, the output) and grad.<name> of every
parameter to DIR/ref/. Usage: torch_avmodel.py DIR [DIR ...].
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_layer import build_layer, load, save  # noqa: E402


class Model:
    def __init__(self, T, cfg):
        (self.d, self.heads, self.ffn, self.La, self.Lv, self.Lf, self.ain, self.vin,
         self.max_len, self.loss_kind, self.audio_only, self.case, self.sequence,
         self.clusters, self.k, self.label_dim) = (int(v) for v in cfg[:16])
        self.unmasked_weight = float(cfg[16])
        self.params = {}
        self.layers = {}
        for name, a in T.items():
            if "_encoder.layers." not in name and name not in ("config",) and \
                    any(name.startswith(p) for p in ("audio_", "video_", "mask_emb_", "fusion_", "final_proj.",
                                                     "label_embs")):
                self.params[name] = torch.from_numpy(a).requires_grad_(True)
        for mod, n in (("audio", self.La), ("video", 0 if self.audio_only else self.Lv), ("fusion", self.Lf)):
            self.layers[mod] = []
            for i in range(n):
                layer, pmap = build_layer(T, "%s_encoder.layers.%d" % (mod, i), self.d, self.heads, self.ffn)
                self.layers[mod].append(layer)
                self.params.update(pmap)

    def P(self, name):
        return self.params[name]

    def stream(self, mod, x, mask, pad, hidden, keep_masked=False):
        T = x.shape[1]
        e = x @ self.P(mod + "_frontend.weight").T + self.P(mod + "_frontend.bias")
        if mask is not None and not keep_masked:     # substituted video keeps its frames
            e = torch.where(mask.unsqueeze(-1), self.P("mask_emb_" + mod).expand_as(e), e)
        e = e + self.P(mod + "_pos")[:T] + self.P(mod + "_type")
        hidden.append(e)
        for layer in self.layers[mod]:
            e = layer(e, src_key_padding_mask=pad)
            hidden.append(e)
        return F.layer_norm(e, (self.d,), self.P(mod + "_encoder.norm.weight"),
                            self.P(mod + "_encoder.norm.bias"), eps=1e-5)

    def fusion(self, x, pad, hidden):
        for layer in self.layers["fusion"]:
            x = layer(x, src_key_padding_mask=pad)
            hidden.append(x)
        return F.layer_norm(x, (self.d,), self.P("fusion_encoder.norm.weight"),
                            self.P("fusion_encoder.norm.bias"), eps=1e-5)

    def fuse(self, za, zv):
        """Per-token fusion: [a_t ; v_t] @ W.T + b (zv None: audio-only model, W is [d, d])."""
        x = za if zv is None else torch.cat([za, zv], dim=-1)
        return x @ self.P("fusion_proj.weight").T + self.P("fusion_proj.bias")

    def head_loss(self, mod, z, sel, target):
        if not bool(sel.any()):
            return torch.zeros((), dtype=torch.float64)
        if self.loss_kind == 2:
            return self.infonce(mod, z, sel, target)
        pred = z[sel] @ self.P(mod + "_head.weight").T + self.P(mod + "_head.bias")
        diff = pred - target[sel]
        return diff.abs().mean() if self.loss_kind == 0 else (diff * diff).mean()

    def infonce(self, mod, z, sel, target, tau=0.1):
        """Per sample: cosine(pred_i, target_j) / tau over its masked tokens, CE to j = i."""
        total, n = 0.0, 0
        for b in range(z.shape[0]):
            if not bool(sel[b].any()):
                continue
            p = z[b][sel[b]] @ self.P(mod + "_head.weight").T + self.P(mod + "_head.bias")
            t = target[b][sel[b]]
            pn = p / p.norm(dim=1, keepdim=True).clamp_min(1e-8)
            tn = t / t.norm(dim=1, keepdim=True).clamp_min(1e-8)
            s = pn @ tn.T / tau
            total = total + F.cross_entropy(s, torch.arange(s.shape[0]), reduction="sum")
            n += s.shape[0]
        return total / n


    def cluster_loss(self, z, sel_m, sel_u, labels):
        """HuBERT (fairseq compute_nce with every class a candidate): logits =
        cosine_similarity(final_proj(x), label_embs) / 0.1, CE summed over the masked tokens
        + unmasked_weight * the same over the unmasked ones, over the masked count."""
        n = int(sel_m.sum())
        if n == 0:
            return torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.float64)

        def ce(sel):
            proj = z[sel] @ self.P("final_proj.weight").T + self.P("final_proj.bias")
            logits = F.cosine_similarity(proj.unsqueeze(1), self.P("label_embs").unsqueeze(0), dim=-1) / 0.1
            y = labels[sel]
            return F.cross_entropy(logits, y, reduction="sum"), (logits.argmax(dim=1) == y).sum().double()
        loss, correct = ce(sel_m)
        if self.unmasked_weight > 0:
            loss = loss + self.unmasked_weight * ce(sel_u)[0]
        return loss / n, correct


def run(d):
    torch.manual_seed(0)
    T = load(d)
    m = Model(T, T["config"])
    B, Tt = T["audio"].shape[0], T["audio"].shape[1]
    lens = torch.from_numpy(T["len"]).long()
    pad = torch.arange(Tt).unsqueeze(0) >= lens.unsqueeze(1)
    audio, video = torch.from_numpy(T["audio"]), torch.from_numpy(T["video"])
    if m.case == 2:     # audio branch: no masking, no video tokens
        hidden = []
        za = m.stream("audio", audio, None, pad, hidden)
        if not m.sequence:      # the video half of the projection's input is zero
            za = m.fuse(za, None if m.audio_only else torch.zeros_like(za))
        z = m.fusion(za, pad, hidden)
        keep = (~pad).unsqueeze(-1).double()
        R, R1, R2 = (torch.from_numpy(T[k]) for k in ("R", "R1", "R2"))
        loss = (z * R * keep).sum() + (hidden[1] * R1 * keep).sum() + (hidden[-1] * R2 * keep).sum()
        loss.backward()
        save(d, "loss", loss.detach().reshape(1))
        save(d, "out", (z * keep).detach())
    else:
        ma = (torch.from_numpy(T["mask_audio"]) > 0.5) & ~pad
        da = torch.from_numpy(T["drop_audio"]) > 0.5
        ta = torch.from_numpy(T["audio_target"]) if "audio_target" in T else audio
        tv = torch.from_numpy(T["video_target"]) if "video_target" in T else video
        za = m.stream("audio", audio, ma, pad, [])
        correct = None
        if m.clusters:
            labels = torch.from_numpy(T["labels"]).round().long()
            sel_m, sel_u = ma & ~da.unsqueeze(1), ~ma & ~pad & ~da.unsqueeze(1)
            if m.audio_only:
                z = m.fusion(m.fuse(za, None), pad, [])
            else:
                mv = (torch.from_numpy(T["mask_video"]) > 0.5) & ~pad
                dv = torch.from_numpy(T["drop_video"]) > 0.5
                zv = m.stream("video", video, mv, pad, [])
                keep_a, keep_v = (~da).double().view(-1, 1, 1), (~dv).double().view(-1, 1, 1)
                z = m.fusion(m.fuse(za * keep_a, zv * keep_v), pad, [])
            la, correct = m.cluster_loss(z, sel_m, sel_u, labels)
            lv = torch.zeros((), dtype=torch.float64)
        elif m.audio_only:
            z = m.fusion(za if m.sequence else m.fuse(za, None), pad, [])
            la = m.head_loss("audio", z, ma & ~da.unsqueeze(1), ta)
            lv = torch.zeros((), dtype=torch.float64)
        else:
            mv = (torch.from_numpy(T["mask_video"]) > 0.5) & ~pad
            dv = torch.from_numpy(T["drop_video"]) > 0.5
            zv = m.stream("video", video, mv, pad, [], keep_masked=m.case == 5)
            if m.sequence:
                fpad = torch.cat([pad | da.unsqueeze(1), pad | dv.unsqueeze(1)], dim=1)
                z = m.fusion(torch.cat([za, zv], dim=1), fpad, [])
                za_out, zv_out = z[:, :Tt], z[:, Tt:]
            else:       # a dropped stream enters the projection as zeros
                keep_a = (~da).double().view(-1, 1, 1)
                keep_v = (~dv).double().view(-1, 1, 1)
                z = m.fusion(m.fuse(za * keep_a, zv * keep_v), pad, [])
                za_out = zv_out = z
            la = m.head_loss("audio", za_out, ma & ~da.unsqueeze(1), ta)
            lv = m.head_loss("video", zv_out, mv & ~dv.unsqueeze(1), tv)
        total = la + lv
        total.backward()
        parts = [total, la, lv] + ([correct] if correct is not None else [])
        save(d, "loss", torch.stack(parts).detach())
    for name, p in m.params.items():
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        save(d, "grad." + name, g)


def main():
    for d in sys.argv[1:]:      # several cases per interpreter start (torch import is slow)
        run(d)


if __name__ == "__main__":
    main()
