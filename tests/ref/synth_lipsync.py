#!/usr/bin/python3
"""Mouth opening (from decoded pixels) vs the clean audio envelope of synth data dirs.

usage: synth_lipsync.py SIZE FPS RATE DATADIR...

For each utterance: decodes the MP4 with the ffmpeg CLI to raw gray frames and to
float PCM. Mouth opening = soft count of dark pixels in the middle 60% of rows of the
mouth box (the `crops` file): a pixel counts fully when it is darker than a quarter
of the way from black (Y=16) to the box's median brightness, and not at all above
half way, so skin and lips do not count and the open cavity does. The envelope is
the RMS of the audio in each frame's 1/FPS window. Prints one line per utterance
and a final line "mean_corr=<r> pooled_corr=<r> utts=<n>".
"""
import os
import subprocess
import sys

import numpy as np


def decode(path, args, dtype):
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", path] + args + ["-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype=dtype)


def read_map(path):
    with open(path) as f:
        return {l.split()[0]: l.split()[1:] for l in f if l.strip()}


def opening(frames, box):
    x, y, w, h = box
    b = frames[:, y + h // 5:y + h - h // 5, x:x + w].astype(np.float64)
    med = np.median(b.reshape(len(b), -1), axis=1)[:, None, None]
    dark = np.clip((16 + 0.5 * (med - 16) - b) / (0.25 * (med - 16)), 0, 1)
    return dark.sum(axis=(1, 2))


def main(size, fps, rate, dirs):
    corrs, allm, alle = [], [], []
    spf = rate // fps
    for d in dirs:
        scp, crops = read_map(os.path.join(d, "media.scp")), read_map(os.path.join(d, "crops"))
        for utt in sorted(scp):
            path = os.path.join(d, scp[utt][0])
            frames = decode(path, ["-f", "rawvideo", "-pix_fmt", "gray"], np.uint8).reshape(-1, size, size)
            pcm = decode(path, ["-vn", "-f", "f32le", "-ac", "1", "-ar", str(rate)], np.float32)
            mouth = opening(frames, list(map(int, crops[utt])))
            n = min(len(mouth), len(pcm) // spf)
            env = np.sqrt((pcm[:n * spf].reshape(n, spf).astype(np.float64) ** 2).mean(axis=1))
            mouth = mouth[:n]
            r = np.corrcoef(mouth, env)[0, 1] if mouth.std() > 0 and env.std() > 0 else 0.0
            corrs.append(r)
            allm.append((mouth - mouth.mean()) / (mouth.std() + 1e-9))
            alle.append((env - env.mean()) / (env.std() + 1e-9))
            print(f"{utt} frames={n} corr={r:.3f}")
    pooled = np.corrcoef(np.concatenate(allm), np.concatenate(alle))[0, 1]
    print(f"mean_corr={np.mean(corrs):.4f} pooled_corr={pooled:.4f} utts={len(corrs)}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
