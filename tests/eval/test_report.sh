# timeout: 60
# avmask report over a small experiment tree: three experiments (audio-visual and
# audio-only pretraining, one from scratch), fine-tuning runs, decode results with
# conditions. Checks the table cells, that every image the Markdown and HTML reference
# exists, is a valid PNG (or SVG), and is not blank (has coloured data pixels).
set -eu
mk_metrics() {   # dir steps video_loss_scale: decaying losses, a valid line every 10 steps
    mkdir -p "$1"
    awk -v n="$2" -v v="$3" 'BEGIN { for (s = 1; s <= n; s++) {
        printf "{\"step\":%d,\"loss\":%.6f,\"loss_audio\":%.6f,\"loss_video\":%.6f,\"lr\":0.001,\"grad_norm\":1.5,\"tokens_per_s\":1000,\"seconds\":%d}\n", s, (2 + v) / (s + 1), 2 / (s + 1), v / (s + 1), s
        if (s % 10 == 0) printf "{\"step\":%d,\"valid_loss\":%.6f,\"valid_err\":%.2f}\n", s, (2.2 + v) / (s + 1), 100 / (s + 1) } }' > "$1/metrics.jsonl"
}
mk_metrics exp/av 40 1
mk_metrics exp/av/ctc 20 0
mk_metrics exp/audio 30 0
mk_metrics exp/audio/ctc 20 0
mk_metrics exp/scratch/ctc 25 0
mk_metrics exp/cfg 5 0                 # no results; config.json says av
printf '{"model":{"d":32,"modalities":"av"}}\n' > exp/cfg/config.json
printf '{"step":41,"loss":0.1' >> exp/av/metrics.jsonl      # a run still writing its last line

printf 'u1 a b c d\nu2 a b\nu3 x y z\nu4 p q r s\n' > ref
printf 'u1 snr=0 voice=f\nu2 snr=10 voice=m\nu3 snr=-5 voice=f\nu4 snr=10 voice=m\n' > cond
dec() {   # dir hyp-lines
    mkdir -p "$1"; printf "$2" > "$1/hyp"
    "$AVMASK" eval --ref=ref --hyp="$1/hyp" --by=cond > /dev/null
}
dec exp/av/ctc/decode_test 'u1 a b c d\nu2 a b\nu3 x y\nu4 p q r s\n'          # 1 / 13
dec exp/audio/ctc/decode_test 'u1 a b c\nu2 a c\nu3 x y\nu4 p q r\n'            # 4 / 13
dec exp/scratch/ctc/decode_test 'u1 a\nu2 b\nu3 z\nu4 q\n'                      # 9 / 13
dec exp/av/ctc/decode_dev 'u1 a b c\nu2 a b\nu3 x y z\nu4 p q r s\n'         # 1 / 13
dec exp/scratch/ctc/decode_dev 'u1 a b c d\nu2 a b\nu3 x y z\nu4 p q r s\n'    # 0 / 13

"$AVMASK" report --exp=exp --title="test report" > out.txt 2> err.txt
cat out.txt err.txt
grep -q 'exp/av/metrics.jsonl: 1 malformed lines skipped' err.txt
R=exp/report
test -s $R/report.md && test -s $R/report.html
cat $R/report.md
# headline table: sets easiest first (dev: mean 3.85 < test: mean 35.9), best in bold
grep -qF '| model | pretraining | dev | test |' $R/report.md
grep -qF '| audio/ctc | audio-only | - | 30.77 |' $R/report.md
grep -qF '| av/ctc | audio-visual | 7.69 | **7.69** |' $R/report.md
grep -qF '| scratch/ctc | none | **0.00** | 69.23 |' $R/report.md
grep -qF '<td><b>7.69</b></td>' $R/report.html
# table rows: name, kind, pretrain steps, fine-tuning, ft steps, set, %ERR, S, D, I, N, snr=-5, snr=0, snr=10, voice=f, voice=m
grep -qF '| audio | audio-only | 30 | ctc | 20 | test | 30.77 | 1 | 3 | 0 | 13 | 33.33 | 25.00 | 33.33 | 28.57 | 33.33 |' $R/report.md
grep -qF '| av | audio-visual | 40 | ctc | 20 | test | 7.69 | 0 | 1 | 0 | 13 | 33.33 | 0.00 | 0.00 | 14.29 | 0.00 |' $R/report.md
grep -qF '| scratch | none | - | ctc | 25 | test | 69.23 | 0 | 9 | 0 | 13 |' $R/report.md
grep -qF '| cfg | audio-visual | 5 | - | - | - | - | - | - | - | - | - | - | - | - | - |' $R/report.md
grep -qF '| snr=-5 | snr=0 | snr=10 | voice=f | voice=m |' $R/report.md   # numeric order of values
grep -qF '<td>audio-visual</td>' $R/report.html
# condition plots: one line per model, pooled over its test sets (av/ctc: test + dev;
# snr=-5: 1 error in 6 phones, snr=0: 1 in 8, snr=10: 0 in 12)
[ "$(cat $R/plots/model*_cond0.dat | tr '\n' ' ' | grep -c '0 16.66666667 1 12.5 2 0 ')" = 1 ] ||
    { head $R/plots/model*_cond0.dat; echo "pooled condition series of av/ctc not found"; exit 1; }
