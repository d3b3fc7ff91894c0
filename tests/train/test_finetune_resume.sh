#!/usr/bin/env bash
# timeout: 120
# avmask finetune --resume: a run killed by SIGKILL between checkpoints (hidden
# --debug-kill-step) and resumed logs the same metrics at every later step as an
# uninterrupted run with the same seed and thread count, and ends with bitwise identical
# model/ and model-best/ parameters and checkpoint (parameters and AdamW moments). Two
# variants: SpecAugment, dropout, learned layer weights and an encoder frozen for 8 steps,
# killed while frozen (the frozen views' AdamW steps come back from the step count alone);
# and an unfrozen encoder with char units. The checkpoint is written atomically (the killed
# run leaves the last one whole, no temporary file); an existing checkpoint is refused
# without --resume, and with --resume when the encoder or the head differs, when the training
# data (utterance ids and transcripts) or the units differ from the checkpoint's (their
# fingerprints), or when the file is truncated, each with one line and nothing overwritten;
# the same units given as a file (not built from the data) resume.
set -u
export OMP_WAIT_POLICY=PASSIVE
fail() { echo "FAIL: $*"; exit 1; }
mk=$AVMASK_BUILD/tools/ctc_mkdata
$mk --feats=tr_f --data=tr_d --n=40 --n-mels=20 --seed=1 || fail ctc_mkdata
$mk --feats=va_f --data=va_d --n=12 --n-mels=20 --seed=2 || fail ctc_mkdata
run=(finetune --init=none --feats=tr_f --data=tr_d --valid=va_f --valid-data=va_d --d=32 --ffn=64 --heads=2
     --layers-audio=1 --layers-fusion=1 --batch-tokens=150 --max-steps=22 --lr=1e-2 --warmup=4 --log-every=1
     --valid-every=5 --save-every=6 --threads=2)
