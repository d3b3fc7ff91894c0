#!/usr/bin/python3
"""Checks a corpus written by `avmask synth` with the ffmpeg CLI and numpy.

usage: synth_check.py CORPUS SIZE FPS RATE

Asserts (exit 1 with one line per failure):
- every data dir has its files, sorted by utt-id (C locale), with the same utt-ids;
  phones only from phones.txt, words only from words.txt; spk2utt matches utt2spk;
- held-out speakers (dev/, test_*/) never appear in train/, and dev/test are disjoint;
- every MP4 has one H.264 SIZExSIZE video stream at FPS and one AAC mono RATE stream,
  decodes with the ffmpeg CLI, and audio and video durations agree within 40 ms;
- phone timings match the clean audio: the power inside phones is > 20 dB above the
  power in the silences outside them, and > 95% of phones of 40 ms or more are
  within 30 dB of the loudest;
- every clean utterance (test_clean and the clean train/dev ones) has a noise floor:
  the power of its leading pause (up to 20 ms before the first phone) is 40 to 70 dB below the
  power inside its phones, and no pause is digital silence;
- each test_snrN set has audio N dB (+-1) below its clean speech over the active part,
  measured against test_clean by least squares; train/dev conditions are clean or in [0, 20].
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

FILES = ["media.scp", "text", "phones", "utt2spk", "spk2utt", "conditions", "crops", "phones.ctm"]
errors = []


def fail(msg):
    errors.append(msg)
    print("FAIL: " + msg)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def decode_all(paths, size, rate, tmp):
    """Decodes many files in one ffmpeg process; returns [(frames, pcm) or None]."""
    cmd = ["ffmpeg", "-v", "error", "-xerror", "-y"]
    for p in paths:
        cmd += ["-i", p]
    for i in range(len(paths)):
        cmd += ["-map", f"{i}:v", "-f", "rawvideo", "-pix_fmt", "gray", os.path.join(tmp, f"{i}.v"),
                "-map", f"{i}:a", "-f", "f32le", "-ac", "1", "-ar", str(rate), os.path.join(tmp, f"{i}.a")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"ffmpeg cannot decode the media: {r.stderr.strip()[:300]}")
        return [None] * len(paths)
    return [(np.fromfile(os.path.join(tmp, f"{i}.v"), np.uint8).reshape(-1, size, size),
             np.fromfile(os.path.join(tmp, f"{i}.a"), np.float32)) for i in range(len(paths))]


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", path],
                         check=True, capture_output=True).stdout
    return json.loads(out)["streams"]


def check_dir(d, phones, words):
    maps = {}
    for name in FILES:
        p = os.path.join(d, name)
        if not os.path.isfile(p):
            fail(f"{p}: missing")
            return None
        lines = read_lines(p)
        if name == "phones.ctm":
            continue
        keys = [l.split()[0] for l in lines]
        if keys != sorted(keys, key=lambda s: s.encode()):
            fail(f"{p}: not sorted by key (C locale)")
        maps[name] = {l.split()[0]: l.split()[1:] for l in lines}
    utts = sorted(maps["media.scp"])
    for name in ["text", "phones", "utt2spk", "conditions", "crops"]:
        if sorted(maps[name]) != utts:
            fail(f"{d}/{name}: utt-ids differ from media.scp")
    for u in utts:
        if any(p not in phones for p in maps["phones"][u]) or not maps["phones"][u]:
            fail(f"{d}/phones: {u} has phones outside phones.txt or none")
        if any(w not in words for w in maps["text"][u]) or not maps["text"][u]:
            fail(f"{d}/text: {u} has words outside words.txt or none")
        if not u.startswith(maps["utt2spk"][u][0] + "-"):
            fail(f"{d}: utt-id {u} does not start with its speaker")
    s2u = {s: sorted(v) for s, v in maps["spk2utt"].items()}
    u2s = {}
    for u, s in maps["utt2spk"].items():
        u2s.setdefault(s[0], []).append(u)
    if s2u != {s: sorted(v) for s, v in u2s.items()}:
        fail(f"{d}/spk2utt: does not match utt2spk")
    return maps


def ctm(d):
    segs = {}
    for l in read_lines(os.path.join(d, "phones.ctm")):
        u, _, s, dur, p = l.split()
        segs.setdefault(u, []).append((float(s), float(s) + float(dur), p))
    return segs


def check_floor(root, dirs, data, audio, rate):
    """Room tone under every clean utterance: the leading pause 40-70 dB below the phones."""
    ratios = []
    for d in dirs:
        if not data[d] or not (d in ("train", "dev", "test_clean")):
            continue
        segs = ctm(os.path.join(root, d))
        for u, c in data[d]["conditions"].items():
            if c[0] != "snr=clean" or (d, u) not in audio:
                continue
            pcm = audio[(d, u)].astype(np.float64)
            mask = np.zeros(len(pcm), bool)
            for s, e, _ in segs[u]:
                mask[int(s * rate):int(e * rate)] = True
            # the leading pause only: gaps between words and the trailing pause still
            # carry the decay of the last phone (espeak-ng voices ring on past the
            # ctm's end by up to ~0.3 s) and AAC's smear of it
            sil = np.zeros(len(pcm), bool)
            sil[:int((segs[u][0][0] - 0.02) * rate)] = True
            pin, pout = np.mean(pcm[mask] ** 2), np.mean(pcm[sil] ** 2)
            if pout == 0 or np.count_nonzero(pcm[sil]) < 0.99 * sil.sum():
                fail(f"{d}/{u}: pauses are digital silence (no noise floor)")
                continue
            ratios.append(10 * np.log10(pin / pout))
            if not 40 <= ratios[-1] <= 70:
                fail(f"{d}/{u}: noise floor {ratios[-1]:.1f} dB below the phones, expected 40 to 70")
    if not ratios:
        fail("noise floor: no clean utterance to check")
    else:
        print(f"noise floor: {len(ratios)} clean utterances, pauses {np.min(ratios):.1f} to "
              f"{np.max(ratios):.1f} dB below the phones")


def main(root, size, fps, rate):
    phones = set(read_lines(os.path.join(root, "phones.txt")))
    words = set(read_lines(os.path.join(root, "words.txt")))
    if len(phones) != 39:
        fail(f"phones.txt has {len(phones)} phones, expected 39")
    dirs = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "media.scp")))
    if "train" not in dirs or "test_clean" not in dirs:
        fail(f"expected train/ and test_clean/, found {dirs}")
    data = {d: check_dir(os.path.join(root, d), phones, words) for d in dirs}
    spk = {d: set(s[0] for s in m["utt2spk"].values()) for d, m in data.items() if m}
    for d in dirs:
        if d != "train" and spk.get(d, set()) & spk.get("train", set()):
            fail(f"{d}: speakers {sorted(spk[d] & spk['train'])} also in train")
        if d.startswith("test_") and spk.get(d, set()) & spk.get("dev", set()):
            fail(f"{d}: speakers also in dev")
    audio = {}
    todo = []
    for d in dirs:
        if data[d]:
            for i, (u, (rel,)) in enumerate(sorted(data[d]["media.scp"].items())):
                todo.append((d, u, os.path.join(root, d, rel)))
                if i == 0:
                    path = todo[-1][2]
                    st = {s["codec_type"]: s for s in probe(path)}
                    v, a = st.get("video", {}), st.get("audio", {})
                    if (v.get("codec_name"), v.get("width"), v.get("height"), v.get("avg_frame_rate")) != \
                            ("h264", size, size, f"{fps}/1"):
                        fail(f"{path}: video stream is not H.264 {size}x{size} at {fps} fps: {v}")
                    if (a.get("codec_name"), a.get("channels"), a.get("sample_rate")) != ("aac", 1, str(rate)):
                        fail(f"{path}: audio stream is not mono AAC at {rate} Hz: {a}")
    with tempfile.TemporaryDirectory() as tmp:
        for (d, u, path), got in zip(todo, decode_all([t[2] for t in todo], size, rate, tmp)):
            if got is None:
                continue
            frames, pcm = got
            vdur, adur = len(frames) / fps, len(pcm) / rate
            if abs(vdur - adur) > 0.040 or len(frames) == 0:
                fail(f"{path}: video {vdur:.3f} s vs audio {adur:.3f} s")
            audio[(d, u)] = pcm
    # phone timings against the clean audio
    segs = ctm(os.path.join(root, "test_clean"))
    pin = pout = nin = nout = 0.0
    loud, quiet = 0, 0
    for (d, u), pcm in audio.items():
        if d != "test_clean":
            continue
        mask = np.zeros(len(pcm), bool)
        seg_pow = []
        for s, e, p in segs[u]:
            a, b = int(s * rate), int(e * rate)
            mask[a:b] = True
            if e - s >= 0.040:
                seg_pow.append(np.mean(pcm[a:b].astype(np.float64) ** 2))
        # silence: outside phones, at least 20 ms away from any phone (AAC smear, release)
        grow = np.convolve(mask, np.ones(2 * int(0.02 * rate) + 1), "same") > 0
        sil = ~grow
        pin += np.sum(pcm[mask].astype(np.float64) ** 2); nin += mask.sum()
        pout += np.sum(pcm[sil].astype(np.float64) ** 2); nout += sil.sum()
        top = max(seg_pow)
        loud += sum(p > top * 1e-3 for p in seg_pow)
        quiet += sum(p <= top * 1e-3 for p in seg_pow)
    if nin == 0 or nout == 0:
        fail("phone timing: no phones or no silence in test_clean")
    else:
        ratio_db = 10 * np.log10((pin / nin) / max(pout / nout, 1e-20))
        print(f"phone timing: inside/outside power {ratio_db:.1f} dB, {quiet} of {loud + quiet} phones >30 dB below the loudest")
        if ratio_db < 20:
            fail(f"phone timing: power inside phones only {ratio_db:.1f} dB above silence")
        if quiet > 0.05 * (loud + quiet):
            fail(f"phone timing: {quiet} of {loud + quiet} phones are silent")
    check_floor(root, dirs, data, audio, rate)
    # SNR of the noisy test sets
    for d in dirs:
        if not d.startswith("test_snr"):
            continue
        want = float(d[len("test_snr"):])
        got = []
        for u in data[d]["media.scp"]:
            clean_id = u[:u.rindex("-snr")]
            x, y = audio[("test_clean", clean_id)], audio[(d, u)]
            s, e = segs[clean_id][0][0], segs[clean_id][-1][1]
            a, b = int(s * rate), int(e * rate)
            x, y = x[a:b].astype(np.float64), y[a:b].astype(np.float64)
            g = np.dot(x, y) / np.dot(x, x)
            got.append(10 * np.log10(np.sum((g * x) ** 2) / np.sum((y - g * x) ** 2)))
        print(f"{d}: measured SNR {np.mean(got):.2f} dB (min {np.min(got):.2f}, max {np.max(got):.2f})")
        if max(abs(v - want) for v in got) > 1.0:
            fail(f"{d}: measured SNRs {np.round(got, 2).tolist()} not within 1 dB of {want}")
        for u, c in data[d]["conditions"].items():
            if c[0] != f"snr={want:g}" or c[1] not in ("noise=babble", "noise=stationary"):
                fail(f"{d}/conditions: {u} says {c[:2]}")
    for d in ("train", "dev"):
        for u, c in (data.get(d) or {}).get("conditions", {}).items():
            snr = c[0].split("=")[1]
            if not (snr == "clean" or 0 <= float(snr) <= 20):
                fail(f"{d}/conditions: {u} has {c[0]}")
    print(f"checked {len(audio)} media files in {len(dirs)} data dirs: {len(errors)} failures")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
