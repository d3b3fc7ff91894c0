#!/usr/bin/python3
"""Mouth opening (from decoded pixels) vs the clean audio envelope of synth data dirs.

usage: synth_lipsync.py SIZE FPS RATE DATADIR...

For each utterance: decodes the MP4 with the ffmpeg CLI to raw gray frames and to
float PCM. Mouth opening = soft count of dark pixels in the middle 60% of rows of the
mouth box (the `crops` file): a pixel counts fully when it is darker than a quarter
of the way from black (Y=16) to the box's median brightness, and not at all above
half way, so skin and lips do not count and the open cavity does. The envelope is
the RMS of the audio in each frame's 1/FPS window. Prints one line per utterance
and a final line "mean_corr=<r> pooled_corr=<r> utts=<n> mismatched_corr=<r>", the
last being the control: each video against the next utterance's audio.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np


def read_map(path):
    with open(path) as f:
        return {l.split()[0]: l.split()[1:] for l in f if l.strip()}


def opening(frames, box):
    x, y, w, h = box
    b = frames[:, y + h // 5:y + h - h // 5, x:x + w].astype(np.float64)
    med = np.median(b.reshape(len(b), -1), axis=1)[:, None, None]
    dark = np.clip((16 + 0.5 * (med - 16) - b) / (0.25 * (med - 16)), 0, 1)
    return dark.sum(axis=(1, 2))


def load(path, size, rate, tmp):
    """Video frames and audio of one file, from one ffmpeg process."""
    v, a = os.path.join(tmp, "v.raw"), os.path.join(tmp, "a.raw")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-map", "0:v", "-f", "rawvideo",
                    "-pix_fmt", "gray", v, "-map", "0:a", "-f", "f32le", "-ac", "1", "-ar", str(rate), a],
                   check=True)
    return np.fromfile(v, np.uint8).reshape(-1, size, size), np.fromfile(a, np.float32)


def envelope(pcm, n, spf):
    return np.sqrt((pcm[:n * spf].reshape(n, spf).astype(np.float64) ** 2).mean(axis=1))


def corr(a, b):
    return np.corrcoef(a, b)[0, 1] if a.std() > 0 and b.std() > 0 else 0.0


def main(size, fps, rate, dirs):
    spf = rate // fps
    items = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in dirs:
            scp, crops = read_map(os.path.join(d, "media.scp")), read_map(os.path.join(d, "crops"))
            for utt in sorted(scp):
                frames, pcm = load(os.path.join(d, scp[utt][0]), size, rate, tmp)
                items.append((utt, opening(frames, list(map(int, crops[utt]))), pcm))
    corrs, allm, alle, control = [], [], [], []
    for i, (utt, mouth, pcm) in enumerate(items):
        n = min(len(mouth), len(pcm) // spf)
        env, m = envelope(pcm, n, spf), mouth[:n]
        r = corr(m, env)
        corrs.append(r)
        allm.append((m - m.mean()) / (m.std() + 1e-9))
        alle.append((env - env.mean()) / (env.std() + 1e-9))
        other = items[(i + 1) % len(items)][2]
        k = min(len(mouth), len(other) // spf)
        control.append(corr(mouth[:k], envelope(other, k, spf)))
        print(f"{utt} frames={n} corr={r:.3f}")
    pooled = corr(np.concatenate(allm), np.concatenate(alle))
    print(f"mean_corr={np.mean(corrs):.4f} pooled_corr={pooled:.4f} utts={len(corrs)} "
          f"mismatched_corr={np.mean(control):.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
