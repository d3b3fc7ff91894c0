# timeout: 120
# avmask eval on hand-computed tricky cases: substitutions, an alignment where keeping
# a match beats two substitutions, empty hypothesis, empty reference (insertions only,
# rate n/a), a reference utterance without hypothesis (all deletions), hypotheses
# without reference (reported, not scored), conditions sorted numerically, an
# utterance without conditions; the per-utterance file (eval.utts.tsv) adds up to the
# totals; then malformed inputs fail with one clear line; a 10000-token utterance is
# scored in linear memory (the full cost table took 800 MB).
set -eu
cat > ref <<'E'
u1 a b c d
u2 a b
u3 x y z
u4
u5 s t
u6 a b c d e
E
cat > hyp <<'E'
u6 d e x y z
u1 a x c d
u2 b c
u4 p q
u5
v9 foo
v8 bar
E
cat > cond <<'E'
u1 snr=10 voice=a
u2 snr=-5 voice=b
u3 snr=10 voice=a
u4 snr=0 voice=b
u6 snr=5
E
mkdir dec
cp hyp dec/hyp
"$AVMASK" eval --ref=ref --hyp=dec/hyp --by=cond > out.txt
cat out.txt
# S: u1 1 + u6 5 = 6; D: u2 1 + u3 3 + u5 2 = 6; I: u2 1 + u4 2 = 3; N = 16
grep -qF '%ERR 93.75 [ 15 / 16, 3 ins, 6 del, 6 sub ] over 6 utterances' out.txt
grep -q '^warning: 1 reference utterances have no hypothesis, scored as all deletions: u3$' out.txt
grep -q '^warning: 2 hypothesis utterances have no reference, not scored: v8 v9$' out.txt
grep -q '^warning: 1 reference utterances are not in cond, counted as <none>: u5$' out.txt
test -f dec/eval.json && cmp -s out.txt dec/eval.txt
"$PY" - dec/eval.json <<'E'
import json, sys
r = json.load(open(sys.argv[1]))
o = r["overall"]
assert (o["S"], o["D"], o["I"], o["C"], o["N"], o["utts"]) == (6, 6, 3, 4, 16, 6), o
assert abs(o["err"] - 93.75) < 1e-9
def rows(key):
    return [(x["value"], x["S"], x["D"], x["I"], x["N"], x["utts"], x["err"]) for x in r["conditions"][key]]
snr = rows("snr")
assert [v[0] for v in snr] == ["-5", "0", "5", "10", "<none>"], snr   # numeric order
assert snr[0][1:6] == (0, 1, 1, 2, 1) and abs(snr[0][6] - 100) < 1e-9
assert snr[1][1:6] == (0, 0, 2, 0, 1) and snr[1][6] is None           # N = 0: undefined
assert snr[2][1:6] == (5, 0, 0, 5, 1)
assert snr[3][1:6] == (1, 3, 0, 7, 2) and abs(snr[3][6] - 400 / 7) < 1e-6
assert snr[4][1:6] == (0, 2, 0, 2, 1)
voice = rows("voice")
assert [v[0] for v in voice] == ["a", "b", "<none>"], voice
assert voice[1][1:6] == (0, 1, 3, 2, 2) and abs(voice[1][6] - 200) < 1e-9
assert voice[2][1:6] == (5, 2, 0, 7, 2)
assert r["ref_without_hyp"] == {"count": 1, "first": ["u3"]}
assert r["hyp_without_ref"] == {"count": 2, "first": ["v8", "v9"]}
assert r["ref_without_conditions"]["count"] == 1
# the per-utterance file beside it: every scored reference utterance, counts adding up to
# the totals overall and per condition value
assert r["utts_file"] == "eval.utts.tsv"
lines = [l.rstrip("\n").split("\t") for l in open("dec/eval.utts.tsv")]
assert lines[0] == ["utt", "S", "D", "I", "N", "snr", "voice"], lines[0]
rows = {l[0]: (list(map(int, l[1:5])), l[5:]) for l in lines[1:]}
assert sorted(rows) == ["u1", "u2", "u3", "u4", "u5", "u6"], rows.keys()
assert rows["u2"] == ([0, 1, 1, 2], ["-5", "b"]) and rows["u5"] == ([0, 2, 0, 2], ["<none>", "<none>"])
assert rows["u6"] == ([5, 0, 0, 5], ["5", "<none>"]), rows["u6"]
for k, name in enumerate("SDIN"):
    assert sum(c[k] for c, _ in rows.values()) == o[name], name
