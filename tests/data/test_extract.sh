# timeout: 120
# avmask extract end to end on small ffmpeg-generated clips: --nj=2 output checked by
# tests/ref/check_shards.py (h5py: names, shapes, dtypes, offsets, index, cmvn, fbank vs
# torchaudio); --job=1/2 + --job=2/2 + --merge, --nj=1 --threads=2 and --config give identical
# arrays; segments, crops, wav.scp (audio-only) and `avmask info`.
set -eu
chk="$PY $AVMASK_ROOT/tests/ref/check_shards.py"
ff() { ffmpeg -nostdin -loglevel error -y "$@"; }

# Pink noise has energy in every mel bin, so log-fbank parity is meaningful (a pure tone's
# empty bins would turn float rounding of the PCM into large log differences).
mkdir -p A/clips
clip() {  # name seconds video-rate audio-rate
    ff -f lavfi -i "anoisesrc=d=$2:c=pink:r=$4:a=0.3:seed=$RANDOM" -f lavfi -i "testsrc2=s=96x96:r=$3:d=$2" \
       -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "A/clips/$1.mp4"
}
clip a1 1.0 25 16000
clip a2 1.6 30 44100
clip a3 2.0 25 16000
ff -f lavfi -i "anoisesrc=d=1.3:c=pink:r=44100:a=0.3" -c:a pcm_s16le A/clips/a4.wav
# video starting ~0.25 s after the audio (mkv keeps the offset): audio before it is dropped
ff -f lavfi -i "anoisesrc=d=1.6:c=pink:r=16000:a=0.3" -itsoffset 0.2 -f lavfi -i "testsrc2=s=96x96:r=25:d=1.4" \
   -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac A/clips/a6.mkv
printf 'a1 clips/a1.mp4\na2 clips/a2.mp4\na3 clips/a3.mp4\na4 clips/a4.wav\na5 clips/a3.mp4\na6 clips/a6.mkv\n' >A/media.scp
printf 'a5 24 24 48 48\n' >A/crops

# 6 utterances, 2 per shard: shards 0..2; job 1 of 2 gets shard 0, job 2 shards 1 and 2.
$AVMASK extract --data=A --out=F --nj=2 --shard-size=2 2>nj2.err
ls F/shard-00000.h5 F/shard-00001.h5 F/shard-00002.h5 F/index.tsv F/cmvn.h5 F/extract.err F/extract.log >/dev/null
[ ! -e F/shard-00003.h5 ] && [ -z "$(ls F | grep tmp || true)" ]
$chk F --data A --parity a1=A/clips/a1.mp4,a2=A/clips/a2.mp4,a4=A/clips/a4.wav,a6=A/clips/a6.mkv+v
# a4 is a wav in media.scp: kept audio-only inside a video shard
awk '$1 == "a4" && $5 == 0 && $4 > 0 {ok=1} END {exit !ok}' F/index.tsv

# cluster-style jobs + merge, and one job with 2 decoding threads: identical results
$AVMASK extract --data=A --out=G --job=2/2 --shard-size=2 2>/dev/null
if $AVMASK extract --merge --out=G 2>merge.err; then echo "merge accepted a missing job"; exit 1; fi
grep -q 'job.1.json: missing' merge.err
$AVMASK extract --data=A --out=G --job=1/2 --shard-size=2 2>/dev/null
$AVMASK extract --merge --out=G 2>/dev/null
$AVMASK extract --data=A --out=H --nj=1 --threads=2 --shard-size=2 2>/dev/null
printf '# options from a file reach the jobs too\nnj=2\nshard-size=2\n' >x.conf
$AVMASK extract --config=x.conf --data=A --out=C 2>/dev/null
$chk G H C --ref F

# avmask info
$AVMASK info F >info.txt
grep -q '^utterances: *6 (5 with video)' info.txt
grep -q '^shards: *3 files' info.txt
grep -q '^failures: *0' info.txt
grep -q '"audio_frames_per_video_frame":4' info.txt

# crops: a5 is a3 cropped to the 48x48 box at (24,24); ffmpeg crops the same frames below.
ff -i A/clips/a3.mp4 -vf fps=25,crop=48:48:24:24,scale=32:32:flags=area,format=gray -f rawvideo crop.gray

# segments: recording a3 cut at 0.8 s
mkdir -p S
printf 'rec3 ../A/clips/a3.mp4\n' >S/media.scp
printf 'rec3-a rec3 0 0.8\nrec3-b rec3 0.8 -1\n' >S/segments
$AVMASK extract --data=S --out=FS 2>/dev/null

# wav.scp: audio-only shards (no /video), whole tokens of audio
mkdir -p W
printf 'w1 ../A/clips/a4.wav\nw2 ../A/clips/a1.mp4\n' >W/wav.scp
$AVMASK extract --data=W --out=FW 2>/dev/null
awk '$5 != 0 || $4 % 4 {bad=1} END {exit bad}' FW/index.tsv
$AVMASK info FW | grep -q 'video frames: none'

$chk FS --data S
$chk FW --data W
$PY - <<'EOF'
import h5py, numpy as np

def utt(d, u, what):
    idx = {l.split()[0]: [int(x) for x in l.split()[1:]] for l in open(d + "/index.tsv")}
    s, r, na, nv = idx[u]
    with h5py.File(d + "/shard-%05d.h5" % s, "r") as f:
        o = f[what + "/offsets"][()]
        return f[what + ("/fbank" if what == "audio" else "/frames")][o[r]:o[r + 1]]

# crops: close to ffmpeg's crop of the same frames (same area scaler; mean abs diff <= 2 grey
# levels) and far from the full frame.
a5, a3 = utt("F", "a5", "video").astype(float), utt("F", "a3", "video").astype(float)
cli = np.fromfile("crop.gray", np.uint8).reshape(-1, 32, 32).astype(float)[:len(a5)]
d_cli, d_full = np.abs(a5 - cli).mean(), np.abs(a5 - a3).mean()
print(f"crop: mean abs diff {d_cli:.2f} to ffmpeg crop, {d_full:.2f} to full frame")
assert len(a5) == len(a3) and d_cli <= 2.0 and d_full > 10, "crop box not applied"

# segments: each piece aligned to whole tokens; the second piece's fbank rows equal the full
# recording's rows from the cut (0.8 s = frame 80) within 1e-3.
a, b, full = utt("FS", "rec3-a", "audio"), utt("FS", "rec3-b", "audio"), utt("F", "a3", "audio")
nva, nvb = len(utt("FS", "rec3-a", "video")), len(utt("FS", "rec3-b", "video"))
print("segments: frames", len(a), nva, len(b), nvb, "full", len(full))
# 0.8 s = 12800 samples = 78 fbank frames (snip_edges) = 19 whole tokens
assert nva == 19 and len(a) == 76, "first segment is not 0.8 s cut to 19 tokens"
assert 28 <= nvb <= 30 and len(b) == 4 * nvb
d = np.abs(b - full[80:80 + len(b)]).max()
print(f"segment rows vs full recording rows: max abs diff {d:.2e}")
assert d <= 1e-3

f = h5py.File("FW/shard-00000.h5", "r")
assert "video" not in f and f["audio/fbank"].shape[1] == 80, "wav.scp shard has video"
import json
assert json.loads(f.attrs["config"])["video"]["enabled"] is False, "wav.scp shard's config says video enabled"
EOF
echo "test_extract: all checks passed"
