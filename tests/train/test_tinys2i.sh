#!/usr/bin/env bash
# timeout: 1200
# avmask tinys2i on one small synth-slu corpus (two flite families, awb and rms, clean; 400
# training, 100 dev and 100 test commands of unseen speakers; titles of 6 adjectives and 6
# nouns (--title-words=6): 28 train titles, 8 test titles never spoken in training, menus of 5):
#  - learning: LEARN_STEPS steps of a fresh TinyS2I (the default tiny encoder and title
#    encoder; lr 3e-3, title weight 2, batches of 4000 tokens); avmask decode
#    --menu=test/menu5 + eval --unit=tinys2i: top-1 title matching of the 21 unseen
#    test-title utterances at least TITLE_BAR % (9 of 21; chance 20 %, under which 9 or more
#    right has probability 0.014; measured 62 %, 13 of 21, docs/slu.md) and the decisions
#    above the most frequent class's share; eval's figures recomputed here from hyp,
#    title_rank and the references; the acoustic model's parameter count (train.log,
#    tinys2i.json, decode.json agree) at most 0.5 M; decode.json names the CPU;
#  - a title encoder started from an avmask textlm model dir trains jointly (its parameters
#    move);
#  - a character-level title encoder (--title-units=char): a vocabulary of single characters
#    and '|', tinys2i.json says so, decode --menu spells the unseen test titles without <unk>
#    and ranks only menu titles; refused with --text-model (one line);
#  - MPI: 2 ranks give the one-process summed gradient (first step, every view), max rel 1e-5;
#  - --resume after SIGKILL: metrics and model files bitwise equal to an uninterrupted run;
#    refused with other data;
#  - decode's confidences (in [0, 1]; at least 1/3 for play and defer), --defer-below (every
#    command or play decision below the median confidence deferred, nothing else changed),
#    eval's deferral sweep (every threshold's figures and the best recomputed) and eval --by
#    (every value of every key of test/conditions recomputed);
#  - refusals, one line each: a menu with an empty title list, a title twice, an utterance not
#    in the features (file and line); decode of a TinyS2I model without --menu or with the CTC
#    baseline's --intents-from; --menu or --defer-below on an S2I model; eval --unit=tinys2i
#    without --intents.
set -u
export OMP_WAIT_POLICY=PASSIVE
fail() { echo "FAIL: $*"; exit 1; }
LEARN_STEPS=800
TITLE_BAR=40

"$AVMASK" synth-slu --out=c --families=awb,rms --heldout-family=none --speakers-per-family=6 --utts-per-speaker=50 \
    --train-clean=1 --snr=clean --menus=5 --title-words=6 --train-titles=28 --test-titles=8 >/dev/null 2>synth.err ||
    { cat synth.err; fail "synth-slu"; }
for s in train dev test; do
    "$AVMASK" extract --data=c/$s --out=f/$s --nj=2 >/dev/null 2>ex.err || { cat ex.err; fail "extract $s"; }
done
base=(tinys2i --init=none --feats=f/train --data=c/train --intents=c/intents.txt --valid=f/dev --valid-data=c/dev)

# ---- learning, decode, eval ----
"$AVMASK" "${base[@]}" --max-steps=$LEARN_STEPS --warmup=40 --lr=3e-3 --title-weight=2 --batch-tokens=4000 \
    --valid-every=100 --threads=2 --out=t \
    >t.out 2>t.err || { cat t.err; fail "tinys2i"; }
"$AVMASK" decode --model=t/model --feats=f/test --menu=c/test/menu5 --out=d --threads=1 >/dev/null 2>d.err ||
    { cat d.err; fail "decode --menu"; }
"$AVMASK" eval --unit=tinys2i --ref=c/test/intent --hyp=d/hyp --intents=c/intents.txt >ev.out 2>ev.err ||
    { cat ev.err; fail "eval --unit=tinys2i"; }
cat ev.out
acoustic=$(sed -n 's/.*; acoustic model \([0-9]*\) parameters.*/\1/p' t/train.log)
[ -n "$acoustic" ] && [ "$acoustic" -le 500000 ] || { grep parameters t/train.log; fail "acoustic model size"; }
export TITLE_BAR acoustic
"$PY" - <<'PY' || fail "TinyS2I figures"
import json, os
from collections import Counter
cls = dict(l.split() for l in open("c/intents.txt"))
ref = dict(l.split(None, 1) for l in open("c/test/intent").read().splitlines())
title = {}
for l in open("c/test/slots").read().splitlines():
    u, s = l.split(None, 1)
    for kv in s.split(";"):
        if kv.startswith("title="):
            title[u] = kv[6:]
