#!/usr/bin/env bash
# timeout: 480
# recipes/slu_synth/run.sh, profile quick as it is (a few minutes on 2 cores): every stage,
# the export fine-tuned with phone CTC (asr_init), which S2I and the CTC baseline start from,
# a TinyS2I model (its tiny encoder trained with phone CTC first) and its CTC baseline (a char
# CTC model fine-tuned from asr_init) with the test set scored with menus of 5, 20 and 100
# titles, by condition (and a report section of three rows each, a row per system by menu
# size and a table per condition key), TinyS2I's deferral threshold chosen on dev and used
# for every test menu, an S2I model and a scored test set for each arm (none, triplet) x (all labels, 10 %) x 2 seeds, and a report whose intent section holds
# accuracy by test set, the seeds' mean ± sd and the paired comparisons triplet - none at
# both fractions, broken down by SNR, voice family (slt held out), paraphrase and class;
# then a rerun from stage 4 that skips every finished arm and leaves the results as they
# were; a bad --xmodal-losses is one line.
set -u
fail() { echo "FAIL: $*"; exit 1; }
recipe=$AVMASK_ROOT/recipes/slu_synth/run.sh
export AVMASK
bash "$recipe" --workdir="$TEST_TMP/w" >run1.out 2>&1 || { tail -20 run1.out; fail "recipe failed"; }
cat run1.out
for s in 0 1 2 3 4 5 6 7; do grep -q "== stage $s:" run1.out || fail "stage $s did not run"; done
exp=w/exp/quick
[ -s $exp/tinys2i/model-best/tinys2i.json ] || fail "TinyS2I model"
grep -q -- "--init=none .*--d=64 .*--unit=phone .*--max-steps=20" $exp/tinys2i_asr_init/log/finetune.log &&
    grep -q -- "tinys2i --init=exp/quick/tinys2i_asr_init/model-best " $exp/tinys2i/log/tinys2i.log ||
    fail "TinyS2I's encoder not trained with phone CTC first"
for n in 5 20 100; do
    grep -q "\"task\":\"tinys2i\".*\"menu\":\"[^\"]*/test/menu$n\"" $exp/tinys2i/decode_test_menu$n/eval.json ||
        fail "TinyS2I result of menu$n"
    grep -q "tinys2i, menus of $n: [0-9.]* % top-1 title" run1.out || fail "TinyS2I line of menu$n"
    grep -q "\"task\":\"tinys2i\".*\"decoder\":\"ctc+menu\",\"menu\":\"[^\"]*/test/menu$n\"" \
        $exp/ctc_menu/decode_test_menu$n/eval.json || fail "CTC baseline result of menu$n"
    grep -q "ctc_menu, menus of $n: [0-9.]* % top-1 title" run1.out || fail "CTC baseline line of menu$n"
done
grep -q -- "--init=exp/quick/pretrain/export .*--unit=phone .*--max-steps=40" $exp/asr_init/log/finetune.log &&
    [ -s $exp/asr_init/model-best/config.json ] || fail "asr_init: the export not fine-tuned with phone CTC"
grep -q "asr_init: dev PER [0-9.]* % (model-best)" run1.out || fail "asr_init line"
grep -q -- "--init=exp/quick/asr_init/model-best .*--unit=char" $exp/ctc_menu/log/finetune.log ||
    fail "CTC baseline not fine-tuned on characters from asr_init"
grep -q "ctc_menu: test %ERR [0-9.]* (WER of its transcripts)" run1.out || fail "CTC baseline WER line"
thr=$(sed -n 's/^   tinys2i: deferral threshold \([0-9.]*\) (highest decisions accuracy on .*dev)$/\1/p' run1.out)
[ -n "$thr" ] && [ -s $exp/tinys2i/defer_dev/sweep.json ] || fail "TinyS2I deferral threshold chosen on dev"
"$PY" - "$exp" "$thr" <<'E' || fail "TinyS2I deferral and conditions"
import json, sys
exp, thr = sys.argv[1], float(sys.argv[2])
sw = json.load(open(exp + "/tinys2i/defer_dev/sweep.json"))
assert sw["hyp"].endswith("defer_dev/hyp") and "/dev/" in sw["ref"] and abs(sw["defer_best"] - thr) < 1e-9, sw
for n in (5, 20, 100):
    e = json.load(open("%s/tinys2i/decode_test_menu%d/eval.json" % (exp, n)))
    assert abs(e["decode"]["defer_below"] - thr) < 1e-9 and e["by"].endswith("/test/conditions"), e["decode"]
    assert {"snr", "family", "paraphrase", "class"} <= set(e["conditions"]), e["conditions"].keys()
    c = json.load(open("%s/ctc_menu/decode_test_menu%d/eval.json" % (exp, n)))
    assert "defer_below" not in c["decode"] and c["defer_sweep"] is None and "snr" in c["conditions"]
