"""Independent check of a feature dir written by `avmask extract` (docs/formats.md), with h5py.

usage: check_shards.py FEATS... [--data DIR] [--failed id,id] [--ref OTHER] [--parity id=path[+rows|+v],...]
  every documented dataset, dtype and shape; offsets start at 0, never decrease, span the data;
  index.tsv agrees with the shards; 4 audio frames per video frame; cmvn.h5 equals numpy over
  every fbank row and pixel; extract.err lists exactly --failed; with --data, every utterance of
  the data dir is either in index.tsv or in extract.err; with --ref, every array equals OTHER's;
  with --parity, fbank rows equal torchaudio's kaldi fbank of ffmpeg-decoded audio (<= 1e-3),
  from row +rows on, or (+v) from the row where a late video stream starts.
Several FEATS dirs are each checked the same way (one interpreter start for all).
Prints one line per problem and exits 1 if there was any."""
import argparse
import json
import os
import subprocess
import sys

import h5py
import numpy as np

problems = []


def bad(msg):
    problems.append(msg)
    print("FAIL:", msg)


def read_index(d):
    rows = []
    with open(os.path.join(d, "index.tsv")) as f:
        for ln, line in enumerate(f, 1):
            p = line.split()
            if len(p) != 5:
                bad(f"index.tsv:{ln}: {len(p)} columns")
                continue
            rows.append((p[0], int(p[1]), int(p[2]), int(p[3]), int(p[4])))
    return rows


def check_offsets(f, name, data, n):
    off = f[name][()]
    if off.dtype != np.int64 or off.shape != (n + 1,):
        bad(f"{f.filename}: {name} {off.dtype} {off.shape}, want int64 ({n + 1},)")
        return None
    if off[0] != 0 or off[-1] != f[data].shape[0] or np.any(np.diff(off) < 0):
        bad(f"{f.filename}: {name} not monotone from 0 to {f[data].shape[0]}")
    return off


def load(d):
    """All utterances: id -> (fbank, video or None); plus config and stats."""
    utts, configs = {}, set()
    rows = read_index(d)
    ids = [r[0] for r in rows]
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        bad("index.tsv: utt-ids not sorted (C locale) or not unique")
    shards = sorted(set(r[1] for r in rows))
    by_shard = {s: [r for r in rows if r[1] == s] for s in shards}
    for s in shards:
        path = os.path.join(d, "shard-%05d.h5" % s)
        with h5py.File(path, "r") as f:
            fb = f["audio/fbank"]
            if fb.dtype != np.float32 or fb.ndim != 2:
                bad(f"{path}: audio/fbank {fb.dtype} {fb.shape}")
            sid = [x.decode() if isinstance(x, bytes) else x for x in f["utt_ids"][()]]
            n = len(sid)
            aoff = check_offsets(f, "audio/offsets", "audio/fbank", n)
            has_v = "video" in f
            voff = None
            if has_v:
                fr = f["video/frames"]
                if fr.dtype != np.uint8 or fr.ndim != 3:
                    bad(f"{path}: video/frames {fr.dtype} {fr.shape}")
                voff = check_offsets(f, "video/offsets", "video/frames", n)
            for k in ("sum", "sumsq", "count", "pix_sum", "pix_sumsq", "pix_count"):
                if "cmvn/" + k not in f:
                    bad(f"{path}: no cmvn/{k}")
            cfg = f.attrs["config"]
            configs.add(cfg if isinstance(cfg, str) else cfg.decode())
            json.loads(configs.copy().pop())
            if "avmask_version" not in f.attrs:
                bad(f"{path}: no avmask_version attribute")
            if "failed" not in f:
                bad(f"{path}: no failed dataset")
            if aoff is None or (has_v and voff is None):
                continue
            for (uid, _, row, na, nv) in by_shard[s]:
                if row >= n or sid[row] != uid:
                    bad(f"{path}: row {row} is not {uid}")
                    continue
                a = fb[aoff[row]:aoff[row + 1]]
                v = f["video/frames"][voff[row]:voff[row + 1]] if has_v else None
                if a.shape[0] != na or (v is not None and v.shape[0] != nv) or (v is None and nv != 0):
                    bad(f"{uid}: index says {na}/{nv} frames, shard has {a.shape[0]}/{0 if v is None else v.shape[0]}")
                if na % 4 or (nv and na != 4 * nv):
                    bad(f"{uid}: {na} audio frames for {nv} video frames (want 4 per video frame)")
                if not np.all(np.isfinite(a)):
                    bad(f"{uid}: non-finite fbank")
                utts[uid] = (a, v)
    if len(configs) != 1:
        bad(f"{d}: {len(configs)} different configs in shards")
    return rows, utts


def check_cmvn(d, utts):
    allf = np.concatenate([a for a, _ in utts.values()]).astype(np.float64)
    vids = [v.ravel() for _, v in utts.values() if v is not None and v.size]
    with h5py.File(os.path.join(d, "cmvn.h5"), "r") as f:
        mean, var, count = f["audio/mean"][()], f["audio/var"][()], f["audio/count"][()]
        if count != allf.shape[0]:
            bad(f"cmvn.h5: count {count} != {allf.shape[0]} rows")
        if np.max(np.abs(mean - allf.mean(0))) > 1e-6 or np.max(np.abs(var - allf.var(0))) > 1e-5:
            bad("cmvn.h5: audio mean/var differ from numpy over all fbank rows")
        if vids:
            px = np.concatenate(vids).astype(np.float64)
            if abs(f["video/mean"][()] - px.mean()) > 1e-6 or abs(f["video/std"][()] - px.std()) > 1e-6:
                bad("cmvn.h5: pixel mean/std differ from numpy")


