# timeout: 120
# avmask report over training seeds: 2 arms (av, audio) x 3 seeds (exp/<arm>, <arm>-s2,
# <arm>-s3), two test sets, conditions snr (one per set) and noise (mixed). Hypotheses are
# references with tokens replaced by a symbol no reference has and tokens dropped, so
# every utterance's errors are known without an alignment: E = replaced + dropped.
# Checks: mean ± sd per set and condition against numpy; the paired bootstrap interval
# against a numpy implementation of the same scheme (utterances and seeds resampled,
# B = 2000) within 4 Monte Carlo standard deviations of the numpy interval ends; a clear
# difference (interval excludes 0, snr 0) and none (includes 0, snr 10); the error-bar
# plot is a PNG/SVG with data; deterministic output; a seed missing a test set gives one
# warning line and n=2 cells, not a crash; missing, malformed or stale per-utterance files
# are named and left out; bad --compare is one line.
set -eu
"$PY" - <<'E'
import json, os, random
random.seed(7)
phones = [f"p{i}" for i in range(30)]
sets = {"test_snr0": "0", "test_snr10": "10"}
# error probabilities: substitution and deletion per token, by set and arm; a seed offset
p = {("test_snr0", "av"): 0.14, ("test_snr0", "audio"): 0.30,
     ("test_snr10", "av"): 0.10, ("test_snr10", "audio"): 0.10}
offset = {1: 0.0, 2: 0.03, 3: -0.02}
truth = {}
for st, snr in sets.items():
    os.makedirs(f"data/{st}", exist_ok=True)
    utts = [f"spk{u // 10:02d}-u{u:03d}-{st}" for u in range(60)]
    refs = {u: [random.choice(phones) for _ in range(random.randint(8, 30))] for u in utts}
    with open(f"data/{st}/phones", "w") as f:
        for u in utts: f.write(u + " " + " ".join(refs[u]) + "\n")
    with open(f"data/{st}/conditions", "w") as f:
        for i, u in enumerate(utts): f.write(f"{u} snr={snr} noise={'babble' if i % 3 else 'white'}\n")
    for arm in ("av", "audio"):
        for seed in (1, 2, 3):
            exp = arm if seed == 1 else f"{arm}-s{seed}"
            d = f"exp/{exp}/ctc/decode_{st}"
            os.makedirs(d, exist_ok=True)
            q = p[(st, arm)] + offset[seed]
            with open(f"{d}/hyp", "w") as f:
                for i, u in enumerate(utts):
                    hyp, e = [], 0
                    for t in refs[u]:
                        r = random.random()
                        if r < q / 2: hyp.append("zz"); e += 1        # substitution
                        elif r < q: e += 1                            # deletion
                        else: hyp.append(t)
                    f.write(u + " " + " ".join(hyp) + "\n")
                    truth[f"{arm}|{seed}|{st}|{u}"] = [e, len(refs[u]), snr, "babble" if i % 3 else "white"]
json.dump(truth, open("truth.json", "w"))
E
for d in exp/*/ctc/decode_*; do
    set=${d##*/decode_}
    "$AVMASK" eval --ref=data/$set/phones --hyp=$d/hyp --by=data/$set/conditions > /dev/null
done
# pretraining runs name the kinds (audio-visual first in the default comparison)
for e in av av-s2 av-s3; do mkdir -p exp/$e; echo '{"step":1,"loss":1,"loss_video":0.5}' > exp/$e/metrics.jsonl; done
for e in audio audio-s2 audio-s3; do mkdir -p exp/$e; echo '{"step":1,"loss":1,"loss_video":0}' > exp/$e/metrics.jsonl; done

t0=$(date +%s.%N)
"$AVMASK" report --exp=exp --out=rep > out.txt 2> err.txt
t1=$(date +%s.%N)
cat out.txt err.txt
echo "report with 2 x 6 comparison rows: $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.2f", b - a }') s"
test ! -s err.txt   # nothing missing, no warning
sed -n '/^## Training seeds/,/^## Experiments/p' rep/report.md
"$PY" - rep <<'E'
import json, re, subprocess, sys, os
import numpy as np
rep = sys.argv[1]
truth = json.load(open("truth.json"))
md = open(f"{rep}/report.md").read()
E_, N_ = {}, {}
for k, (e, n, snr, noise) in truth.items():
    arm, seed, st, u = k.split("|")
    E_[k], N_[k] = e, n