E
report=$(sed -n 's/^report: \(.*\) (and report.html)$/\1/p' run1.out)
[ "$report" = "$TEST_TMP/$exp/report/report.md" ] || fail "report path printed: '$report'"
n=0
for x in none triplet; do
    for f in "" -l10; do
        for s in "" -s2; do
            d=$exp/$x$f$s/s2i
            [ -s $d/model-best/s2i_head.h5 ] && [ -s $d/decode_test/eval.json ] || fail "$d: model or result missing"
            grep -q -- "--xmodal-loss=$x" $d/log/s2i.log || fail "$d: not --xmodal-loss=$x"
            n=$((n + 1))
        done
    done
done
[ $n = 8 ] || fail "arms"
grep -q -- "--label-fraction=0.1" $exp/triplet-l10-s2/s2i/log/s2i.log || fail "the 10 % arm"
grep -q -- "--init=exp/quick/asr_init/model-best" $exp/none/s2i/log/s2i.log || fail "S2I not on asr_init"
"$PY" - "$exp" <<'E' || fail "report"
import sys
exp = sys.argv[1]
md = open(exp + "/report/report.md").read()
for s in ("## Intent accuracy (%) by test set", "## Intent accuracy (%), training seeds: mean ± standard deviation",
          "## Intent accuracy, paired comparisons", "## Intent results by condition", "## Most frequent intent confusions"):
    assert s in md, s
assert "## Error rate (%) by test set" not in md      # no CTC result in this experiment
tiny = md.split("## TinyS2I")[1].split("##")[0]
rows = tiny.splitlines()
assert sum(l.startswith("| TinyS2I | tinys2i/decode\\_test\\_menu") for l in rows) == 3, tiny   # Markdown-escaped
assert sum(l.startswith("| CTC + edit distance | ctc\\_menu/decode\\_test\\_menu") for l in rows) == 3, tiny
sizes = [l for l in rows if l.startswith("| system | model | titles, menu 5 | titles, menu 20 | titles, menu 100 |")]
assert len(sizes) == 1, tiny
assert any(l.startswith("| TinyS2I | tinys2i | ") for l in rows) and any(l.startswith("| CTC + edit distance | ctc\\_menu | ") for l in rows), tiny
by = tiny.split("By snr: decisions right / title match")[1].split("\n\n")[1].splitlines()
assert by[0].startswith("| system | model | menu | 0 | 5 | 10 | clean |") and len(by) == 2 + 6, by
seeds = md.split("training seeds: mean")[1].split("##")[0]
for col in ("snr=0", "snr=clean", "family=slt", "paraphrase=unseen", "class=title"):
    assert "| " + col + " |" in seeds.splitlines()[4], col
rows = [l.split("\t") for l in open(exp + "/report/compare_intent.tsv")][1:]
pairs = {(r[0], r[1]) for r in rows}
assert pairs == {("triplet/s2i", "none/s2i"), ("triplet-l10/s2i", "none-l10/s2i")}, pairs
assert all(r[3] == "2" and int(r[4]) > 0 for r in rows)
print("report: intent section with %d comparison rows" % len(rows))
E
sum1=$(cat $exp/*/s2i/decode_test/eval.json $exp/{tinys2i,ctc_menu}/decode_test_menu*/eval.json | md5sum)
bash "$recipe" --workdir="$TEST_TMP/w" --stage=4 --stop-stage=6 >run2.out 2>&1 || { tail -20 run2.out; fail "rerun"; }
[ "$(cat $exp/*/s2i/decode_test/eval.json $exp/{tinys2i,ctc_menu}/decode_test_menu*/eval.json | md5sum)" = "$sum1" ] ||
    fail "the rerun changed the results"
[ "$(grep -c 'dev accuracy' run2.out)" = 8 ] || fail "rerun arms"
# each arm's line: its model-best's dev accuracy (100 - the lowest valid_err), not the last validation's
best=$(sed -n 's/.*"valid_err":\([0-9.]*\).*/\1/p' $exp/none/s2i/metrics.jsonl | sort -g | head -1)
grep -q "none/s2i: dev accuracy of model-best $(awk -v e="$best" 'BEGIN { printf "%.1f", 100 - sprintf("%.1f", e) }') %" run1.out ||
    fail "none/s2i: dev accuracy line is not model-best's (lowest valid_err $best): $(grep 'none/s2i: dev' run1.out)"
bash "$recipe" --workdir="$TEST_TMP/w" --xmodal-losses="none cosine" >bad.out 2>&1 && fail "bad loss accepted"
grep -q "xmodal-losses: 'cosine' is not none, l2, triplet or infonce" bad.out || { cat bad.out; fail "bad loss message"; }
echo "test_slu_synth: ok"
