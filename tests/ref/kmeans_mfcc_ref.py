#!/usr/bin/python3
"""MFCC token features of `avmask kmeans` against torchaudio.

frames TOOL DIR: cluster/'s per-frame 13 MFCC + deltas + delta-deltas (tests/tools/
  kmeans_mfcc_dump) against torchaudio.compliance.kaldi.mfcc (num_mel_bins=80,
  use_energy=False, lifter 22: what fairseq's HuBERT dump_mfcc_feature.py calls, with our 80
  bins) + torchaudio.functional.compute_deltas twice, on the same waveforms whose
  kaldi.fbank is the tool's input.
tokens FEATS DUMP CODEBOOK: the vectors `avmask kmeans --dump-feats` clustered against
  numpy/torchaudio from the shards (h5py): per-frame MFCC as above, mean of each token's 4
  frames, per-dimension standardisation with the corpus mean and population std; the
  codebook's /norm must hold that mean and std."""
import math
import subprocess
import sys

import h5py
import numpy as np
import torch
import torchaudio
from torchaudio.compliance import kaldi

torch.manual_seed(0)


def ref_frames(fbank):
    """[frames, 80] log-mel -> [frames, 39], DCT + lifter as kaldi.mfcc does, deltas as HuBERT."""
    dct = torchaudio.functional.create_dct(13, fbank.shape[1], "ortho")
    lift = 1 + 0.5 * 22 * torch.sin(math.pi * torch.arange(13) / 22)
    c = (torch.as_tensor(fbank, dtype=torch.float64) @ dct.double()) * lift.double()
    d = torchaudio.functional.compute_deltas(c.T)
    dd = torchaudio.functional.compute_deltas(d)
    return torch.cat([c, d.T, dd.T], 1).numpy()


def frames(tool, tmp):
    worst = 0
    t = torch.arange(24000) / 16000.0
    waves = {"chirp+noise": 8000 * torch.sin(2 * math.pi * (200 + 1500 * t) * t) + 300 * torch.randn(t.shape),
             "noise": 3000 * torch.randn(9000), "tones": 5000 * torch.sin(2 * math.pi * 440 * t[:4000]) +
             4000 * torch.sin(2 * math.pi * 2500 * t[:4000])}
    for name, w in waves.items():
        w = w.unsqueeze(0)
        fb = kaldi.fbank(w, num_mel_bins=80, dither=0.0)
        ref = kaldi.mfcc(w, num_mel_bins=80, use_energy=False, dither=0.0)   # cepstral_lifter=22, num_ceps=13
        ref = torch.cat([ref, torchaudio.functional.compute_deltas(ref.T).T,
                         torchaudio.functional.compute_deltas(torchaudio.functional.compute_deltas(ref.T)).T], 1)
        fb.numpy().astype(np.float32).tofile(tmp + "/fb.f32")
        subprocess.run([tool, "--in=" + tmp + "/fb.f32", "--n-mels=80", "--out=" + tmp + "/mf.f32"], check=True)
        ours = np.fromfile(tmp + "/mf.f32", dtype=np.float32).reshape(-1, 39)
        ref = ref.numpy()
        assert ours.shape == ref.shape, (name, ours.shape, ref.shape)
        # float32 products of 80 terms of size ~10-20: agreement to ~1e-5 of the largest value
        err = np.abs(ours - ref).max() / np.abs(ref).max()
        print("%-12s %d frames: max |ours - kaldi.mfcc| = %.2e of max |mfcc| (tolerance 1e-5)" % (name, len(ref), err))
        assert err < 1e-5, name
        worst = max(worst, err)
    print("frames OK (worst %.2e)" % worst)


def tokens(feats, dump, codebook):
    ix = [l.split("\t") for l in open(feats + "/index.tsv").read().splitlines()]
    raw = []
    for utt, shard, row, af, vf in ix:
        with h5py.File("%s/shard-%05d.h5" % (feats, int(shard)), "r") as f:
            off = f["/audio/offsets"][:]
            fb = f["/audio/fbank"][off[int(row)]:off[int(row) + 1]]
        fr = ref_frames(fb)
        raw.append(fr.reshape(-1, 4, 39).mean(1))
    raw = np.concatenate(raw)
    mean, std = raw.mean(0), raw.std(0)
    x = (raw - mean) / std
    ours = h5py.File(dump, "r")["x"][:]
    with h5py.File(codebook, "r") as cb:
        m2, s2 = cb["/norm/mean"][:], cb["/norm/std"][:]
    assert ours.shape == x.shape, (ours.shape, x.shape)
    e_norm = max(np.abs(m2 - mean).max() / np.abs(mean).max(), np.abs(s2 / std - 1).max())
    e_x = np.abs(ours - x).max()
    print("tokens: %d x %d; codebook mean/std vs numpy: %.2e relative (tolerance 1e-5); standardised vectors: "
          "max abs diff %.2e (tolerance 1e-4)" % (x.shape[0], x.shape[1], e_norm, e_x))
    assert e_norm < 1e-5 and e_x < 1e-4
    print("tokens OK")


if __name__ == "__main__":
    if sys.argv[1] == "frames":
        frames(sys.argv[2], sys.argv[3])
    else:
        tokens(*sys.argv[2:5])
