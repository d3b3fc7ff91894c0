#!/usr/bin/python3
"""Checks the noise/ data dir of `avmask synth` and its audio-only features.

usage: synth_noise_check.py CORPUS FEATS CLIPS SECONDS RATE

Asserts (exit 1 with one line per failure):
- noise/ has wav.scp, utt2spk, spk2utt, conditions with the same ids: CLIPS clips split
  evenly between babble-NNNN and stationary-NNNN (babble gets the odd one), speaker = kind;
- every clip is a mono 16-bit WAV of SECONDS * RATE samples at RATE Hz, at the speech
  level (RMS 0.08, or lower only if limited to a 0.99 peak), never silent;
- babble clips name 3-5 talkers and only training speakers (train/utt2spk), never a
  speaker of dev/ or test_*/; babble is speech-like (its 50 ms energy envelope varies
  far more than the stationary noise's);
- FEATS (avmask extract of noise/) holds every clip, audio only (no /video group), with
  SECONDS * 100 fbank frames rounded down to whole tokens of 4 frames (the last partial
  25 ms frame dropped).
"""
import os
import sys
import wave

import h5py
import numpy as np

errors = []


def fail(msg):
    errors.append(msg)
    print("FAIL: " + msg)


def kv(path):
    with open(path) as f:
        return {l.split()[0]: l.split()[1:] for l in f if l.strip()}


def speakers(root, pred):
    out = set()
    for d in os.listdir(root):
        if pred(d) and os.path.isfile(os.path.join(root, d, "utt2spk")):
            out |= {v[0] for v in kv(os.path.join(root, d, "utt2spk")).values()}
    return out


def read_wav(path, rate, n):
    with wave.open(path) as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) != (1, 2, rate, n):
            fail(f"{path}: {w.getnchannels()} ch, {8 * w.getsampwidth()} bit, {w.getframerate()} Hz, "
                 f"{w.getnframes()} samples; expected mono 16 bit {rate} Hz {n} samples")
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32767


def envelope_cv(x, rate):
    hop = int(0.05 * rate)
    e = np.sqrt(np.mean(x[:len(x) // hop * hop].reshape(-1, hop) ** 2, 1))
    return e.std() / e.mean()


def main(root, feats, clips, seconds, rate):
    d = os.path.join(root, "noise")
    files = {n: kv(os.path.join(d, n)) for n in ("wav.scp", "utt2spk", "conditions")}
    nb = (clips + 1) // 2
    want = [f"babble-{i:04d}" for i in range(1, nb + 1)] + [f"stationary-{i:04d}" for i in range(1, clips - nb + 1)]
    for n, m in files.items():
        if sorted(m) != want:
            fail(f"{d}/{n}: ids {sorted(m)[:3]}... ({len(m)}), expected {want[:3]}... ({len(want)})")
    for u, (s,) in files["utt2spk"].items():
        if s != u.split("-")[0]:
            fail(f"{d}/utt2spk: {u} -> {s}")
    train = speakers(root, lambda x: x == "train")
    heldout = speakers(root, lambda x: x == "dev" or x.startswith("test_"))
    if not train or not heldout:
        fail(f"{root}: expected training and held-out speakers, found {len(train)} and {len(heldout)}")
    cv = {"babble": [], "stationary": []}
    for u in want:
        if u not in files["wav.scp"]:
            continue
        x = read_wav(os.path.join(d, files["wav.scp"][u][0]), rate, int(round(seconds * rate)))
        rms, peak = np.sqrt(np.mean(x ** 2)), np.max(np.abs(x))
        if not (abs(rms - 0.08) < 0.002 or (rms < 0.08 and peak > 0.985)):
            fail(f"{u}: RMS {rms:.4f}, peak {peak:.3f}: not at the speech level")
        kind = u.split("-")[0]
        cv[kind].append(envelope_cv(x, rate))
        c = dict(t.split("=", 1) for t in files["conditions"].get(u, []))
        if c.get("noise") != kind:
            fail(f"{d}/conditions: {u} says noise={c.get('noise')}")
        if kind == "babble":
            spk = set(c.get("speakers", "").split(",")) - {""}
            if not 3 <= int(c.get("talkers", 0)) <= 5 or not spk:
                fail(f"{d}/conditions: {u}: talkers={c.get('talkers')} speakers={sorted(spk)}")
            if spk - train or spk & heldout:
                fail(f"{u}: babble from speakers {sorted(spk - train)} that are not training speakers")
    if cv["babble"] and cv["stationary"]:
        print(f"envelope variation: babble {np.min(cv['babble']):.2f}..{np.max(cv['babble']):.2f}, "
              f"stationary {np.min(cv['stationary']):.2f}..{np.max(cv['stationary']):.2f}")
        if np.min(cv["babble"]) < 2 * np.max(cv["stationary"]):
            fail("babble is not more modulated than stationary noise")
    # features
    frames = (int(round(seconds * rate)) - int(0.025 * rate)) // int(0.01 * rate) + 1
    frames -= frames % 4
    with open(os.path.join(feats, "index.tsv")) as f:
        rows = [l.split("\t") for l in f.read().splitlines()]
    if [r[0] for r in rows] != want:
        fail(f"{feats}/index.tsv: ids differ from noise/")
    for u, shard, _, af, vf in rows:
        if int(af) != frames or int(vf) != 0:
            fail(f"{feats}/index.tsv: {u} has {af} audio / {vf} video frames, expected {frames} / 0")
    for s in sorted({r[1] for r in rows}):
        with h5py.File(os.path.join(feats, f"shard-{int(s):05d}.h5"), "r") as h:
            if "video" in h:
                fail(f"{feats}/shard-{int(s):05d}.h5: has a /video group (expected audio only)")
    print(f"checked {len(want)} noise clips: {len(errors)} failures")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])))