for ki, key in enumerate(["snr", "voice"]):
    for x in r["conditions"][key]:
        sel = [c for c, v in rows.values() if v[ki] == x["value"]]
        assert [sum(c[k] for c in sel) for k in range(4)] == [x["S"], x["D"], x["I"], x["N"]], (key, x)
E
grep -q '^  0 *n/a ' out.txt

# per-utterance alignments
"$AVMASK" eval --ref=ref --hyp=dec/hyp --details=det.txt --out=d.json > /dev/null
grep -A3 '^u2: S=0 D=1 I=1 N=2$' det.txt > u2.txt
printf 'u2: S=0 D=1 I=1 N=2\nREF: a   b ***\nHYP: *** b c\nOPS: D   C I\n' | cmp - u2.txt
grep -qx 'REF: x   y   z' det.txt && grep -qx 'HYP: \*\*\* \*\*\* \*\*\*' det.txt

# identical files: 0 errors; --out chooses the JSON path and the .txt beside it
"$AVMASK" eval --ref=ref --hyp=ref --out=res/x.json | grep -qF '%ERR 0.00 [ 0 / 16, 0 ins, 0 del, 0 sub ] over 6 utterances'
test -f res/x.json && test -f res/x.txt && test -f res/x.utts.tsv
head -1 res/x.utts.tsv | grep -qx "$(printf 'utt\tS\tD\tI\tN')"   # no --by: no condition columns

# character error rate: UTF-8 characters, one <space> unit between words
printf 'u1 ab cd\nu2 h\xc3\xa9llo\n' > cref
printf 'u1 ab  d\nu2 hello\n' > chyp
"$AVMASK" eval --ref=cref --hyp=chyp --unit=char --out=c.json | grep -qF '%ERR 20.00 [ 2 / 10, 0 ins, 1 del, 1 sub ] over 2 utterances'

# failures: one line naming the file and the problem
fails() { if "$@" 2>err; then echo "should have failed: $*"; exit 1; fi; cat err; test "$(wc -l <err)" = 1; }
fails "$AVMASK" eval --ref=missing --hyp=hyp
grep -q 'missing' err
printf 'a x\nb y\na z\n' > dup
fails "$AVMASK" eval --ref=ref --hyp=dup
grep -q 'dup:3: utterance .a. repeated' err
printf 'u1 snr10\n' > badcond
fails "$AVMASK" eval --ref=ref --hyp=hyp --by=badcond --out=o.json
grep -q "badcond:1: 'snr10' is not key=value" err
fails "$AVMASK" eval --ref=ref --hyp=hyp --bogus=1
# memory linear in the utterance length: a 10000-token reference against a noisy copy of
# it needs 10^8 cost cells with a full table (800 MB); the peak RSS must stay far below
"$PY" - <<'PY'
import random, resource, subprocess, os
random.seed(3)
n = 10000
r = [random.choice("abcdefghij") for _ in range(n)]
h = [x if random.random() < 0.8 else random.choice("abcdefghij") for x in r]
open("long_ref", "w").write("u1 " + " ".join(r) + "\n")
open("long_hyp", "w").write("u1 " + " ".join(h[:-7]) + "\n")
subprocess.run([os.environ["AVMASK"], "eval", "--ref=long_ref", "--hyp=long_hyp", "--out=long.json"],
               check=True, stdout=subprocess.DEVNULL)
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("eval of a 10000-token utterance: peak RSS %.0f MB" % peak_mb)
assert peak_mb < 300, peak_mb
PY
echo ok
