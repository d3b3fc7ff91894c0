#!/usr/bin/python3
"""fbank speed: avmask (tests/bench/bench_fbank.c) vs torchaudio.compliance.kaldi.fbank on
the same speech (pocketsphinx-testdata, 16 kHz), same run, interleaved A, B, A, B.
Figures are x real time (audio seconds per wall second); median and min-max of the
repeats after warm-up. 1 thread: both serial. 2 threads: ours shares utterances among
OpenMP threads (as extraction does); torchaudio gets the faster of torch 2 / BLAS 2 and
torch 1 / BLAS 2 (OMP_WAIT_POLICY=PASSIVE)."""
import argparse
import glob
import os
import statistics
import subprocess
import time
import wave

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"   # for torch only; removed for our runs below
import numpy as np  # noqa: E402
import torch  # noqa: E402
from benchlib import banner, openblas, repeats  # noqa: E402
import torchaudio.compliance.kaldi as kaldi  # noqa: E402


def load_speech():
    paths = sorted(glob.glob("/usr/share/pocketsphinx/test/data/librivox/*.wav")) + \
        sorted(glob.glob("/usr/share/pocketsphinx/test/data/cards/*.wav"))
    utts = []
    for i, p in enumerate(paths):
        with wave.open(p, "rb") as w:
            assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        raw = "utt%02d.raw" % i
        x.tofile(raw)
        utts.append((raw, torch.from_numpy(x.astype(np.float32)).unsqueeze(0)))
    return utts


def ours(bench, raws, threads, passes):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    r = subprocess.run([bench, "--threads=%d" % threads, "--passes=%d" % passes] + raws,
                       capture_output=True, text=True, env=env, check=True)
    f = r.stdout.split()
    return float(f[3]) / float(f[1])


def theirs(waves, audio, torch_threads, blas_threads, lib, passes):
    torch.set_num_threads(torch_threads)
    if lib:
        lib.openblas_set_num_threads(blas_threads)
    t0 = time.perf_counter()
    for _ in range(passes):
        for w in waves:
            kaldi.fbank(w, num_mel_bins=80, dither=0.0, energy_floor=0.0)
    return audio / ((time.perf_counter() - t0) / passes)


def summary(xs):
    return "%.0f (%.0f-%.0f)" % (statistics.median(xs), min(xs), max(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--repeats", type=int, default=repeats(7))
    a = ap.parse_args()
    lib = openblas()
    print(banner(torch, lib))
    utts = load_speech()
    raws, waves = [u[0] for u in utts], [u[1] for u in utts]
    audio = sum(w.shape[1] for w in waves) / 16000.0
    print("audio: %d utterances, %.1f s; x real time = audio seconds per wall second" % (len(raws), audio))
    configs = [("ours 1 thread", lambda: ours(a.bench, raws, 1, 20)),
               ("torchaudio 1 thread", lambda: theirs(waves, audio, 1, 1, lib, 2)),
               ("ours 2 threads", lambda: ours(a.bench, raws, 2, 20)),
               ("torchaudio torch 2 / BLAS 2", lambda: theirs(waves, audio, 2, 2, lib, 2)),
               ("torchaudio torch 1 / BLAS 2", lambda: theirs(waves, audio, 1, 2, lib, 2))]
    for _, f in configs:   # warm-up
        f()
    res = {name: [] for name, _ in configs}
    for _ in range(a.repeats):
        for name, f in configs:
            res[name].append(f())
    for name, _ in configs:
        print("%-28s x real time: median %s" % (name, summary(res[name])))
    t2 = max(("torchaudio torch 2 / BLAS 2", "torchaudio torch 1 / BLAS 2"),
             key=lambda k: statistics.median(res[k]))
    for label, mine, ref in (("fbank 1 thread, x real time", "ours 1 thread", "torchaudio 1 thread"),
                             ("fbank 2 threads, x real time", "ours 2 threads", t2)):
        m, r = statistics.median(res[mine]), statistics.median(res[ref])
        print("RESULT %s | %s | %s (%s) | %.1fx" % (label, summary(res[mine]), summary(res[ref]),
                                                   ref.replace("torchaudio ", ""), m / r))


if __name__ == "__main__":
    main()
