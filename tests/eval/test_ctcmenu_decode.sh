#!/usr/bin/env bash
# timeout: 120
# TinyS2I's CTC baseline (avmask decode --menu on a CTC model, eval/ctcmenu.h) on a tiny
# synth-slu corpus (two flite families, clean, 80 training and 40 test commands, every
# paraphrase seen): a char CTC model fine-tuned for a few steps; its decode (default
# --title-query=whole) writes hyp, title_rank, text and decode.json in TinyS2I's formats and
# avmask eval --unit=tinys2i scores it; fed the reference transcripts (--transcripts) with
# --title-query=rest every title is right (100 % titles and title match), and with
# --title-query=whole every decision and title equals a Python reimplementation of the rule
# (nearest transcript by word edit distance, votes, the intent list's order; normalised
# character edit distance, first of equals); the refusals (an empty menu, a title twice, an
# intents dir without intent, missing --intents-from, --intents-from without --menu) are one
# line each and leave no output.
set -u
export OMP_WAIT_POLICY=PASSIVE
fail() { echo "FAIL: $*"; exit 1; }

"$AVMASK" synth-slu --out=c --families=awb,rms --heldout-family=none --speakers-per-family=4 --utts-per-speaker=20 \
    --train-clean=1 --snr=clean --menus=5 --title-words=6 --train-titles=28 --test-titles=8 --unseen-fraction=0 \
    >/dev/null 2>synth.err || { cat synth.err; fail "synth-slu"; }
for s in train test; do
    "$AVMASK" extract --data=c/$s --out=f/$s --nj=2 >/dev/null 2>ex.err || { cat ex.err; fail "extract $s"; }
done
"$AVMASK" finetune --init=none --model=tiny --unit=char --feats=f/train --data=c/train --max-steps=4 \
    --batch-tokens=1000 --threads=2 --out=ft >/dev/null 2>ft.err || { cat ft.err; fail "finetune"; }
dec=(decode --model=ft/model --feats=f/test --intents-from=c/train --intents=c/intents.txt --threads=1)
"$AVMASK" "${dec[@]}" --menu=c/test/menu5 --out=d >/dev/null 2>d.err || { cat d.err; fail "decode --menu (CTC)"; }
"$AVMASK" "${dec[@]}" --menu=c/test/menu5 --transcripts=c/test/text --title-query=rest --out=o >/dev/null 2>o.err ||
    { cat o.err; fail "decode --transcripts"; }
"$AVMASK" "${dec[@]}" --menu=c/test/menu5 --transcripts=c/test/text --title-query=whole --out=w >/dev/null 2>w.err ||
    { cat w.err; fail "decode --title-query=whole"; }
for x in d o w; do
    "$AVMASK" eval --unit=tinys2i --ref=c/test/intent --hyp=$x/hyp --intents=c/intents.txt >$x.ev 2>$x.everr ||
        { cat $x.everr; fail "eval --unit=tinys2i of $x"; }
done
cat o.ev
"$PY" - <<'PY' || fail "CTC baseline outputs"
import json, re
def kv(p):
    return dict((l.split(None, 1) + [""])[:2] for l in open(p).read().splitlines())
ref, menu, text = kv("c/test/intent"), kv("c/test/menu5"), kv("c/test/text")
cls = dict(l.split() for l in open("c/intents.txt"))
for x in ("d", "o", "w"):
    hyp, rank, tr = kv(x + "/hyp"), kv(x + "/title_rank"), kv(x + "/text")
    assert set(hyp) == set(ref) == set(tr), x
    for u, h in hyp.items():
        assert h == "defer" or re.fullmatch(r"command [a-z_]+", h) and cls[h.split()[1]] == "command" or \
            h.startswith("play ") and h[5:] in menu[u].split("|"), (x, u, h)
    assert set(rank) == set(menu) and all(rank[u] in menu[u].split("|") for u in rank), x
    dj = json.load(open(x + "/decode.json"))
    p = dj["parameters"]
    assert dj["decoder"] == "ctc+menu" and dj["threads"] == 1 and dj["utterances"] == len(ref), dj
    assert p["audio_encoder"] > 0 and p["head"] > 0 and p["total"] == p["audio_encoder"] + p["head"], p
    assert dj["parameter_bytes"] == 4 * p["total"] and dj["file_bytes"] > dj["parameter_bytes"] / 2, dj
    assert dj["system"].startswith("CPU ") and dj["ms_per_utterance"] > 0 and dj["menu"] == "c/test/menu5"
    e = json.load(open(x + "/eval.json"))
    assert e["task"] == "tinys2i" and e["utterances"] == len(ref) and e["decode"]["decoder"] == "ctc+menu", e
    assert (x == "d") == ("transcripts" not in dj), dj
