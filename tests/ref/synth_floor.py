#!/usr/bin/python3
"""Checks the noise floor of clean synthetic utterances in their fbank features.

usage: synth_floor.py FEATS DATA

FEATS is `avmask extract` of the clean data dir DATA (its phones.ctm gives the phone
times). For every utterance, the frames of its leading pause (frames whose 25 ms
window ends more than 20 ms before the first phone) must be off the
log floor log(FLT_EPSILON) that digital silence gives: mean log-mel more than 10 above
it, every value more than 3 above it, and a standard deviation over frames and bins
above 0.5 (noise, not a constant). And the floor must be quiet: the mean mel power of
the frames inside phones at least 40 dB above that of the pause frames.
Exit 1 with one line per failure.
"""
import os
import sys

import h5py
import numpy as np

LOG_FLOOR = float(np.log(np.finfo(np.float32).eps))   # -15.94: fbank of digital silence


def phone_spans(data):
    spans = {}
    with open(os.path.join(data, "phones.ctm")) as f:
        for line in f:
            u, _, s, d, _ = line.split()
            spans.setdefault(u, []).append((float(s), float(s) + float(d)))
    return spans


def utterances(feats):
    with open(os.path.join(feats, "index.tsv")) as f:
        rows = [l.split("\t") for l in f.read().splitlines()]
    for u, shard, row, _, _ in rows:
        with h5py.File(os.path.join(feats, f"shard-{int(shard):05d}.h5"), "r") as h:
            off = h["/audio/offsets"][:]
            yield u, h["/audio/fbank"][off[int(row)]:off[int(row) + 1]].astype(np.float64)


def main(feats, data):
    spans, errors, seen = phone_spans(data), [], 0
    for u, x in utterances(feats):
        seen += 1
        start = np.arange(len(x)) * 0.010          # frame i covers [start, start + 0.025)
        # the leading pause: the trailing one still carries the decay of the last
        # phone (espeak-ng voices ring on past the ctm's end)
        pause = start + 0.025 < spans[u][0][0] - 0.02
        inside = np.zeros(len(x), bool)
        for s, e in spans[u]:
            inside |= (start >= s) & (start + 0.025 <= e)
        p = x[pause]
        if len(p) < 3 or not inside.any():
            errors.append(f"{u}: {len(p)} pause frames, {inside.sum()} phone frames: too few to check")
            continue
        ratio = 10 * np.log10(np.exp(x[inside]).sum(1).mean() / np.exp(p).sum(1).mean())
        print(f"{u}: pause log-mel mean {p.mean():.2f} min {p.min():.2f} std {p.std():.2f} "
              f"(log floor {LOG_FLOOR:.2f}); phones {ratio:.1f} dB above the pauses")
        if p.mean() < LOG_FLOOR + 10 or p.min() < LOG_FLOOR + 3:
            errors.append(f"{u}: pause frames at the log floor (mean {p.mean():.2f}, min {p.min():.2f})")
        if p.std() < 0.5:
            errors.append(f"{u}: pause frames nearly constant (std {p.std():.3f})")
        if ratio < 40:
            errors.append(f"{u}: noise floor only {ratio:.1f} dB below the phones")
    if seen == 0:
        errors.append(f"{feats}: no utterances")
    for e in errors:
        print("FAIL: " + e)
    print(f"checked {seen} utterances: {len(errors)} failures")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