# the per-utterance files agree with the known errors and add up to eval.json
for arm in ("av", "audio"):
    for seed in (1, 2, 3):
        exp = arm if seed == 1 else f"{arm}-s{seed}"
        for st in ("test_snr0", "test_snr10"):
            d = f"exp/{exp}/ctc/decode_{st}"
            j = json.load(open(f"{d}/eval.json"))
            rows = [l.split("\t") for l in open(f"{d}/eval.utts.tsv").read().splitlines()[1:]]
            for r in rows:
                assert int(r[1]) + int(r[2]) + int(r[3]) == truth[f"{arm}|{seed}|{st}|{r[0]}"][0], r
            o = j["overall"]
            assert sum(int(r[1]) + int(r[2]) + int(r[3]) for r in rows) == o["S"] + o["D"] + o["I"]
            assert sum(int(r[4]) for r in rows) == o["N"]

def per(arm, seed, pred):
    e = sum(v[0] for k, v in truth.items() if k.startswith(f"{arm}|{seed}|") and pred(k, v))
    n = sum(v[1] for k, v in truth.items() if k.startswith(f"{arm}|{seed}|") and pred(k, v))
    return 100 * e / n
cols = {"test_snr0": lambda k, v: "|test_snr0|" in k, "test_snr10": lambda k, v: "|test_snr10|" in k,
        "snr=0": lambda k, v: v[2] == "0", "snr=10": lambda k, v: v[2] == "10",
        "noise=babble": lambda k, v: v[3] == "babble", "noise=white": lambda k, v: v[3] == "white"}
head = [c.strip().replace("\\_", "_") for c in re.search(r"^\| model \| pretraining \| seeds \|.*$", md, re.M).group(0).split("|")[1:-1]]
print(head)
for arm, name, kind in (("av", "av/ctc", "audio-visual"), ("audio", "audio/ctc", "audio-only")):
    seeds_md = md[md.index("## Training seeds"):]   # the main table names the same models
    row = [c.strip() for c in re.search(r"^\| " + re.escape(name) + r" \|.*$", seeds_md, re.M).group(0).split("|")[1:-1]]
    assert row[1] == kind and row[2] == "1,2,3", row
    for c, pred in cols.items():
        x = np.array([per(arm, s, pred) for s in (1, 2, 3)])
        m, sd = re.fullmatch(r"([0-9.]+) ± ([0-9.]+)", row[head.index(c)]).groups()
        assert abs(float(m) - x.mean()) < 0.006 and abs(float(sd) - x.std(ddof=1)) < 0.006, (name, c, m, sd, x)
print("mean ± sd per set and condition: as numpy")

# the paired comparison: same scheme in numpy, many generator seeds for the Monte Carlo error
tsv = [l.split("\t") for l in open(f"{rep}/compare.tsv").read().splitlines()]
assert tsv[0][:3] == ["a", "b", "column"]
got = {r[2]: r for r in tsv[1:] if r[0] == "av/ctc" and r[1] == "audio/ctc"}
assert sorted(got) == sorted(cols), got.keys()
def boot(pred, B, rng):
    keys = sorted({k.split("|", 2)[2] for k, v in truth.items() if pred(k, v)})
    d = np.array([[E_[f"av|{s}|{u}"] - E_[f"audio|{s}|{u}"] for u in keys] for s in (1, 2, 3)], float)
    n = np.array([N_[f"av|1|{u}"] for u in keys], float)
    est = 100 * d.mean(0).sum() / n.sum()
    k, nu = d.shape
    rows = np.arange(B)[:, None]
    counts = lambda m: np.bincount((rows * m + rng.integers(0, m, (B, m))).ravel(), minlength=B * m).reshape(B, m)
    c = counts(k)     # seeds drawn with replacement, then
    w = counts(nu)    # utterances drawn with replacement
    reps = 100 * np.einsum("bs,su,bu->b", c, d, w) / (k * (w @ n))
    return est, np.percentile(reps, [2.5, 97.5]), len(keys)