[ "$(ls $R/plots/model*_cond0.dat | wc -l)" = 3 ] || { echo "not one snr series per model"; exit 1; }
# every referenced image: exists, valid PNG/SVG, not blank
"$PY" - $R <<'E'
import os, re, subprocess, sys
import numpy as np
d = sys.argv[1]
md = open(f"{d}/report.md").read()
html = open(f"{d}/report.html").read()
imgs = set(re.findall(r"!\[[^]]*\]\(([^)]+)\)", md))
assert imgs == set(re.findall(r'<img src="([^"]+)"', html)), "md and html show different images"
names = {os.path.basename(i).rsplit(".", 1)[0] for i in imgs}
need = {"pretrain_loss", "finetune_loss", "finetune_valid_err", "err_overall", "err_0_snr", "err_1_voice"}
assert need <= names, f"missing plots: {need - names}"
for i in sorted(imgs):
    p = os.path.join(d, i)
    data = open(p, "rb").read()
    if p.endswith(".svg"):
        assert b"<svg" in data and (b"<path" in data or b"<polyline" in data), p
        continue
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{p}: not a PNG"
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert w >= 300 and h >= 200, (p, w, h)
    rgb = subprocess.run(["ffmpeg", "-v", "error", "-i", p, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    assert len(rgb) == w * h * 3, p
    px = np.frombuffer(rgb, dtype=np.uint8).reshape(-1, 3).astype(int)
    nonwhite = int((px.min(axis=1) < 200).sum())
    colour = int((px.max(axis=1) - px.min(axis=1) > 80).sum())   # data lines/bars, not black axes
    print(f"{i}: {w}x{h}, {nonwhite} non-white, {colour} coloured pixels")
    assert nonwhite > 0.01 * w * h and colour > 200, f"{p}: looks blank"
E

# choosing the condition keys: by name, or by their number of values (snr has 3, voice 2)
"$AVMASK" report --exp=exp --out=r2 --conditions=snr > /dev/null 2>&1
grep -q '| N | snr=-5 | snr=0 | snr=10 |$' r2/report.md && ! grep -q voice= r2/report.md
"$AVMASK" report --exp=exp --out=r3 --max-values=2 > /dev/null 2>&1
grep -q '| N | voice=f | voice=m |$' r3/report.md && ! grep -q snr= r3/report.md

# --notes: a Markdown file as the last section (as it is in report.md, escaped in the HTML)
printf 'We tried **masking** <b>twice</b>.\n' > notes.md
"$AVMASK" report --exp=exp --out=r4 --notes=notes.md > /dev/null 2>&1
grep -q '^## Notes$' r4/report.md && grep -qF 'We tried **masking** <b>twice</b>.' r4/report.md
grep -qF 'We tried **masking** &lt;b&gt;twice&lt;/b&gt;.' r4/report.html
if "$AVMASK" report --exp=exp --out=r5 --notes=nonotes.md 2>err; then exit 1; fi
grep -q 'nonotes.md' err && test "$(wc -l <err)" = 1

# failures: one line naming the problem
if "$AVMASK" report --exp=nothere 2>err; then exit 1; fi
grep -q 'nothere' err && test "$(wc -l <err)" = 1
mkdir empty
if "$AVMASK" report --exp=empty 2>err; then exit 1; fi
grep -q 'no metrics.jsonl or eval.json' err && test "$(wc -l <err)" = 1
echo ok
