"""Compares tests/tools/media_dump output with the ffmpeg CLI, case by case.

usage: media_compare.py MEDIA_DUMP "FILE [media_dump options...] [--expect-KEY=VALUE...]"...
Each case is one argument (split on blanks). --expect-audio_start=S (within 0.03 s),
--expect-video_start=S and --expect-frames=N check our own output too. Runs media_dump
(our decoder) and the ffmpeg CLI on FILE and checks, printing one line per case:
 - audio: our PCM after the leading zero padding (audio_start) equals
   `ffmpeg -i FILE -ac 1 -ar 16000 -f f32le` sample for sample, max abs diff <= 1e-4.
   Both run libswresample with its default options on the same decoded frames, so the
   only allowed difference is float rounding from different chunk sizes.
 - video: `ffmpeg -vf fps=25,scale=32:32:flags=area,format=gray` (passthrough fps mode,
   so the CLI's muxer neither drops nor duplicates) gives the same number of frames, each
   frame within a mean abs diff of 1.0 grey level (the same swscale path; expected exact),
   and showinfo's pts_time of output frame k equals video_start + k/25 within 1e-6 s.
 --start/--end map to -ss/-to before -i (input seeking: the CLI's time 0 is then the
 segment start, like ours); --crop=x,y,w,h maps to crop=w:h:x:y:exact=1 before scale.
 For a segment the CLI trims at the source rate before resampling while we resample
 continuously and cut at 16 kHz: the two cuts differ in phase by under half an output
 sample (31 us), so samples may differ by the signal's slope over 31 us; for the
 lavfi 440 Hz sine at amplitude 1/8 that is 2*pi*440/8 * 31.25e-6 = 0.0108. The CLI's
 resampler also restarts at the cut, so 2 ms at each end are left out, and lengths
 may differ by up to 8 samples (0.5 ms). Segment tests use frame-aligned boundaries
 (the CLI drops a frame that starts before -ss; we show it from the segment start).
Exits 1 on any mismatch."""
import re
import subprocess
import sys

import numpy as np

PCM_TOL = 1e-4
SEG_PCM_TOL = 0.0108
SEG_EDGE = 32
PIX_TOL = 1.0


class Failed(Exception):
    pass


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise Failed("command failed: %s\n%s" % (" ".join(cmd), p.stderr.decode()[-2000:]))
    return p


def compare(tool, args):
    path = args[0]
    expect = dict(a[9:].split("=", 1) for a in args[1:] if a.startswith("--expect-"))
    extra = [a for a in args[1:] if not a.startswith("--expect-")]
    opts = dict(a[2:].split("=", 1) for a in extra)
    seg = "start" in opts or "end" in opts
    meta = run([tool, path, "ours"] + extra).stdout.decode().split()
    meta = {meta[i]: float(meta[i + 1]) for i in range(0, len(meta), 2)}
    rate, size = int(meta["rate"]), int(meta["width"])
    pre = ["ffmpeg", "-hide_banner", "-nostdin", "-y"]
    if "start" in opts:
        pre += ["-ss", opts["start"]]
    if "end" in opts:
        pre += ["-to", opts["end"]]
    pre += ["-i", path]

    video = opts.get("video", "1") != "0" and (meta["has_video"] or int(expect.get("frames", 0)) > 0)
    cmd = pre + ["-vn", "-ac", "1", "-ar", str(rate), "-f", "f32le", "ref.pcm"]
    if video:   # one CLI run writes both outputs
        vf = "fps=25"
        if "crop" in opts:
            x, y, w, h = opts["crop"].split(",")
            vf += ",crop=%s:%s:%s:%s:exact=1" % (w, h, x, y)
        vf += ",scale=%d:%d:flags=area,format=gray,showinfo" % (size, size)
        cmd += ["-an", "-vf", vf, "-fps_mode", "passthrough", "-f", "rawvideo", "ref.gray"]
    p = run(cmd)
    ours = np.fromfile("ours.pcm", dtype=np.float32)
    ref = np.fromfile("ref.pcm", dtype=np.float32)
    pad = int(round(meta["audio_start"] * rate))
    errors = []
    if np.any(ours[:pad] != 0):
        errors.append("audio padding is not silent")
    body = ours[pad:]
    tol, edge, slack = (SEG_PCM_TOL, SEG_EDGE, 8) if seg else (PCM_TOL, 0, 0)
    if abs(len(body) - len(ref)) > slack:
        errors.append("audio length %d (+%d padding) vs ffmpeg %d" % (len(body), pad, len(ref)))
    n = min(len(body), len(ref)) - edge
    d = np.abs(body[edge:n] - ref[edge:n])
    adiff = float(d.max()) if len(d) else 0.0
    if adiff > tol:
        errors.append("audio max abs diff %.3g > %g" % (adiff, tol))
    if "audio_start" in expect and abs(meta["audio_start"] - float(expect["audio_start"])) > 0.03:
        errors.append("audio_start %.4f, expected %s" % (meta["audio_start"], expect["audio_start"]))
    if "video_start" in expect and abs(meta["video_start"] - float(expect["video_start"])) > 1e-6:
        errors.append("video_start %.4f, expected %s" % (meta["video_start"], expect["video_start"]))
    if "frames" in expect and int(meta["frames"]) != int(expect["frames"]):
        errors.append("%d frames, expected %s" % (meta["frames"], expect["frames"]))

    line = "%s: audio %d samples (pad %d) maxdiff %.2g" % (path, len(ours), pad, adiff)
    if video:
        times = [float(t) for t in re.findall(r"pts_time:\s*([-0-9.e]+)", p.stderr.decode())]
        ours_v = np.fromfile("ours.gray", dtype=np.uint8).reshape(-1, size, size).astype(np.float64)
        ref_v = np.fromfile("ref.gray", dtype=np.uint8).reshape(-1, size, size).astype(np.float64)
        if len(ours_v) != len(ref_v) or len(times) != len(ref_v):
            errors.append("video frames %d vs ffmpeg %d (showinfo %d)" % (len(ours_v), len(ref_v), len(times)))
        n = min(len(ours_v), len(ref_v))
        vdiff = float(np.abs(ours_v[:n] - ref_v[:n]).mean(axis=(1, 2)).max()) if n else 0.0
        if vdiff > PIX_TOL:
            errors.append("video mean abs diff %.3g > %g" % (vdiff, PIX_TOL))
        want = meta["video_start"] + np.arange(len(times)) / 25.0
        tdiff = float(np.max(np.abs(np.array(times) - want))) if times else 0.0
        if tdiff > 1e-6:
            errors.append("frame times differ by %.3g s (first %s)" % (tdiff, times[:2]))
        line += "; video %d frames from %.3f s meandiff %.2g" % (len(ours_v), meta["video_start"], vdiff)
    print(line)
    if errors:
        raise Failed("MISMATCH: " + "; ".join(errors))


def main():
    failed = 0
    for case in sys.argv[2:]:
        try:
            compare(sys.argv[1], case.split())
        except Failed as e:
            print("%s: %s" % (case, e))
            failed += 1
    print("%d of %d cases match" % (len(sys.argv) - 2 - failed, len(sys.argv) - 2))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