for c, pred in cols.items():
    r = got[c]
    est, _, nu = boot(pred, 10, np.random.default_rng(0))
    assert int(r[3]) == 3 and int(r[4]) == nu and r[5] == "seeds, utterances", r
    ea = np.mean([per("av", s, pred) for s in (1, 2, 3)]); eb = np.mean([per("audio", s, pred) for s in (1, 2, 3)])
    assert abs(float(r[6]) - ea) < 1e-5 and abs(float(r[7]) - eb) < 1e-5 and abs(float(r[8]) - est) < 1e-5, (r, ea, eb, est)
    ends = np.array([boot(pred, 2000, np.random.default_rng(g))[1] for g in range(12)])
    mc = ends.std(0, ddof=1)           # Monte Carlo sd of each interval end at B = 2000
    lo, hi = float(r[9]), float(r[10])
    dev = np.abs(np.array([lo, hi]) - ends.mean(0))
    print(f"{c}: diff {est:+.3f}  C [{lo:+.3f}, {hi:+.3f}]  numpy [{ends.mean(0)[0]:+.3f}, {ends.mean(0)[1]:+.3f}]"
          f"  MC sd {mc[0]:.3f} {mc[1]:.3f}  |C - numpy| {dev[0]:.3f} {dev[1]:.3f}")
    assert (dev < np.maximum(4 * mc * np.sqrt(1 + 1 / 12), 0.05)).all(), c
    assert r[11] == ("yes" if lo > 0 or hi < 0 else "no")