hyp = dict(l.split(None, 1) for l in open("d/hyp").read().splitlines())
rank = dict(l.split(None, 1) for l in open("d/title_rank").read().splitlines())
menu = dict(l.split(None, 1) for l in open("c/test/menu5").read().splitlines())
assert set(rank) == set(menu) and all(rank[u] in menu[u].split("|") for u in rank)
C = {"command": "command", "title": "play", "other": "defer"}
dec = sum(hyp[u].split()[0] == C[cls[ref[u].strip()]] for u in ref)
cmds = [u for u in ref if cls[ref[u].strip()] == "command"]
tits = [u for u in ref if cls[ref[u].strip()] == "title"]
oth = [u for u in ref if cls[ref[u].strip()] == "other"]
cmd_ok = sum(hyp[u] == "command " + ref[u].strip() for u in cmds)
deferred = [u for u in ref if hyp[u] == "defer"]
match = sum(rank[u] == title[u] for u in tits)
e2e = sum(hyp[u] == "play " + title[u] for u in tits)
e = json.load(open("d/eval.json"))
assert e["task"] == "tinys2i" and e["utterances"] == len(ref) == 100
assert e["decision"]["correct"] == dec and e["command"]["correct"] == cmd_ok and e["command"]["N"] == len(cmds)
assert e["defer"]["deferred"] == len(deferred) and e["defer"]["correct"] == sum(u in oth for u in deferred)
assert e["defer"]["other"] == len(oth)
assert e["title"]["correct"] == e2e and e["title_match"]["correct"] == match and e["title"]["N"] == len(tits)
top = 100 * max(Counter(cls[r.strip()] for r in ref.values()).values()) / len(ref)
acc = e["title_match"]["acc"]
print("title match %.1f %% of %d (bar %s %%); decisions %.1f %% (most frequent class %.1f %%)" %
      (acc, len(tits), os.environ["TITLE_BAR"], e["decision"]["acc"], top))
assert acc >= float(os.environ["TITLE_BAR"]), acc
assert e["decision"]["acc"] > top, (e["decision"], top)
dj, tj = json.load(open("d/decode.json")), json.load(open("t/model/tinys2i.json"))
assert dj["parameters"] == tj["parameters"] and dj["threads"] == 1 and dj["ms_per_utterance"] > 0
assert dj["parameters"]["audio_encoder"] + dj["parameters"]["head"] == int(os.environ["acoustic"])
assert dj["parameter_bytes"] == 4 * dj["parameters"]["total"] and dj["file_bytes"] > dj["parameter_bytes"] / 2
assert dj["system"].startswith("CPU ") and e["decode"]["ms_per_utterance"] == dj["ms_per_utterance"]
PY

# ---- confidences, decode --defer-below, eval's deferral sweep and --by ----
"$AVMASK" eval --unit=tinys2i --ref=c/test/intent --hyp=d/hyp --intents=c/intents.txt --by=c/test/conditions \
    --out=d/by.json >/dev/null 2>by.err || { cat by.err; fail "eval --unit=tinys2i --by"; }
