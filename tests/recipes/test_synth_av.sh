#!/usr/bin/env bash
# timeout: 240
# recipes/synth_av/run.sh, the recipe behind `make demo`, end to end with every size shrunk
# (options override the profile's variables): all 8 stages, the report with its three
# initialisations, then a rerun that skips every finished stage, and --stage=N restarting.
set -u
fail() { echo "FAIL: $*"; exit 1; }
recipe=$AVMASK_ROOT/recipes/synth_av/run.sh
small=(--profile=quick --workdir="$TEST_TMP/w" --speakers=4 --utts-per-speaker=4 --heldout-speakers=2
       --snr=clean,5 --pretrain-steps=4 --finetune-steps=4 --probe-steps=3 "--probe-lr=2e-3 5e-3" --valid-every=2
       --batch-tokens=600 --nj=2)
export AVMASK
AVMASK="$AVMASK" bash "$recipe" "${small[@]}" >run1.out 2>&1 || { tail -20 run1.out; fail "recipe failed"; }
cat run1.out
for s in 0 1 2 3 4 5 6 7; do grep -q "== stage $s:" run1.out || fail "stage $s did not run"; done
exp=w/exp/quick
report=$(sed -n 's/^report: \(.*\) (and report.html)$/\1/p' run1.out)
[ "$report" = "$TEST_TMP/$exp/report/report.md" ] || fail "report path printed: '$report'"
for name in scratch audio av; do
    for set in test_clean test_snr5; do
        [ -s $exp/$name/ctc/decode_$set/eval.json ] || fail "no eval.json for $name on $set"
    done
done
[ "$(grep -c '^| \(scratch\|audio\|av\) | [a-z-]* | [0-9-]* | ctc |.*| test\\_' $exp/report/report.md)" = 6 ] || fail "report table: not 3 initialisations x 2 test sets"
grep -q '"kind"\|audio-visual' $exp/report/report.md || fail "report does not name the pretraining kinds"
# a frozen probe of each encoder (the random one for scratch) at each lr of --probe-lr; the
# one with the lowest dev PER (best valid_err, ties by valid_loss, then list order) is
# decoded and reported under its lr, the other is not decoded
for name in scratch audio av; do
    p=$exp/$name/probe
    for lr in 2e-3 5e-3; do
        grep -q -- "--lr=$lr --freeze-steps=all --layer-weights" $p/lr$lr/log/finetune.log || fail "$p/lr$lr not a frozen probe at lr $lr"
        grep -q '"layer_norm":1}' $p/lr$lr/model/asr.json || fail "$p/lr$lr: the states are not layer-normed"
    done
    want=$("$PY" - $p 2e-3 5e-3 <<'E'
import json, sys
best = []
for lr in sys.argv[2:]:
    v = [json.loads(l) for l in open(f"{sys.argv[1]}/lr{lr}/metrics.jsonl") if "valid_err" in l]
    best.append((min((l["valid_err"], l["valid_loss"]) for l in v), lr))
print(min(best, key=lambda b: b[0])[1])    # min keeps the first of equal keys: list order
E
)
    chosen=$(cat $p/chosen_lr)
    [ "$chosen" = "$want" ] || fail "$name: chosen lr '$chosen', the lowest dev PER is at $want"
    [ "$(wc -l < $p/dev_per)" = 2 ] || fail "$p/dev_per: not one line per lr"
    grep -q "^   $name/probe: lr $chosen chosen (dev PER " run1.out || fail "$name: the chosen lr is not shown"
    other=2e-3; [ $chosen = 2e-3 ] && other=5e-3
    [ -s $p/decode_test_clean/eval.json ] || fail "no probe eval for $name (probe/decode_test_clean)"
    grep -q -- "--model=[^ ]*/$name/probe/lr$chosen/model" $p/decode_test_clean/log/decode.log ||
        fail "$name: the decoded probe is not lr$chosen's"
    [ -e $p/lr$chosen/decode_test_clean ] || [ -e $p/lr$other/decode_test_clean ] && fail "$name: a probe decoded inside its lr dir"
    grep -q "^| $name/probe | \(none\|audio-only\|audio-visual\) | [0-9.*]* |" $exp/report/report.md || fail "$name/probe missing from the report"
    grep -q "^| $name/probe | \*\*$chosen\*\* | [0-9.]* | [0-9.]* | [0-9]* |$" $exp/report/report.md || fail "report: $name's chosen lr not marked"
    grep -q "^| $name/probe | $other | [0-9.]* | [0-9.]* | [0-9]* |$" $exp/report/report.md || fail "report: $name's other lr not listed"
done
# the video-gain diagnostics of the AV pretraining (and the audio-only loss beside them)
grep -q '^| av | audio-visual | 4 | [0-9.]* | [0-9.]* | [0-9.]* | [-+][0-9.]* % | [-+][0-9.]* % |$' $exp/report/report.md ||
    fail "report: no video-gain row for av"
grep -q '^| audio | audio-only | 4 | [0-9.]* | - | - | - | - |$' $exp/report/report.md || fail "report: no audio-only row in the video table"
# a rerun finds every output complete: no command runs again
mt=$(stat -c %Y $exp/av/checkpoint-best.h5 $exp/scratch/ctc/model/units.txt | tr '\n' ' ')
AVMASK="$AVMASK" bash "$recipe" "${small[@]}" >run2.out 2>&1 || { tail -20 run2.out; fail "rerun failed"; }
[ "$(stat -c %Y $exp/av/checkpoint-best.h5 $exp/scratch/ctc/model/units.txt | tr '\n' ' ')" = "$mt" ] ||
    fail "the rerun redid finished stages"