def read_err(d):
    out = {}
    with open(os.path.join(d, "extract.err")) as f:
        for line in f:
            p = line.rstrip("\n").split(" ", 2)
            if len(p) != 3 or not p[2]:
                bad(f"extract.err: malformed line {line!r}")
                continue
            out[p[0]] = (p[1], p[2])
    return out


def data_ids(ddir):
    name = "segments" if os.path.exists(os.path.join(ddir, "segments")) else (
        "media.scp" if os.path.exists(os.path.join(ddir, "media.scp")) else "wav.scp")
    with open(os.path.join(ddir, name)) as f:
        return [line.split()[0] for line in f if line.strip()]


def compare_ref(d, ref, utts):
    _, rutts = load(ref)
    if read_index(d) != read_index(ref):
        bad(f"index.tsv differs from {ref}")
    for uid, (a, v) in utts.items():
        if uid not in rutts:
            bad(f"{uid} missing in {ref}")
            continue
        ra, rv = rutts[uid]
        if not np.array_equal(a, ra) or (v is None) != (rv is None) or (v is not None and not np.array_equal(v, rv)):
            bad(f"{uid}: arrays differ from {ref}")
    with h5py.File(os.path.join(d, "cmvn.h5"), "r") as f, h5py.File(os.path.join(ref, "cmvn.h5"), "r") as g:
        for k in ("audio/mean", "audio/var", "audio/count", "video/mean", "video/std"):
            if not np.array_equal(f[k][()], g[k][()]):
                bad(f"cmvn.h5 {k} differs from {ref}")
    if open(os.path.join(d, "extract.err")).read() != open(os.path.join(ref, "extract.err")).read():
        bad(f"extract.err differs from {ref}")


def stream_starts(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time", "-of", "csv=p=0",
                          path], check=True, capture_output=True, text=True).stdout
    return {t: float(v) for t, v in (line.split(",")[:2] for line in out.split()) if v != "N/A"}


def parity(uid, path, utts, first="0"):
    """Our rows equal torchaudio's from row `first` on. first "v": audio before a late video
    start is dropped by the alignment; the best-matching shift must then lie within one
    video frame (4 rows) of 100 x (video start - audio start) as ffprobe reports them."""
    import torch
    import torchaudio.compliance.kaldi as K
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    wav = torch.from_numpy(np.frombuffer(pcm, dtype=np.float32).copy() * 32768.0).unsqueeze(0)
    ref = K.fbank(wav, num_mel_bins=80, dither=0.0, energy_floor=0.0, sample_frequency=16000).numpy()
    a = utts[uid][0]
    if first == "v":
        st = stream_starts(path)
        expect = 100 * (st["video"] - st["audio"])
        shifts = [k for k in range(0, int(expect) + 9) if k + a.shape[0] <= ref.shape[0]]
        if not shifts:
            bad(f"{uid}: {a.shape[0]} fbank rows, torchaudio has only {ref.shape[0]}")
            return
        k = min(shifts, key=lambda k: np.max(np.abs(a - ref[k:k + a.shape[0]])))
        print(f"parity {uid}: video starts {expect / 100:.3f} s after audio; rows match from row {k}")
        if abs(k - expect) > 4:
            bad(f"{uid}: audio starts at row {k}, video at {expect:.1f} rows")
        ref = ref[k:]
    else:
        ref = ref[int(first):]
    if a.shape[0] > ref.shape[0]:
        bad(f"{uid}: {a.shape[0]} fbank rows, torchaudio has only {ref.shape[0]}")
        return
    d = np.max(np.abs(a - ref[:a.shape[0]]))
    print(f"parity {uid}: {a.shape[0]} rows, max abs diff {d:.2e}")
    if d > 1e-3:
        bad(f"{uid}: fbank differs from torchaudio by {d:.3g} (> 1e-3)")


def check_dir(feats, a):
    before = len(problems)
    rows, utts = load(feats)
    check_cmvn(feats, utts)
    err = read_err(feats)
    want_failed = set(x for x in a.failed.split(",") if x)
    if set(err) != want_failed:
        bad(f"extract.err lists {sorted(err)}, expected {sorted(want_failed)}")
    if set(err) & set(utts):
        bad("an utterance is both extracted and failed")
    if a.data:
        ids = data_ids(a.data)
        if sorted(ids) != sorted(list(utts) + list(err)):
            bad(f"index + extract.err do not cover the data dir exactly ({len(utts)} + {len(err)} vs {len(ids)})")
    if a.ref:
        compare_ref(feats, a.ref, utts)
    for item in (x for x in a.parity.split(",") if x):
        uid, path = item.split("=", 1)
        path, _, first = path.partition("+")
        parity(uid, path, utts, first or "0")
    print(f"{feats}: {len(utts)} utterances, {len(err)} failed, {len(problems) - before} problems")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("feats", nargs="+")
    ap.add_argument("--data")
    ap.add_argument("--failed", default="")
    ap.add_argument("--ref")
    ap.add_argument("--parity", default="")
    a = ap.parse_args()
    for feats in a.feats:
        check_dir(feats, a)
    sys.exit(1 if problems else 0)


main()
