#!/usr/bin/env bash
# timeout: 120
# Intent results in avmask report: 2 S2I arms (trip, none) x 3 seeds (exp/<arm>/s2i,
# <arm>-s2/s2i, <arm>-s3/s2i) on one test set of 80 utterances with a condition snr (0, 10),
# hypotheses with known wrong intents (probabilities per arm, seed and snr), scored by
# avmask eval --unit=intent; one CTC result beside them (exp/ctc/ctc/decode_test, phones).
# Checks: eval.json's accuracy and confusion counts against the truth; the report's intent
# section (accuracy by test set, seeds' mean ± sd of accuracy per column against numpy,
# the paired comparison trip/s2i - none/s2i, results by condition, the most frequent
# confusion per model); the comparison is the error-rate one mirrored, exactly: the same
# results scored as plain one-token transcripts give a compare.tsv whose difference and
# interval are minus compare_intent.tsv's (the same seed and streams), so the intent section
# reuses the seed and bootstrap code as it is; the error-rate sections hold the CTC result
# only; --compare-intent naming a missing group is one line.
set -eu
"$PY" - <<'E'
import json, os, random
random.seed(11)
intents = ["music_play", "music_pause", "alarm_set", "weather_query", "news_query"]
utts = ["spk%02d-u%03d" % (u // 8, u) for u in range(80)]
ref = {u: random.choice(intents) for u in utts}
snr = {u: "0" if i % 2 else "10" for i, u in enumerate(utts)}
os.makedirs("data", exist_ok=True)
with open("data/intent", "w") as f:
    for u in utts: f.write("%s %s\n" % (u, ref[u]))
with open("data/conditions", "w") as f:
    for u in utts: f.write("%s snr=%s\n" % (u, snr[u]))
p = {("trip", "0"): 0.25, ("trip", "10"): 0.10, ("none", "0"): 0.55, ("none", "10"): 0.15}
truth = {}
for arm in ("trip", "none"):
    for seed in (1, 2, 3):
        exp = arm if seed == 1 else "%s-s%d" % (arm, seed)
        d = "exp/%s/s2i/decode_test" % exp
        os.makedirs(d, exist_ok=True)
        with open(d + "/hyp", "w") as f:
            for u in utts:
                wrong = random.random() < p[(arm, snr[u])] + 0.02 * seed
                h = "alarm_set" if wrong and ref[u] == "music_play" else ("music_play" if wrong else ref[u])
                f.write("%s %s\n" % (u, h))
                truth["%s|%d|%s" % (arm, seed, u)] = [ref[u], h, snr[u]]
        os.makedirs("plain/%s/s2i/decode_test" % exp, exist_ok=True)
        with open("exp/%s/s2i/metrics.jsonl" % exp, "w") as f:
            f.write('{"step":10,"loss":1.5}\n{"step":10,"valid_loss":1.2,"valid_acc":60,"valid_err":40}\n')
json.dump(truth, open("truth.json", "w"))
os.makedirs("exp/ctc/ctc/decode_test", exist_ok=True)
with open("data/phones", "w") as f:
    for u in utts: f.write("%s a b c d\n" % u)
with open("exp/ctc/ctc/decode_test/hyp", "w") as f:
    for u in utts: f.write("%s a b x d\n" % u)
E
for d in exp/*/s2i/decode_test; do
    "$AVMASK" eval --unit=intent --ref=data/intent --hyp=$d/hyp --by=data/conditions >/dev/null
    e=${d#exp/}
    "$AVMASK" eval --ref=data/intent --hyp=$d/hyp --by=data/conditions --out=plain/$e/eval.json >/dev/null
done
"$AVMASK" eval --ref=data/phones --hyp=exp/ctc/ctc/decode_test/hyp >/dev/null
"$AVMASK" report --exp=exp --out=rep --compare-intent="trip/s2i,none/s2i" >out.txt 2>err.txt
"$AVMASK" report --exp=plain --out=prep --compare="trip/s2i,none/s2i" >/dev/null 2>&1
"$PY" - <<'E'
import json
import numpy as np
truth = json.load(open("truth.json"))
# eval.json against the truth
for arm in ("trip", "none"):
    for seed in (1, 2, 3):
        exp = arm if seed == 1 else "%s-s%d" % (arm, seed)
        e = json.load(open("exp/%s/s2i/decode_test/eval.json" % exp))
        rows = [v for k, v in truth.items() if k.startswith("%s|%d|" % (arm, seed))]
        right = sum(r == h for r, h, _ in rows)
        assert e["task"] == "intent" and e["overall"]["C"] == right and abs(e["overall"]["acc"] - 100 * right / 80) < 1e-9
        lab = e["confusion"]["labels"]
        m = np.array(e["confusion"]["matrix"])
        for r, h, _ in rows: m[lab.index(r), lab.index(h)] -= 1
        assert not m.any(), "confusion counts"
md = open("rep/report.md").read()
for s in ("## Intent accuracy (%) by test set", "## Intent accuracy (%), training seeds: mean ± standard deviation",
          "## Intent accuracy, paired comparisons", "## Intent results by condition", "## Most frequent intent confusions",
          "## Error rate (%) by test set"):
    assert s in md, s
# the error-rate headline holds the CTC model only; the intent headline the S2I models only
err = md.split("## Error rate (%) by test set")[1].split("##")[0]
assert "| ctc/ctc |" in err and "s2i" not in err, err
head = md.split("## Intent accuracy (%) by test set")[1].split("##")[0]
assert "trip/s2i" in head and "ctc/ctc" not in head, head
# mean ± sd of accuracy per column against numpy
seeds = md.split("## Intent accuracy (%), training seeds")[1].split("##")[0]
for arm in ("trip", "none"):
    row = [l for l in seeds.splitlines() if l.startswith("| %s/s2i " % arm)][0].split("|")[3:-1]
    for col, cond in zip(row, (None, "0", "10")):
        acc = []
        for seed in (1, 2, 3):
            rows = [v for k, v in truth.items() if k.startswith("%s|%d|" % (arm, seed)) and (cond is None or v[2] == cond)]
            acc.append(100 * sum(r == h for r, h, _ in rows) / len(rows))
        want = "%.2f ± %.2f" % (np.mean(acc), np.std(acc, ddof=1))
        assert col.strip() == want, (arm, cond, col, want)
# the comparison: minus the plain error-rate comparison of the same results, to the digit
ti = [l.split("\t") for l in open("rep/compare_intent.tsv")]
te = [l.split("\t") for l in open("prep/compare.tsv")]
assert ti[0][6:8] == ["acc_a", "acc_b"] and te[0][6:8] == ["err_a", "err_b"]
assert len(ti) == len(te) == 4, (ti, te)
for a, b in zip(ti[1:], te[1:]):
    assert a[:6] == b[:6], (a, b)
    for i, j in ((6, 6), (7, 7)): assert abs(float(a[i]) - (100 - float(b[j]))) < 1e-5
    assert abs(float(a[8]) + float(b[8])) < 1e-5 and abs(float(a[9]) + float(b[10])) < 1e-5 and abs(float(a[10]) + float(b[9])) < 1e-5
    assert a[11] == b[11]
snr0 = [r for r in ti if r[2] == "snr=0"][0]
assert float(snr0[8]) > 10 and float(snr0[9]) < float(snr0[8]) < float(snr0[10]), snr0   # trip is better at snr 0
# the most frequent confusion of none/s2i, counted here (Markdown escapes _ and >)
from collections import Counter
c = Counter((r, h) for k, (r, h, _) in truth.items() if k.startswith("none|") and r != h)
(r, h), n = c.most_common(1)[0]
conf = md.split("## Most frequent intent confusions")[1].split("##")[0]
row = [l for l in conf.splitlines() if l.startswith("| none/s2i ")][0]
want = "| 240 | %s -\\> %s: %d (%.1f %%) |" % (r.replace("_", "\\_"), h.replace("_", "\\_"), n, 100 * n / 240)
assert want in row, (want, row)
print("report intent section: ok")
E
"$AVMASK" report --exp=exp --out=rep2 --compare-intent="trip/s2i,gone/s2i" >/dev/null 2>bad.err && { echo "FAIL: bad group accepted"; exit 1; }
[ "$(wc -l <bad.err)" = 1 ] && grep -q "no group 'gone/s2i'" bad.err || { cat bad.err; echo "FAIL: bad group message"; exit 1; }
echo "test_report_intent: ok"