# --stage=6 with the decodes removed redoes only those
rm -rf $exp/av/ctc/decode_test_snr5
AVMASK="$AVMASK" bash "$recipe" "${small[@]}" --stage=6 >run3.out 2>&1 || { tail -20 run3.out; fail "--stage=6 failed"; }
grep -q "== stage 5" run3.out && fail "--stage=6 ran stage 5"
[ -s $exp/av/ctc/decode_test_snr5/eval.json ] || fail "--stage=6 did not redo the missing decode"
grep -q '^| model | pretraining | test\\_\(clean\|snr5\) | test\\_\(clean\|snr5\) |$' $exp/report/report.md ||
    fail "report: no headline table of the models on the test sets"
# an investigation variant: extra pretraining and fine-tuning options under tagged dirs,
# only the initialisations asked for, in the same report
AVMASK="$AVMASK" bash "$recipe" "${small[@]}" --stage=2 --tag=-m20 --pretrain-opts="--mask-prob-audio=0.2 --mask-len-audio=4" \
    --ft-tag=-lw --finetune-opts="--layer-weights" --inits="scratch av" >run4.out 2>&1 || { tail -20 run4.out; fail "variant run failed"; }
grep -q -- '--mask-prob-audio=0.2 --mask-len-audio=4' $exp/av-m20/log/pretrain.log || fail "--pretrain-opts not passed on"
grep -q -- '--layer-weights' $exp/av-m20/ctc-lw/log/finetune.log || fail "--finetune-opts not passed on"
[ -e $exp/audio-m20 ] && fail "--inits without audio still pretrained audio-only"
for m in av-m20/ctc-lw scratch/ctc-lw; do
    [ -s $exp/$m/decode_test_clean/eval.json ] || fail "variant $m not decoded"
    grep -q "^| $m | " $exp/report/report.md || fail "variant $m missing from the report"
done
grep -q "^| av/ctc |" $exp/report/report.md || fail "the default models left the report"
# noisy input, clean target: the corpus's noise/ set is extracted and mixed into pretraining
[ -s w/feats/quick/noise/index.tsv ] || fail "noise set not extracted"
AVMASK="$AVMASK" bash "$recipe" "${small[@]}" --stage=2 --stop-stage=2 --tag=-noise --noise-prob=0.5 --inits=av \
    >run5.out 2>&1 || { tail -20 run5.out; fail "noise variant failed"; }
grep -q -- "--noise-feats=feats/quick/noise --noise-prob=0.5 --noise-snr=-5,20" $exp/av-noise/log/pretrain.log ||
    fail "noise options not passed on"
"$PY" -c "import json; t = json.load(open('$exp/av-noise/config.json'))['train']; assert t['noise_prob'] == 0.5, t"
# frame-level probes beside the CTC ones: probe-frame/, trained on the CTM's phones, scored
# token by token, in the report with their notes; the CTC probes are left as they were
mt=$(stat -c %Y $exp/av/probe/chosen_lr)
AVMASK="$AVMASK" bash "$recipe" "${small[@]}" --stage=5 --probe-objective=frame >run6.out 2>&1 ||
    { tail -20 run6.out; fail "frame probes failed"; }
[ "$(stat -c %Y $exp/av/probe/chosen_lr)" = "$mt" ] || fail "the frame probes touched the CTC probes"
for name in scratch audio av; do
    p=$exp/$name/probe-frame
    lr=$(cat $p/chosen_lr) || fail "$name: no frame probe chosen"
    grep -q "^   $name/probe-frame: lr $lr chosen (dev frame error " run6.out || fail "$name: the chosen lr is not shown"
    grep -q '"objective":"frame"' $p/lr$lr/model/asr.json || fail "$name: not a frame model"
    grep -q -- "--objective=frame --ali=corpus/quick/train\(_l[0-9]*\)\?/phones.ctm --valid-ali=corpus/quick/dev/phones.ctm" \
        $p/lr$lr/log/finetune.log || fail "$name: frame options not passed on"
    "$PY" - $p/decode_test_clean w/corpus/quick/test_clean/phones.ctm <<'E' || fail "$name: frame scoring"
import json, sys
ev = json.load(open(sys.argv[1] + "/eval.json"))
hyp = [l.split() for l in open(sys.argv[1] + "/hyp")]
assert ev["ref"].endswith("phones.ctm"), ev["ref"]
assert ev["overall"]["N"] == sum(len(h) - 1 for h in hyp) and ev["overall"]["D"] == ev["overall"]["I"] == 0, ev["overall"]
E
    grep -q "^| $name/probe-frame | " $exp/report/report.md || fail "$name/probe-frame missing from the report"
done
grep -q "The probes are frame-level" $exp/report/report.md || fail "report: the frame probes are not named"
# a bad option is one clear line
bash "$recipe" --profil=quick >bad.out 2>&1 && fail "unknown option accepted"
grep -q "unknown option --profil" bad.out || fail "unknown option message: $(cat bad.out)"
echo "test_synth_av: ok"
