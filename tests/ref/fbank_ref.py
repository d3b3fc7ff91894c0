#!/usr/bin/python3
"""Parity of avmask's fbank (tests/tools/fbank_dump) with torchaudio.compliance.kaldi.fbank.

For real speech (pocketsphinx-testdata) and synthetic signals written as 16-bit WAV,
runs the C tool and torchaudio (dither 0, energy_floor 0, int16-scale samples) and
requires the same frame count, max |log difference| <= --tol against torchaudio on a
float64 waveform, and <= --exact-tol against torchaudio run entirely in float64.
The difference to torchaudio in float32 is printed for information only.
Prints one line per case and "ALL <n> CASES OK" at the end; exits 1 on any mismatch.
"""
import argparse
import glob
import math
import os
import subprocess
import sys
import wave

import numpy as np
import torch
import torchaudio.compliance.kaldi as kaldi

SPEECH_DIR = "/usr/share/pocketsphinx/test/data"


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy(), w.getframerate()


def write_wav(path, x, rate):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(x, dtype="<i2").tobytes())


def to_i16(x):
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def synthetic(work):
    """Synthetic 16 kHz signals: (name, wav path)."""
    sr, rng = 16000, np.random.default_rng(1234)
    t = np.arange(sr) / sr
    sigs = {
        "sine440": 8000 * np.sin(2 * math.pi * 440 * t),
        # linear chirp 100 Hz -> 7900 Hz over one second
        "chirp": 6000 * np.sin(2 * math.pi * (100 * t + 0.5 * 7800 * t * t)),
        "noise": rng.normal(0, 3000, sr),
        "silence": np.zeros(sr),
        "one_frame": rng.normal(0, 2000, 400),
        "short399": rng.normal(0, 2000, 399),
        "dc_offset": 1000 + rng.normal(0, 500, 4000),
    }
    out = []
    for name, x in sigs.items():
        p = os.path.join(work, name + ".wav")
        write_wav(p, to_i16(x), sr)
        out.append((name, p))
    return out


def downsample8k(src, work):
    """Speech at 8 kHz (pairs averaged, then decimated): a signal at another rate."""
    x, sr = read_wav(src)
    assert sr == 16000
    x = x[: len(x) // 2 * 2].astype(np.float64)
    p = os.path.join(work, "speech8k.wav")
    write_wav(p, to_i16(0.5 * (x[0::2] + x[1::2])), 8000)
    return p


def expected_frames(n, sr, snip, length_ms=25.0, shift_ms=10.0):
    win, shift = int(sr * length_ms * 0.001), int(sr * shift_ms * 0.001)
    if snip:
        return 0 if n < win else 1 + (n - win) // shift
    return (n + shift // 2) // shift


def reference(x, sr, o, dtype=torch.float64, exact=False):
    """torchaudio's Kaldi fbank with our option names; o maps tool options to values.
    float64 waveform by default: in float32 torchaudio's FFT rounding (1e-7 of a frame's
    peak) moves weak mel bins by up to ~0.3 in log, so float32 is no exact reference.
    torchaudio builds the mel weights in float32 whatever the input (up to ~5e-4 in log);
    exact=True builds them in float64 too, which is what the C code computes."""
    if exact:
        old = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            return reference(x, sr, o, dtype)
        finally:
            torch.set_default_dtype(old)
    n = len(x)
    if n < int(sr * 0.025):
        # torchaudio asserts on a signal shorter than one frame; Kaldi outputs 0 frames.
        return np.zeros((0, o.get("n-mels", 80)), dtype=np.float32)
    wav = torch.from_numpy(x.astype(np.float64)).to(dtype).unsqueeze(0)
    f = kaldi.fbank(wav, num_mel_bins=o.get("n-mels", 80), low_freq=o.get("low-freq", 20.0),
                    high_freq=o.get("high-freq", 0.0), dither=0.0, energy_floor=0.0,
                    sample_frequency=float(sr), snip_edges=bool(o.get("snip-edges", 1)),
                    use_power=bool(o.get("use-power", 1)), use_log_fbank=bool(o.get("use-log", 1)),
                    use_energy=False, window_type="povey", preemphasis_coefficient=0.97,
                    remove_dc_offset=True, round_to_power_of_two=True)
    return f.double().numpy()


def run_tool(tool, wav, out, o, pcm):
    args = [tool] + ["--%s=%s" % (k, v) for k, v in o.items()] + (["--pcm"] if pcm else []) + [wav, out]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(args), r.stderr.strip()))
    return int(r.stdout.split()[1])