thr=$("$PY" -c '
conf = dict(l.split() for l in open("d/confidence"))
acts = sorted({float(conf[l.split()[0]]) for l in open("d/hyp") if l.split()[1] in ("command", "play")})
k = len(acts) // 2   # midway between two confidences near the median: no act sits on the threshold
print("%.9f" % ((acts[k - 1] + acts[k]) / 2))')
"$AVMASK" decode --model=t/model --feats=f/test --menu=c/test/menu5 --out=dd --threads=1 --defer-below=$thr \
    >/dev/null 2>dd.err || { cat dd.err; fail "decode --defer-below"; }
export thr
"$PY" - <<'PY' || fail "confidence, deferral and conditions"
import json, os
thr = float(os.environ["thr"])
def kv(p):
    return dict(l.split(None, 1) for l in open(p).read().splitlines())
cls = dict(l.split() for l in open("c/intents.txt"))
ref, hyp, rank, conds = kv("c/test/intent"), kv("d/hyp"), kv("d/title_rank"), kv("c/test/conditions")
conf = {u: float(v) for u, v in kv("d/confidence").items()}
title = {u: kv[6:] for u, s in kv("c/test/slots").items() for kv in s.split(";") if kv.startswith("title=")}
assert set(conf) == set(ref) and all(0 <= c <= 1 for c in conf.values())
# the decision head's largest probability of 3 classes is at least 1/3 (a command's is multiplied by the command's)
assert all(conf[u] >= 1 / 3 - 1e-6 for u in ref if not hyp[u].startswith("command ")), conf
# decode --defer-below: every command or play decision below the threshold deferred, nothing else changed
dd = kv("dd/hyp")
want = {u: "defer" if hyp[u].split()[0] in ("command", "play") and conf[u] < thr else hyp[u] for u in hyp}
assert dd == want and sum(dd[u] != hyp[u] for u in hyp) > 0, thr
assert abs(json.load(open("dd/decode.json"))["defer_below"] - thr) < 1e-8 and json.load(open("d/decode.json"))["defer_below"] == 0
def figures(us, t):   # eval's counts of the utterances us with every act below t deferred
    C = {"command": "command", "title": "play", "other": "defer"}
    f = dict(n=0, dec=0, ncmd=0, cmd=0, other=0, deferred=0, dok=0, ntit=0, tit=0, match=0)
    for u in us:
        h = hyp[u] if not (hyp[u].split()[0] in ("command", "play") and conf[u] < t) else "defer"
        c = cls[ref[u].strip()]
        f["n"] += 1; f["dec"] += h.split()[0] == C[c]; f["deferred"] += h == "defer"
        if c == "command": f["ncmd"] += 1; f["cmd"] += h == "command " + ref[u].strip()
        if c == "other": f["other"] += 1; f["dok"] += h == "defer"
        if c == "title": f["ntit"] += 1; f["tit"] += h == "play " + title[u]; f["match"] += rank[u] == title[u]
    return f
def same(e, f):
    return (e["utterances"], e["decision"]["correct"], e["command"]["N"], e["command"]["correct"], e["defer"]["other"],
            e["defer"]["deferred"], e["defer"]["correct"], e["title"]["N"], e["title"]["correct"],
            e["title_match"]["correct"]) == (f["n"], f["dec"], f["ncmd"], f["cmd"], f["other"], f["deferred"], f["dok"],
                                             f["ntit"], f["tit"], f["match"])
e = json.load(open("d/eval.json"))
sw = e["defer_sweep"]
assert [r["threshold"] for r in sw] == [k / 10 for k in range(10)] or \
    all(abs(r["threshold"] - k / 10) < 1e-9 for k, r in enumerate(sw)), sw
for r in sw:
    assert same(r, figures(ref, r["threshold"])), r
assert same(e, figures(ref, 0))
best = max(range(10), key=lambda k: (sw[k]["decision"]["correct"], -k))
assert abs(e["defer_best"] - best / 10) < 1e-9, (e["defer_best"], best)
# --by: every value of every key of the conditions file, its figures recomputed
b = json.load(open("d/by.json"))
assert b["by"] == "c/test/conditions" and same(b, figures(ref, 0)) and b["ref_without_conditions"] == 0
keys = {kv.split("=")[0] for s in conds.values() for kv in s.split()}
assert set(b["conditions"]) == keys and {"family", "class", "snr"} <= keys, b["conditions"].keys()
n = 0
for k, rows in b["conditions"].items():
    vals = sorted({dict(kv.split("=") for kv in conds[u].split())[k] for u in ref})
    assert sorted(r["value"] for r in rows) == vals, (k, vals)
    for r in rows:
        us = [u for u in ref if dict(kv.split("=") for kv in conds[u].split())[k] == r["value"]]
        assert same(r, figures(us, 0)), (k, r["value"])
        n += 1
print("deferral: %d of %d acts deferred below %.3f; sweep of 10 thresholds and %d condition values recomputed, best %.1f" %
      (sum(dd[u] != hyp[u] for u in hyp), sum(h.split()[0] != "defer" for h in hyp.values()), thr, n, e["defer_best"]))
PY
grep -q "^by family (%):" d/by.txt && grep -q "^best threshold " d/eval.txt || fail "eval text: by-condition or sweep table"

# ---- a title encoder from an avmask textlm model dir trains jointly ----
small=(--d=32 --ffn=64 --heads=2 --layers-audio=1 --layers-fusion=1 --batch-tokens=300 --lr=3e-3 --warmup=3 --threads=2)
"$AVMASK" textlm --text=c/text_corpus.txt --d=32 --ffn=64 --heads=2 --layers=1 --max-steps=5 --batch-tokens=512 \
    --threads=2 --out=lm >/dev/null 2>lm.err || { cat lm.err; fail textlm; }
"$AVMASK" "${base[@]}" "${small[@]}" --text-model=lm/model --max-steps=6 --out=tl >/dev/null 2>tl.err ||
    { cat tl.err; fail "tinys2i --text-model"; }
grep -q "title encoder (lm/model, words) d 32" tl/train.log || { grep "title encoder" tl/train.log; fail "title encoder log"; }
"$PY" - <<'PY' || fail "the title encoder did not train"
import h5py, numpy as np
a, b = h5py.File("lm/model/text_encoder.h5", "r")["params"], h5py.File("tl/model/title_encoder/text_encoder.h5", "r")["params"]
assert set(a) == set(b)
moved = [k for k in a if not np.array_equal(a[k][()], b[k][()])]
assert "text_encoder.tok_emb" in moved and len(moved) >= len(a) - 2, moved
assert open("lm/model/vocab.txt").read() == open("tl/model/title_encoder/vocab.txt").read()
PY

# ---- a character-level title encoder (--title-units=char) ----
"$AVMASK" "${base[@]}" "${small[@]}" --title-units=char --max-steps=4 --out=tc >/dev/null 2>tc.err ||
    { cat tc.err; fail "tinys2i --title-units=char"; }
grep -q "title encoder (fresh, characters) d 64" tc/train.log || { grep "title encoder" tc/train.log; fail "char title log"; }
"$AVMASK" decode --model=tc/model --feats=f/test --menu=c/test/menu5 --out=dc --threads=1 >/dev/null 2>dc.err ||
    { cat dc.err; fail "decode --menu, char titles"; }
! grep -q "outside the title vocabulary" dc.err || { cat dc.err; fail "test titles not spelled in known characters"; }
"$PY" - <<'PY' || fail "char title encoder"
import json
voc = [l.split()[0] for l in open("tc/model/title_encoder/vocab.txt")][4:]
assert "|" in voc and all(len(t) == 1 for t in voc), voc
assert json.load(open("tc/model/tinys2i.json"))["title_units"] == "char"
assert json.load(open("t/model/tinys2i.json"))["title_units"] == "word"
menu = dict(l.split(None, 1) for l in open("c/test/menu5").read().splitlines())
ranked = dict(l.split(None, 1) for l in open("dc/title_rank").read().splitlines())
assert ranked and all(t in menu[u].split("|") for u, t in ranked.items()), list(ranked.items())[:3]
print("char title encoder: vocabulary of %d characters, %d utterances ranked against menu titles" % (len(voc), len(ranked)))
PY
"$AVMASK" "${base[@]}" "${small[@]}" --title-units=char --text-model=lm/model --max-steps=1 --out=tx >/dev/null 2>tx.err &&
    fail "--title-units=char with --text-model accepted"
grep -q "title-units=char needs a fresh title encoder" tx.err || { cat tx.err; fail "char + text model message"; }

# ---- MPI: 2 ranks against one process (mpi_launch.sh, runs.py) ----
. "$AVMASK_ROOT/tests/train/mpi_launch.sh"
mpi_pair joint tinys2i --init=none --feats=f/train --data=c/train --intents=c/intents.txt "${small[@]}" --max-steps=1 \
    --batch-tokens=8000 --dropout=0 --attn-dropout=0 --threads=1 --log-every=1
"$PY" - <<'PY' || fail "2 ranks differ from one process"
import os, sys
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import grad_rel, same_metrics
grad_rel("joint")
a, _ = same_metrics("joint", ("loss", "loss_class", "loss_command", "loss_title", "acc_class", "grad_norm"), 1e-6)
assert a[0]["loss_title"] > 0, a[0]   # the title encoder's share is in the compared gradient
PY

# ---- --resume after SIGKILL ----
run=("${base[@]}" "${small[@]}" --max-steps=12 --log-every=1 --valid-every=4 --save-every=5 --dropout=0.1
     --time-mask-prob=0.1 --time-mask-len=3)
"$AVMASK" "${run[@]}" --out=a >/dev/null 2>a.err || { cat a.err; fail "uninterrupted run"; }
"$AVMASK" "${run[@]}" --out=b --debug-kill-step=7 >/dev/null 2>b.err
[ $? = 137 ] || { cat b.err; fail "expected death by SIGKILL (137)"; }
"$AVMASK" "${run[@]}" --out=b --resume >/dev/null 2>b2.err || { cat b2.err; fail "resume"; }
grep -q "resuming at step 5" b/train.log || fail "resume message"
"$PY" - <<'PY' || fail "resumed run differs"
import os, sys, h5py, numpy as np
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
a, b = rows("a/metrics.jsonl"), rows("b/metrics.jsonl")
assert a == b and [r["step"] for r in a if "valid_loss" in r] == [0, 4, 8, 12]
n = 0
for sub in ("model", "model-best"):
    for f in ("audio_encoder.h5", "tinys2i_head.h5", "title_encoder/text_encoder.h5"):
        pa, pb = h5py.File("a/%s/%s" % (sub, f), "r")["params"], h5py.File("b/%s/%s" % (sub, f), "r")["params"]
        assert set(pa) == set(pb)
        for k in pa:
            assert np.array_equal(pa[k][()], pb[k][()]), (sub, f, k)
            n += 1
fa, fb = h5py.File("a/checkpoint-last.h5", "r"), h5py.File("b/checkpoint-last.h5", "r")
for g in ("params", "optim/m", "optim/v"):
    for k in fa[g]:
        assert np.array_equal(fa[g][k][()], fb[g][k][()]), (g, k)
print("tinys2i resume: %d metric lines identical, %d model tensors and the checkpoint bitwise equal" % (len(a), n))
PY

# ---- refusals ----
expect() {   # expect NAME PATTERN command...
    local name=$1 pat=$2; shift 2
    "$@" >/dev/null 2>$name.err && fail "$name accepted"
    [ "$(grep -c . $name.err)" = 1 ] && grep -q -- "$pat" $name.err || { cat $name.err; fail "$name: message"; }
}
cp -r c/train t2 && sed -i '1s/ [a-z_]*$/ news_query/' t2/intent && ! cmp -s c/train/intent t2/intent ||
    sed -i '1s/ [a-z_]*$/ general_joke/' t2/intent
expect otherdata "another TinyS2I run (tinys2i.data_fingerprint is" "$AVMASK" "${run[@]}" --data=t2 --out=b --resume
dec=(decode --model=t/model --feats=f/test --threads=1)
sed '2s/ .*$/ /' c/test/menu5 >empty.menu
expect empty "empty.menu:2: empty menu" "$AVMASK" "${dec[@]}" --menu=empty.menu --out=x1
awk 'NR == 3 { split($0, a, "|"); $0 = $0 "|" a[2] } 1' c/test/menu5 >twice.menu
expect twice "twice.menu:3: title '.*' appears twice in the menu" "$AVMASK" "${dec[@]}" --menu=twice.menu --out=x2
{ cat c/test/menu5; echo "zzz-999-u9999 red fox|blue cat"; } >ghost.menu
n=$(wc -l <ghost.menu)
expect ghost "ghost.menu:$n: utterance 'zzz-999-u9999' is not in f/test" "$AVMASK" "${dec[@]}" --menu=ghost.menu --out=x3
expect nomenu "is a TinyS2I model: --menu=FILE" "$AVMASK" "${dec[@]}" --out=x4
expect ctconly "apply to CTC models (t/model is TinyS2I)" "$AVMASK" "${dec[@]}" --menu=c/test/menu5 \
    --intents-from=c/train --out=x4
"$AVMASK" s2i --init=none --feats=f/train --data=c/train --intents=c/intents.txt "${small[@]}" --max-steps=1 --out=s \
    >/dev/null 2>s.err || { cat s.err; fail "s2i"; }
expect notts "--menu applies to TinyS2I and CTC model dirs only" "$AVMASK" decode --model=s/model --feats=f/test \
    --menu=c/test/menu5 --out=x5
expect deferctc "--defer-below applies to TinyS2I models only (s/model is not one)" "$AVMASK" decode --model=s/model \
    --feats=f/test --defer-below=0.5 --out=x7
expect nointents "needs --intents=FILE" "$AVMASK" eval --unit=tinys2i --ref=c/test/intent --hyp=d/hyp --out=x6.json
[ ! -e x1 ] && [ ! -e x2 ] && [ ! -e x3 ] && [ ! -e x4 ] && [ ! -e x5 ] && [ ! -e x6.json ] && [ ! -e x7 ] ||
    fail "a refusal left output"
echo "test_tinys2i: ok"