assert got["test_snr0"][11] == "yes" and float(got["test_snr0"][10]) < 0, got["test_snr0"]   # AV clearly better
assert got["test_snr10"][11] == "no", got["test_snr10"]                                       # no difference
assert re.search(r"^\| av/ctc \| audio/ctc \| test\\_snr0 \| 3 \| 60 \| seeds, utterances \|.* \| yes \|$", md, re.M)
# the error-bar plot: referenced, a valid image with coloured data; its data = numpy mean, sd
imgs = re.findall(r"!\[[^]]*\]\((plots/seeds_[^)]+)\)", md)
assert {os.path.basename(i).rsplit(".", 1)[0] for i in imgs} == {"seeds_0_snr", "seeds_1_noise"}, imgs
for i in imgs:
    data = open(f"{rep}/{i}", "rb").read()
    if i.endswith(".svg"):
        assert b"<svg" in data and (b"<path" in data or b"<polyline" in data), i
        continue
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", i
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    rgb = subprocess.run(["ffmpeg", "-v", "error", "-i", f"{rep}/{i}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    px = np.frombuffer(rgb, dtype=np.uint8).reshape(-1, 3).astype(int)
    assert len(px) == w * h and int((px.max(1) - px.min(1) > 80).sum()) > 200, f"{i}: looks blank"
gp = open(f"{rep}/plots/plots.gp").read()
assert "yerrorlines" in gp
dats = [l.split() for f in sorted(os.listdir(f"{rep}/plots")) if f.startswith("seeds0_") for l in open(f"{rep}/plots/{f}") if l[0] != "#"]
for arm in ("av", "audio"):
    x = np.array([per(arm, s, cols["snr=0"]) for s in (1, 2, 3)])
    assert any(abs(float(r[1]) - x.mean()) < 1e-6 and abs(float(r[2]) - x.std(ddof=1)) < 1e-6 for r in dats), arm
print("plots ok")
E

# deterministic: the same tables and intervals again
"$AVMASK" report --exp=exp --out=rep2 > /dev/null 2>&1
cmp rep/compare.tsv rep2/compare.tsv
diff <(sed 1,4d rep/report.md) <(sed 1,4d rep2/report.md)
# another bootstrap seed moves the interval a little, not the estimate
"$AVMASK" report --exp=exp --out=rep3 --bootstrap-seed=5 --bootstrap=500 > /dev/null 2>&1
! cmp -s rep/compare.tsv rep3/compare.tsv
[ "$(cut -f1-9 rep/compare.tsv)" = "$(cut -f1-9 rep3/compare.tsv)" ]

# a seed missing one test set: one warning line, n=2 in its cells, 2 seeds in the comparison
cp -r exp exp2
rm -r exp2/audio-s3/ctc/decode_test_snr10
"$AVMASK" report --exp=exp2 --out=rep4 --compare="av/ctc,audio/ctc" > /dev/null 2> err.txt
cat err.txt
[ "$(wc -l < err.txt)" = 1 ]
grep -q 'audio/ctc: seed 3 (audio-s3/ctc) has no result for test set test_snr10: its mean is over 2 of 3 seeds' err.txt
grep -qF 'Missing: audio/ctc: seed 3 (audio-s3/ctc) has no result for test set test_snr10' rep4/report.md
# n=2: test_snr10, snr=10 and both noise values (each pooled over both sets, one missing)
[ "$(grep '^| audio/ctc | audio-only | 1,2,3 |' rep4/report.md | grep -o '± [0-9.]* (n=2)' | wc -l)" = 4 ]
[ "$(grep '^| av/ctc | audio-visual | 1,2,3 |' rep4/report.md | grep -c 'n=')" = 0 ]
grep -qP '^av/ctc\taudio/ctc\ttest_snr10\t2\t60\tutterances\t' rep4/compare.tsv
grep -qP '^av/ctc\taudio/ctc\ttest_snr0\t3\t60\tseeds, utterances\t' rep4/compare.tsv
grep -qP '^av/ctc\taudio/ctc\tsnr=10\t2\t60\t' rep4/compare.tsv

# an eval.json without its per-utterance file: a warning naming it, no comparison row with it
rm exp2/av-s2/ctc/decode_test_snr0/eval.utts.tsv
"$AVMASK" report --exp=exp2 --out=rep5 --compare="av/ctc,audio/ctc" > /dev/null 2> err.txt
grep -q 'exp2/av-s2/ctc/decode_test_snr0/eval.utts.tsv' err.txt
grep -qP '^av/ctc\taudio/ctc\ttest_snr0\t2\t60\tutterances\t' rep5/compare.tsv

# a malformed per-utterance file (line named) and one whose sums differ from its eval.json
f=exp2/av-s3/ctc/decode_test_snr0/eval.utts.tsv
awk -F'\t' -v OFS='\t' 'NR == 3 { $2 = "x" } { print }' $f > t && mv t $f
g=exp2/av/ctc/decode_test_snr10/eval.utts.tsv
awk -F'\t' -v OFS='\t' 'NR == 2 { $2 = $2 + 1; $5 = $5 + 1 } { print }' $g > t && mv t $g
"$AVMASK" report --exp=exp2 --out=rep5 --compare="av/ctc,audio/ctc" > /dev/null 2> err.txt
cat err.txt
grep -q "$f:3: 'x' is not a count (left out of paired comparisons)" err.txt
grep -q "$g: .* but exp2/av/ctc/decode_test_snr10/eval.json has .* (a stale file?)" err.txt
grep -qP '^av/ctc\taudio/ctc\ttest_snr0\t1\t60\tutterances\t' rep5/compare.tsv   # seeds 2 and 3 left out

# --compare=none: no comparison (and no stale compare.tsv); bad pairs: one line each
"$AVMASK" report --exp=exp --out=rep --compare=none > /dev/null 2>&1
! grep -q 'Paired comparisons' rep/report.md && test ! -e rep/compare.tsv
fails() { if "$@" 2>err; then echo "should have failed: $*"; exit 1; fi; cat err; test "$(wc -l <err)" = 1; }
fails "$AVMASK" report --exp=exp --out=r6 --compare=av/ctc,nosuch/ctc
grep -q "no group 'nosuch/ctc'.*audio/ctc av/ctc" err
fails "$AVMASK" report --exp=exp --out=r6 --compare=av/ctc
grep -q "'av/ctc' is not a pair" err
fails "$AVMASK" report --exp=exp --out=r6 --compare=av/ctc,av/ctc
grep -q "compared with itself" err
echo ok
