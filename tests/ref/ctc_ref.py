#!/usr/bin/python3
"""CTC reference for tests/unit/test_ctc.c: torch.nn.functional.ctc_loss over
log_softmax(logits), computed in float64, gradient taken w.r.t. the logits.

usage: ctc_ref.py DIR
  reads  DIR/meta.txt   "B V" then B lines "T L"
         DIR/logits.f32 raw float32, utterances concatenated [sum T, V]
         DIR/labels.i32 raw int32, concatenated [sum L]
  writes for reduction in (sum, mean) and zero_infinity in (0, 1), TAG = <reduction><zi>:
         DIR/loss_TAG.f32 [1 + B]: reduced loss, then per-utterance losses ('none')
         DIR/grad_TAG.f32 [sum T, V]: d reduced loss / d logits (ragged like the input)
"""
import sys
import numpy as np
import torch
import torch.nn.functional as F


def main(d):
    with open(f"{d}/meta.txt") as f:
        B, V = map(int, f.readline().split())
        TL = [tuple(map(int, f.readline().split())) for _ in range(B)]
    T = [t for t, _ in TL]
    L = [l for _, l in TL]
    x = np.fromfile(f"{d}/logits.f32", dtype=np.float32).reshape(sum(T), V)
    y = np.fromfile(f"{d}/labels.i32", dtype=np.int32)
    assert y.size == sum(L)
    Tmax = max(T)
    offs = np.concatenate([[0], np.cumsum(T)])
    targets = torch.tensor(y.astype(np.int64))
    in_len = torch.tensor(T, dtype=torch.long)
    tg_len = torch.tensor(L, dtype=torch.long)
    for red in ("sum", "mean"):
        for zi in (0, 1):
            pad = torch.zeros(Tmax, B, V, dtype=torch.float64)
            for b in range(B):
                pad[:T[b], b] = torch.from_numpy(x[offs[b]:offs[b + 1]].astype(np.float64))
            pad.requires_grad_(True)
            lp = pad.log_softmax(2)
            loss = F.ctc_loss(lp, targets, in_len, tg_len, blank=0, reduction=red,
                              zero_infinity=bool(zi))
            loss.backward()
            per = F.ctc_loss(lp.detach(), targets, in_len, tg_len, blank=0, reduction="none",
                             zero_infinity=False)
            out = np.concatenate([[loss.item()], per.numpy()]).astype(np.float32)
            out.tofile(f"{d}/loss_{red}{zi}.f32")
            g = np.concatenate([pad.grad[:T[b], b].numpy() for b in range(B)])
            g.astype(np.float32).tofile(f"{d}/grad_{red}{zi}.f32")


if __name__ == "__main__":
    main(sys.argv[1])
