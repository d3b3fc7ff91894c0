#!/usr/bin/env bash
# timeout: 240
# avmask s2i --resume: a run killed by SIGKILL between checkpoints (hidden --debug-kill-step)
# and resumed logs the same metrics at every later step as an uninterrupted run with the same
# seed and thread count, and ends with bitwise identical model/ and model-best/ files and
# checkpoint (parameters and AdamW moments). Two variants on a small synth-slu corpus and a
# small text encoder: the sampled triplet with half the labels, dropout, time masks and an
# encoder frozen for 4 steps (killed while frozen); InfoNCE unfrozen. The text embeddings
# are recomputed at the start of the resumed run and must be the checkpoint's (their
# fingerprint). Refused with --resume, one line each and the checkpoint untouched: another
# --label-fraction, another text model, other intents; without --resume an existing
# checkpoint.
set -u
export OMP_WAIT_POLICY=PASSIVE
fail() { echo "FAIL: $*"; exit 1; }

"$AVMASK" synth-slu --out=c --speakers-per-family=3 --utts-per-speaker=8 >/dev/null 2>synth.err || { cat synth.err; fail synth-slu; }
for s in train dev; do
    "$AVMASK" extract --data=c/$s --out=f/$s --nj=2 >/dev/null 2>ex.err || { cat ex.err; fail "extract $s"; }
done
tl=(textlm --text=c/text_corpus.txt --d=32 --ffn=64 --heads=2 --layers=1 --max-steps=5 --batch-tokens=512 --threads=2)
"$AVMASK" "${tl[@]}" --out=lm >/dev/null 2>lm.err || { cat lm.err; fail textlm; }
"$AVMASK" "${tl[@]}" --out=lm2 --seed=2 >/dev/null 2>lm.err || { cat lm.err; fail "textlm seed 2"; }
run=(s2i --init=none --feats=f/train --data=c/train --intents=c/intents.txt --valid=f/dev --valid-data=c/dev
     --text-model=lm/model --d=32 --ffn=64 --heads=2 --layers-audio=1 --layers-fusion=1 --batch-tokens=300
     --max-steps=14 --lr=3e-3 --warmup=3 --log-every=1 --valid-every=4 --save-every=5 --threads=2)
for v in triplet infonce; do
    export v
    case $v in
        triplet) extra=(--xmodal-loss=triplet --label-fraction=0.5 --freeze-steps=4 --dropout=0.2 --attn-dropout=0.1
                        --time-mask-prob=0.1 --time-mask-len=3 --freq-masks=2 --freq-mask-width=4) ;;
        infonce) extra=(--xmodal-loss=infonce --dropout=0.1) ;;
    esac
    rm -rf a b
    "$AVMASK" "${run[@]}" "${extra[@]}" --out=a >/dev/null 2>a.err || { cat a.err; fail "uninterrupted run ($v)"; }
    "$AVMASK" "${run[@]}" "${extra[@]}" --out=b --debug-kill-step=7 >/dev/null 2>b.err
    rc=$?
    [ $rc = 137 ] || { cat b.err; fail "expected death by SIGKILL (137), got $rc"; }
    ls b/*.tmp 2>/dev/null && fail "a temporary checkpoint was left"
    [ ! -e b/model ] || fail "the killed run wrote model/"
    "$AVMASK" "${run[@]}" "${extra[@]}" --out=b --resume >/dev/null 2>b2.err || { cat b2.err; fail "resume ($v)"; }
    grep -q "resuming at step 5" b/train.log || fail "resume message"
    "$PY" - <<'PY' || fail "resumed run differs ($v)"
import json, os, sys, h5py, numpy as np
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
a, b = rows("a/metrics.jsonl"), rows("b/metrics.jsonl")
assert a == b, [(x, y) for x, y in zip(a, b) if x != y][:3]
assert [r["step"] for r in a if "loss" in r] == list(range(1, 15))
assert [r["step"] for r in a if "valid_loss" in r] == [0, 4, 8, 12, 14]
assert sum(r["loss_xmodal"] > 0 for r in a if "loss" in r) >= 10   # a batch of one intent has no negative
n = 0
for sub in ("model", "model-best"):
    for f in ("audio_encoder.h5", "s2i_head.h5"):
        pa, pb = h5py.File("a/%s/%s" % (sub, f), "r")["params"], h5py.File("b/%s/%s" % (sub, f), "r")["params"]
        assert set(pa) == set(pb)
        for k in pa:
            assert np.array_equal(pa[k][()], pb[k][()]), (sub, f, k)
            n += 1
    assert open("a/%s/intents.txt" % sub).read() == open("b/%s/intents.txt" % sub).read()
fa, fb = h5py.File("a/checkpoint-last.h5", "r"), h5py.File("b/checkpoint-last.h5", "r")
for g in ("params", "optim/m", "optim/v"):
    for k in fa[g]:
        assert np.array_equal(fa[g][k][()], fb[g][k][()]), (g, k)
assert "s2i.cls.weight" in fa["params"] and int(fa.attrs["step"]) == int(fb.attrs["step"]) == 14
assert fa.attrs["best_valid"] == fb.attrs["best_valid"]
print("s2i resume (%s): %d metric lines identical, %d model tensors and the checkpoint bitwise equal" % (os.environ["v"], len(a), n))
PY
done

# refusals (b: the infonce run): one line each, the checkpoint untouched
sum0=$(md5sum < b/checkpoint-last.h5)
one() {  # expected-regex, then the arguments
    local want=$1; shift
    "$AVMASK" "$@" >/dev/null 2>bad.err && fail "accepted: $*"
    [ "$(wc -l <bad.err)" = 1 ] || { cat bad.err; fail "not one line: $*"; }
    grep -Eq "$want" bad.err || { cat bad.err; fail "unclear error for $*: wanted /$want/"; }
    [ "$(md5sum < b/checkpoint-last.h5)" = "$sum0" ] || fail "checkpoint changed by: $*"
}
one 'b/checkpoint-last.h5 exists \(step 14\); pass --resume' "${run[@]}" "${extra[@]}" --out=b
one 'another S2I run \(s2i.label_fraction is 1; this run: 0.5\)' "${run[@]}" "${extra[@]}" --label-fraction=0.5 --out=b --resume
one 'another S2I run \(s2i.text_fingerprint is "[0-9a-f]{8}"; this run: "[0-9a-f]{8}"\)' "${run[@]}" "${extra[@]}" \
    --text-model=lm2/model --out=b --resume
cp -r c/train t2 && sed -i '1s/ [a-z_]*$/ news_query/' t2/intent && ! cmp -s c/train/intent t2/intent ||
    sed -i '1s/ [a-z_]*$/ general_joke/' t2/intent
one 'another S2I run \(s2i.data_fingerprint is' "${run[@]}" "${extra[@]}" --data=t2 --out=b --resume
echo "test_s2i_resume: ok"
