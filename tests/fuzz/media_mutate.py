"""Mutation harness for `avmask extract` over real media (tests/fuzz/README.md).

usage: media_mutate.py AVMASK WORKDIR [--mutations N] [--seed S] [--nj N] [--seconds 0.6]
                       [--segments] [--crops]
Makes a few short clean clips with the ffmpeg CLI (mp4/h264+aac, mkv, webm/vp8+vorbis,
avi/mpeg4+mp3, wav), extracts them alone (the reference), then writes N mutated copies
(bit flips, truncation, zeroed and duplicated blocks, damaged first bytes) and extracts
clean and mutated files together from one data dir. Checks that the run succeeds (--max-fail=100%),
prints no sanitizer report, reports each mutated file that fails with
exactly one warning line and one extract.err line, extracts every clean clip with features
bit-identical to the reference run, and lists every utterance in index.tsv or extract.err.
--segments cuts each recording into two utterances (0-0.3 s and 0.3 s-end) through a
segments file; --crops gives every utterance a crop box.
Prints a summary line; exits 1 with one line per problem."""
import argparse
import os
import random
import shutil
import subprocess
import sys

import h5py
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("avmask"); p.add_argument("work")
p.add_argument("--mutations", type=int, default=20); p.add_argument("--seed", type=int, default=1)
p.add_argument("--nj", type=int, default=2); p.add_argument("--seconds", type=float, default=0.6)
p.add_argument("--segments", action="store_true"); p.add_argument("--crops", action="store_true")
a = p.parse_args()
rng = random.Random(a.seed)
problems = []
shutil.rmtree(a.work, ignore_errors=True)
os.makedirs(a.work + "/clips")
os.chdir(a.work)


def ff(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


src = ["-f", "lavfi", "-i", f"sine=f=440:d={a.seconds}:r=16000", "-f", "lavfi", "-i", f"testsrc2=s=48x48:r=25:d={a.seconds}"]
codecs = {"mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
          "mkv": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "flac"],
          "webm": ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libvorbis"],
          "avi": ["-c:v", "mpeg4", "-c:a", "libmp3lame"]}
clean = []
for ext, c in codecs.items():
    ff(*src, *c, "-shortest", f"clips/g_{ext}.{ext}")
    clean.append(f"g_{ext}.{ext}")
ff("-f", "lavfi", "-i", f"sine=f=300:d={a.seconds}:r=16000", "clips/g_wav.wav")
clean.append("g_wav.wav")


def mutate(b):
    b = bytearray(b)
    kind = rng.choice(["flip", "flip", "trunc", "zero", "dup", "head"])
    if kind == "flip":
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == "trunc":
        b = b[:rng.randrange(len(b))]
    elif kind == "zero":
        i = rng.randrange(len(b)); n = rng.randint(16, 4096); b[i:i + n] = bytes(len(b[i:i + n]))
    elif kind == "dup":
        i = rng.randrange(len(b)); n = rng.randint(16, 4096); j = rng.randrange(len(b)); b[j:j] = b[i:i + n]
    else:
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(min(64, len(b)))] = rng.randrange(256)
    return kind, bytes(b)


def extract(data, out):
    r = subprocess.run([a.avmask, "extract", f"--data={data}", f"--out={out}", f"--nj={a.nj}", "--shard-size=3",
                        "--width=16", "--height=16", "--max-fail=100%"], capture_output=True, text=True)
    for line in r.stderr.splitlines():
        if "runtime error" in line or "Sanitizer" in line or "==ERROR" in line:
            problems.append(f"{out}: sanitizer report: {line}")
    if r.returncode:
        problems.append(f"{out}: exit {r.returncode}: {r.stderr.strip().splitlines()[-1:]}")
    return r.stderr


def feats(d):
    """{utt: (fbank bytes, video bytes)} of a feature dir."""
    out = {}
    for f in sorted(os.listdir(d)):
        if not (f.startswith("shard-") and f.endswith(".h5")):
            continue
        with h5py.File(os.path.join(d, f), "r") as h:
            ids = h["utt_ids"].asstr()[()]
            ao, fb = h["audio/offsets"][()], h["audio/fbank"][()]
            vo = h["video/offsets"][()] if "video" in h else None
            vf = h["video/frames"][()] if "video" in h else None
            for i, u in enumerate(ids):
                v = vf[vo[i]:vo[i + 1]].tobytes() if vo is not None else b""
                out[u] = (fb[ao[i]:ao[i + 1]].tobytes(), v)
    return out


def utts(name):
    """The utterance ids of a clip (its recording id, or its two segments)."""
    rec = name.split(".")[0]
    return [rec + "-a", rec + "-b"] if a.segments else [rec]


def scp(d, names):
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/media.scp", "w") as f:
        for n in sorted(names):
            f.write(f"{n.split('.')[0]} ../clips/{n}\n")
    ids = sorted(u for n in names for u in utts(n))
    if a.segments:
        with open(f"{d}/segments", "w") as f:
            for u in ids:
                f.write(f"{u} {u[:-2]} {'0 0.3' if u.endswith('-a') else '0.3 -1'}\n")
    if a.crops:
        with open(f"{d}/crops", "w") as f:
            for u in ids:
                f.write(f"{u} 4 4 32 32\n")


scp("clean", clean)
extract("clean", "F_clean")
ref = feats("F_clean")
if sorted(ref) != sorted(u for n in clean for u in utts(n)):
    problems.append(f"clean run: extracted {sorted(ref)}")
kinds, bad = {}, []
for i in range(a.mutations):
    base = rng.choice(clean)
    kind, b = mutate(open(f"clips/{base}", "rb").read())
    name = f"m{i:04d}_{kind}_{base.split('.')[0][2:]}.{base.split('.')[1]}"
    open(f"clips/{name}", "wb").write(b)
    for u in utts(name):
        kinds[u] = kind
    bad.append(name)
scp("mixed", clean + bad)
err = extract("mixed", "F_mixed")
got = feats("F_mixed")
failed = {}
if os.path.exists("F_mixed/extract.err"):
    for line in open("F_mixed/extract.err", encoding="utf-8"):
        u = line.split(" ", 1)[0]
        failed[u] = failed.get(u, 0) + 1
warn = [l for l in err.splitlines() if l.startswith("avmask: warning: ")]
for u in (u for n in clean for u in utts(n)):
    if got.get(u) != ref.get(u):
        problems.append(f"{u}: clean clip's features differ from the clean run (or missing)")
    if u in failed:
        problems.append(f"{u}: clean clip listed in extract.err")
for u in kinds:
    if u in got and u in failed:
        problems.append(f"{u}: both extracted and in extract.err")
    elif u not in got and failed.get(u) != 1:
        problems.append(f"{u}: neither extracted nor listed once in extract.err")
    if u in failed and sum(l.startswith(f"avmask: warning: {u} ") for l in warn) != 1:
        problems.append(f"{u}: not exactly one warning line")
other = [l for l in err.splitlines() if l.startswith("avmask:") and not l.startswith("avmask: warning: ")
         and "extract" not in l]
for l in other:
    problems.append(f"unexpected line: {l}")
for p_ in problems:
    print("FAIL:", p_)
n_bad = sum(u in failed for u in kinds)
print(f"media_mutate: {a.mutations} mutated files ({', '.join(f'{k} {list(kinds.values()).count(k)}' for k in sorted(set(kinds.values())))} "
      f"utterances), {len(kinds)} utterances: {len(kinds) - n_bad} extracted, {n_bad} reported in one line; "
      f"{len(clean)} clean clips bit-identical: "
      f"{'no' if problems else 'yes'}")
sys.exit(1 if problems else 0)