def max_diff(ours, ref, o):
    if o.get("use-log", 1):
        return float(np.max(np.abs(ours - ref)))
    return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1.0)))  # linear: relative


def check_case(tool, work, name, wav, o, pcm, tol, exact_tol):
    x, sr = read_wav(wav)
    out = os.path.join(work, name + ".f32")
    frames = run_tool(tool, wav, out, o, pcm)
    ours = np.fromfile(out, dtype=np.float32)
    nm = o.get("n-mels", 80)
    ref = reference(x, sr, o)
    exp = expected_frames(len(x), sr, o.get("snip-edges", 1))
    ok = frames == exp == ref.shape[0] and ours.size == frames * nm
    diff = diff64 = diff32 = 0.0
    if ok and frames > 0:
        ours = ours.reshape(frames, nm)
        diff = max_diff(ours, ref, o)
        diff64 = max_diff(ours, reference(x, sr, o, exact=True), o)
        diff32 = max_diff(ours, reference(x, sr, o, torch.float32), o)
        ok = diff <= tol and diff64 <= exact_tol
    print("%-4s %-26s sr=%5d frames=%4d (ref %4d, formula %4d) max|diff| %.2g, all-float64 %.2g, "
          "float32 %.2g" % ("ok" if ok else "FAIL", name, sr, frames, ref.shape[0], exp, diff, diff64, diff32))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--work", default=".")
    ap.add_argument("--tol", type=float, default=1e-3, help="vs torchaudio (float64 waveform)")
    ap.add_argument("--exact-tol", type=float, default=2e-5,
                    help="vs torchaudio with float64 mel weights too (float32 output rounding)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    speech = sorted(glob.glob(SPEECH_DIR + "/librivox/*.wav")) + sorted(glob.glob(SPEECH_DIR + "/cards/*.wav"))
    if len(speech) < 10:
        sys.exit("pocketsphinx-testdata speech not found under " + SPEECH_DIR)
    cases = [("speech_" + os.path.basename(os.path.dirname(p)) + "_" + os.path.basename(p)[-8:-4], p, {}, False)
             for p in speech]
    cases += [(name, p, {}, False) for name, p in synthetic(a.work)]
    s0 = speech[0]
    cases += [
        ("speech_pcm_scaled", s0, {}, True),
        ("speech_mels40_64_-400", s0, {"n-mels": 40, "low-freq": 64, "high-freq": -400}, False),
        ("speech_high7000", s0, {"high-freq": 7000}, False),
        ("speech_no_snip_edges", s0, {"snip-edges": 0}, False),
        ("speech_magnitude", s0, {"use-power": 0}, False),
        ("speech_linear", s0, {"use-log": 0}, False),
        ("speech_8k_mels40", downsample8k(s0, a.work), {"n-mels": 40}, False),
        ("speech_8k_mels23_64_-200", os.path.join(a.work, "speech8k.wav"),
         {"n-mels": 23, "low-freq": 64, "high-freq": -200}, False),
    ]
    bad = [c[0] for c in cases if not check_case(a.tool, a.work, c[0], c[1], c[2], c[3], a.tol, a.exact_tol)]
    if bad:
        print("FAILED: " + " ".join(bad))
        sys.exit(1)
    print("ALL %d CASES OK" % len(cases))


if __name__ == "__main__":
    main()