assert kv("o/text") == text
e = json.load(open("o/eval.json"))
assert e["title"]["N"] > 0 and e["title"]["acc"] == 100 and e["title_match"]["acc"] == 100, e
# --title-query=whole on the references against a reimplementation of the rule
def lev(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        p, d[0] = d[:], i
        for j in range(1, len(b) + 1):
            d[j] = min(p[j] + 1, d[j - 1] + 1, p[j - 1] + (a[i - 1] != b[j - 1]))
    return d[-1]
tr_text, tr_int = kv("c/train/text"), kv("c/train/intent")
order = [l.split()[0] for l in open("c/intents.txt")]
def decide(t):
    w = t.split()
    if not w:
        return "defer"
    votes, best = {}, None
    for u, s in tr_text.items():
        k = lev(s.split(), w)
        if best is None or k < best:
            best, votes = k, {}
        if k == best:
            votes[tr_int[u]] = votes.get(tr_int[u], 0) + 1
    top = max(votes.values())
    i = next(i for i in order if votes.get(i) == top)
    return {"command": "command " + i, "title": "play", "other": "defer"}[cls[i]]
hyp, rank = kv("w/hyp"), kv("w/title_rank")
for u, t in text.items():
    want = decide(t)
    if u in menu:
        titles = menu[u].split("|")
        q = " ".join(t.split())
        dist = [lev(q, s) / max(len(q), len(s)) for s in titles]
        best = titles[dist.index(min(dist))]
        assert rank[u] == best, (u, t, rank[u], best)
        if want == "play":
            want = "play " + best
    assert hyp[u] == want, (u, t, hyp[u], want)
print("CTC baseline: formats, oracle titles 100 %% (%d), %d decisions equal to the reimplementation" %
      (e["title"]["N"], len(text)))
PY

expect() {   # expect NAME PATTERN command...
    local name=$1 pat=$2; shift 2
    "$@" >/dev/null 2>$name.err && fail "$name accepted"
    [ "$(grep -c . $name.err)" = 1 ] && grep -q -- "$pat" $name.err || { cat $name.err; fail "$name: message"; }
}
sed '2s/ .*$/ /' c/test/menu5 >empty.menu
expect empty "empty.menu:2: empty menu" "$AVMASK" "${dec[@]}" --menu=empty.menu --out=x1
awk 'NR == 3 { split($0, a, "|"); $0 = $0 "|" a[2] } 1' c/test/menu5 >twice.menu
expect twice "twice.menu:3: title '.*' appears twice in the menu" "$AVMASK" "${dec[@]}" --menu=twice.menu --out=x2
mkdir nointent && cp c/train/text nointent/
expect nointent "nointent/intent" "$AVMASK" "${dec[@]}" --menu=c/test/menu5 --intents-from=nointent --out=x3
expect noidir "needs --intents-from=DATA_DIR and --intents=FILE" "$AVMASK" decode --model=ft/model --feats=f/test \
    --menu=c/test/menu5 --out=x4
expect nomenu "apply with --menu only" "$AVMASK" "${dec[@]}" --out=x5
[ ! -e x1 ] && [ ! -e x2 ] && [ ! -e x3 ] && [ ! -e x4 ] && [ ! -e x5 ] || fail "a refusal left output"
echo "test_ctcmenu_decode: ok"