for v in frozen char; do
    export v
    case $v in
        frozen) extra=(--layer-weights --freeze-steps=8 --dropout=0.2 --attn-dropout=0.1 --time-mask-prob=0.1
                       --time-mask-len=3 --freq-masks=2 --freq-mask-width=4) ;;
        char) extra=(--unit=char --dropout=0.1) ;;
    esac
    rm -rf a b
    "$AVMASK" "${run[@]}" "${extra[@]}" --out=a >/dev/null 2>a.err || { cat a.err; fail "uninterrupted run ($v)"; }
    # killed after step 7 (last checkpoint: step 6, the encoder still frozen)
    "$AVMASK" "${run[@]}" "${extra[@]}" --out=b --debug-kill-step=7 >/dev/null 2>b.err
    rc=$?
    [ $rc = 137 ] || { cat b.err; fail "expected death by SIGKILL (137), got $rc"; }
    ls b/*.tmp 2>/dev/null && fail "a temporary checkpoint was left"
    "$PY" -c "import h5py; assert int(h5py.File('b/checkpoint-last.h5','r').attrs['step']) == 6" || fail "checkpoint step"
    [ "$(grep -c '"step":7,' b/metrics.jsonl)" = 1 ] || fail "the killed run did not log step 7"
    [ ! -e b/model ] || fail "the killed run wrote model/"
    "$AVMASK" "${run[@]}" "${extra[@]}" --out=b --resume >/dev/null 2>b2.err || { cat b2.err; fail "resume ($v)"; }
    grep -q "resuming at step 6" b/train.log || fail "resume message"
    "$PY" - <<'PY' || fail "resumed run differs ($v)"
import json, os, sys, h5py, numpy as np
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
a, b = rows("a/metrics.jsonl"), rows("b/metrics.jsonl")
assert a == b, [(x, y) for x, y in zip(a, b) if x != y][:3]
assert [r["step"] for r in a if "loss" in r] == list(range(1, 23))
assert [r["step"] for r in a if "valid_loss" in r] == [5, 10, 15, 20, 22]
n = 0
for sub in ("model", "model-best"):
    for f in ("audio_encoder.h5", "ctc_head.h5"):
        pa, pb = h5py.File("a/%s/%s" % (sub, f), "r")["params"], h5py.File("b/%s/%s" % (sub, f), "r")["params"]
        assert set(pa) == set(pb)
        for k in pa:
            assert np.array_equal(pa[k][()], pb[k][()]), (sub, f, k)
            n += 1
    ca, cb = json.load(open("a/%s/config.json" % sub)), json.load(open("b/%s/config.json" % sub))
    assert ca["source"] == cb["source"], (ca["source"], cb["source"])
fa, fb = h5py.File("a/checkpoint-last.h5", "r"), h5py.File("b/checkpoint-last.h5", "r")
for g in ("params", "optim/m", "optim/v"):
    for k in fa[g]:
        assert np.array_equal(fa[g][k][()], fb[g][k][()]), (g, k)
assert "ctc_head.weight" in fa["params"] and int(fa.attrs["step"]) == int(fb.attrs["step"]) == 22
assert fa.attrs["best_valid"] == fb.attrs["best_valid"] and fa.attrs.get("best_valid_tie") == fb.attrs.get("best_valid_tie")
if os.environ["v"] == "frozen":   # the encoder trained after step 8 only: its moments are there
    assert np.abs(fa["optim/m/audio_encoder.layers.0.ffn.fc1.weight"][()]).max() > 0
print("finetune resume (%s): %d metric lines identical, %d model tensors and the checkpoint bitwise equal" % (os.environ["v"], len(a), n))
PY
done

# refusals: one line each, the checkpoint untouched
sum0=$(md5sum < b/checkpoint-last.h5)
one() {  # expected-regex, then the arguments
    local want=$1; shift
    "$AVMASK" "$@" >/dev/null 2>bad.err && fail "accepted: $*"
    [ "$(wc -l <bad.err)" = 1 ] || { cat bad.err; fail "not one line: $*"; }
    grep -Eq "$want" bad.err || { cat bad.err; fail "unclear error for $*: wanted /$want/"; }
    [ "$(md5sum < b/checkpoint-last.h5)" = "$sum0" ] || fail "checkpoint changed by: $*"
}
one 'b/checkpoint-last.h5 exists \(step 22\); pass --resume' "${run[@]}" "${extra[@]}" --out=b
one 'b/checkpoint-last.h5 holds a checkpoint of another encoder \(model.d is 32; this run: 48\)' \
    "${run[@]}" "${extra[@]}" --out=b --resume --d=48
one 'b/checkpoint-last.h5: .*(different architecture|shape)' "${run[@]}" "${extra[@]}" --layer-weights --out=b --resume
# the units: the same symbols with two ids swapped
sed -e 's/^a 3$/b 3/;t' -e 's/^b 4$/a 4/' b/model/units.txt > swapped.txt
grep -q '^b 3$' swapped.txt && grep -q '^a 4$' swapped.txt || fail "swapped.txt"
fp='[0-9a-f]{8}'
one "b/checkpoint-last.h5 was trained on other units \(fingerprint $fp; this run's, of --units-file=swapped.txt: $fp\); resume with the same units" \
    "${run[@]}" "${extra[@]}" --units-file=swapped.txt --out=b --resume
# the data: another kind of unit reads other transcripts; one transcript changed (its
# symbols stay in the vocabulary)
one "b/checkpoint-last.h5 was trained on other data \(fingerprint $fp; this run's, of the utterances of tr_f with tr_d/phones: $fp\)" \
    "${run[@]}" --out=b --resume
cp -r tr_d tr_d2 && sed -i '1s/ [a-z]\+$/ aa/' tr_d2/text && ! cmp -s tr_d/text tr_d2/text || fail "tr_d2"
one "b/checkpoint-last.h5 was trained on other data \(fingerprint $fp; this run's, of the utterances of tr_f with tr_d2/text: $fp\)" \
    "${run[@]}" "${extra[@]}" --data=tr_d2 --units-file=b/model/units.txt --out=b --resume
# the same units as a file: they are what the checkpoint was trained on
cp -r b d
"$AVMASK" "${run[@]}" "${extra[@]}" --units-file=b/model/units.txt --out=d --resume >/dev/null 2>d.err ||
    { cat d.err; fail "resume with the same units as a file"; }
size=$(stat -c %s b/checkpoint-last.h5)
mkdir -p c && head -c $((size / 2)) b/checkpoint-last.h5 > c/checkpoint-last.h5
"$AVMASK" "${run[@]}" --out=c --resume >/dev/null 2>c.err && fail "resumed from a truncated checkpoint"
grep -q 'c/checkpoint-last.h5: .*\(truncated\|corrupted\|checksum\)' c.err || { cat c.err; fail "truncation not named"; }
echo "test_finetune_resume: ok"
