#!/usr/bin/env bash
# timeout: 240
# recipes/synth_av/run.sh with target=clusters, 2 iterations and 2 training seeds, every size
# shrunk (4 speakers, tiny models, a few steps): the codebooks exist with the right source
# (km1: mfcc of train, shared; <arm>-it1[-s2]/km: layer 3 = the first fusion layer of that
# arm's and seed's own iteration-1 checkpoint), labels of train and dev next to each, each
# pretraining config says target=clusters with the codebook hash of the labels it should
# have used, the -s2 experiments exist (pretraining, fine-tuning, probe, decode, report) and
# differ from seed 1 (--seed 2, other parameters), the iteration-1 models are probed (not
# fine-tuned), --unmasked-weight reaches iteration 2 of both arms and not iteration 1, each
# iteration trains its own step count ("--pretrain-steps=4 6"), a rerun skips every stage, and
# one with another probe lr decodes the probes again (not the fine-tuned models); a third
# iteration in the same work dir refuses the 2-iteration model as its last and, with it moved
# away, trains av-it2 and then av on av-it2's own clusters; --clean-targets=1 computes every
# codebook and label on the corpus's clean twins through 3 iterations while each iteration
# reads the noisy train.
set -u
fail() { echo "FAIL: $*"; exit 1; }
recipe=$AVMASK_ROOT/recipes/synth_av/run.sh
small=(--profile=quick --workdir="$TEST_TMP/w" --speakers=4 --utts-per-speaker=4 --heldout-speakers=2 --snr=clean
       "--pretrain-steps=4 6" --finetune-steps=3 --probe-steps=2 --probe-lr=2e-3 --valid-every=2 --batch-tokens=600 --nj=2
       --target=clusters --iterations=2 "--km-k=8 12" "--train-seeds=1 2" "--km-opts=--n-init=2 --iters=5"
       --unmasked-weight=0.5)
export AVMASK
t0=$(date +%s)
bash "$recipe" "${small[@]}" >run1.out 2>&1 || { tail -20 run1.out; fail "recipe failed"; }
echo "first run: $(( $(date +%s) - t0 )) s"
exp=w/exp/quick
"$PY" - "$exp" <<'E'
import h5py, json, os, sys
exp = sys.argv[1]
def cb(d):
    with h5py.File(os.path.join(exp, d, "codebook.h5")) as f:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
def labels(d):
    for s in ("train", "dev"):
        j = json.load(open(os.path.join(exp, d, "lab_" + s, "labels.json")))
        assert j["feats"].endswith("feats/quick/" + s), j["feats"]
        assert os.path.exists(os.path.join(exp, d, "lab_%s/labels-00000.h5" % s))
    return j["codebook_hash"]
def train(d):
    return json.load(open(os.path.join(exp, d, "config.json")))["train"]
km1 = cb("km1")
assert km1["source"] == "mfcc" and km1["k"] == 8, km1
h1 = labels("km1")
assert h1 == km1["hash"]
ck = {}
for arm in ("av", "audio"):
    for sfx, seed in (("", 1), ("-s2", 2)):
        it1, last = arm + "-it1" + sfx, arm + sfx
        t1, t2 = train(it1), train(last)
        assert t1["target"] == "clusters" and t1["codebook_hash"] == h1 and t1["seed"] == seed, (it1, t1)
        assert t1["labels"].endswith("exp/quick/km1/lab_train"), t1["labels"]
        c = cb(it1 + "/km")
        want = os.path.realpath(os.path.join(exp, it1, "checkpoint-best.h5"))
        assert c["source"] == "layer" and c["layer"] == 3 and c["k"] == 12 and c["checkpoint"] == want, (it1, c)
        with h5py.File(want) as f:
            assert c["checkpoint_crc32"] == "%08x" % f.attrs["checksum_params"]
        h2 = labels(it1 + "/km")
        assert h2 == c["hash"] != h1
        assert t2["target"] == "clusters" and t2["codebook_hash"] == h2 and t2["seed"] == seed, (last, t2)
        assert t2["labels"].endswith("exp/quick/%s/km/lab_train" % it1), t2["labels"]
        assert t1["unmasked_weight"] == 0 and t2["unmasked_weight"] == 0.5, (t1, t2)
        assert t1["max_steps"] == 4 and t2["max_steps"] == 6, (t1["max_steps"], t2["max_steps"])
        for d, n in ((it1, 4), (last, 6)):   # trained that far, not only configured
            steps = [json.loads(l)["step"] for l in open(os.path.join(exp, d, "metrics.jsonl")) if '"step"' in l]
            assert max(steps) == n, (d, max(steps))
        with h5py.File(os.path.join(exp, last, "checkpoint-best.h5")) as f:
            ck[last] = f.attrs["checksum_params"]
        print("%s: iteration 1 on km1 (%s), iteration 2 on %s/km (%s, layer 3 of its own checkpoint)" % (last, h1, it1, h2))
    assert ck[arm] != ck[arm + "-s2"], "seed 2 trained the same model as seed 1"
    assert cb(arm + "-it1/km")["hash"] != cb(arm + "-it1-s2/km")["hash"]
assert cb("av-it1/km")["checkpoint"] != cb("audio-it1/km")["checkpoint"]
print("codebooks, labels and pretraining configs: ok")
E
[ $? = 0 ] || fail "codebooks / labels / configs"
for name in scratch audio av scratch-s2 audio-s2 av-s2; do
    [ -s $exp/$name/ctc/decode_test_clean/eval.json ] || fail "$name/ctc not decoded"
    [ -s $exp/$name/probe/decode_test_clean/eval.json ] || fail "$name probe not decoded"
    grep -q "^| $name/ctc | " $exp/report/report.md || fail "$name/ctc missing from the report"
done
for name in scratch audio av; do
    grep -q -- "--seed=1 " $exp/$name/ctc/log/finetune.log || fail "$name/ctc: not fine-tuned with --seed=1"
    grep -q -- "--seed=2 " $exp/$name-s2/ctc/log/finetune.log || fail "$name-s2/ctc: not fine-tuned with --seed=2"
done
# the iteration-1 models are exported, probed and decoded (issue 12: iteration 2 vs 1), not fine-tuned
for name in av-it1 audio-it1 av-it1-s2 audio-it1-s2; do
    [ -s $exp/$name/export/config.json ] || fail "$name not exported"
    [ -s $exp/$name/probe/decode_test_clean/eval.json ] || fail "$name probe not decoded"
    [ -e $exp/$name/ctc ] && fail "$name was fine-tuned (iteration 1 is probed only)"
    grep -q "^| $name/probe | \(none\|audio-only\|audio-visual\) | [0-9.*]* |" $exp/report/report.md || fail "$name probe missing from the report"
done
grep -q -- "--seed=2 " $exp/av-it1-s2/probe/lr2e-3/log/finetune.log || fail "av-it1-s2 probe: not --seed=2"
# a rerun finds every stage complete: no output is written again
files="$exp/km1/codebook.h5 $exp/av-it1/km/codebook.h5 $exp/audio-it1-s2/km/lab_dev/labels.json $exp/av-s2/checkpoint-best.h5
       $exp/av-it1/checkpoint-best.h5 $exp/scratch-s2/ctc/model/units.txt $exp/audio-s2/ctc/decode_test_clean/eval.json"
mt=$(stat -c %Y $files | tr '\n' ' ')
sleep 1
bash "$recipe" "${small[@]}" --stop-stage=6 >run2.out 2>&1 || { tail -20 run2.out; fail "rerun failed"; }
[ "$(stat -c %Y $files | tr '\n' ' ')" = "$mt" ] || fail "the rerun redid finished stages"
# a probe lr chosen anew is decoded again (decode_score.sh records the model it decoded);
# the fine-tuned models' decodes, unchanged, are not
ctc=$exp/av/ctc/decode_test_clean/eval.json; mt=$(stat -c %Y $ctc)
grep -q "/av/probe/lr2e-3/model-best " $exp/av/probe/decode_test_clean/model || fail "probe decode record: $(cat $exp/av/probe/decode_test_clean/model)"
bash "$recipe" "${small[@]}" --probe-lr=5e-2 --stage=5 --stop-stage=6 >run3.out 2>&1 || { tail -20 run3.out; fail "rerun with --probe-lr=5e-2 failed"; }
[ "$(cat $exp/av/probe/chosen_lr)" = 5e-2 ] || fail "chosen lr: $(cat $exp/av/probe/chosen_lr)"
grep -q "/av/probe/lr5e-2/model-best " $exp/av/probe/decode_test_clean/model || fail "the probe chosen anew was not decoded again"
"$AVMASK" decode --model=$exp/av/probe/lr5e-2/model-best --feats=w/feats/quick/test_clean --out=redo >/dev/null 2>&1 || fail "decode"
cmp -s redo/hyp $exp/av/probe/decode_test_clean/hyp || fail "the probe's hypotheses are not those of lr 5e-2"
[ "$(stat -c %Y $ctc)" = "$mt" ] || fail "an unchanged model was decoded again"
# a third iteration in the same work dir: the 2-iteration run's final model "av" was trained
# on av-it1's clusters, not av-it2's, so it is refused in one line, not silently reused
three=("${small[@]}" --iterations=3 --train-seeds=1 --inits=av --stop-stage=2)
bash "$recipe" "${three[@]}" >run4.out 2>&1 && fail "a 2-iteration model was reused as iteration 3"
grep -q "exp/quick/av is complete but was trained on other labels" run4.out || { tail -5 run4.out; fail "message"; }
mv $exp/av $exp/av-two
bash "$recipe" "${three[@]}" >run5.out 2>&1 || { tail -20 run5.out; fail "3 iterations failed"; }
"$PY" - "$exp" <<'E2'
import h5py, json, os, sys
exp = sys.argv[1]
def cfg(d): return json.load(open(os.path.join(exp, d, "config.json")))["train"]
def hash_of(d): return json.load(open(os.path.join(exp, d, "lab_train", "labels.json")))["codebook_hash"]
with h5py.File(os.path.join(exp, "av-it2", "km", "codebook.h5")) as f:
    src = f.attrs["checkpoint"]; src = src.decode() if isinstance(src, bytes) else src
assert src == os.path.realpath(os.path.join(exp, "av-it2", "checkpoint-best.h5")), src
t2, t3 = cfg("av-it2"), cfg("av")
assert t2["codebook_hash"] == hash_of("av-it1/km") and t2["max_steps"] == 6, t2
assert t3["codebook_hash"] == hash_of("av-it2/km") != t2["codebook_hash"], (t3, t2)
assert t3["labels"].endswith("exp/quick/av-it2/km/lab_train") and t3["unmasked_weight"] == 0.5, t3
print("iteration 3: av on av-it2/km (%s), the clusters of layer 3 of av-it2's checkpoint" % t3["codebook_hash"])
E2
[ $? = 0 ] || fail "iteration 3 configs"
# --clean-targets=1: the corpus gets clean twins (synth --clean-twins), every codebook and
# label is computed on them (train_clean, dev_clean), the model still reads the noisy train;
# through 3 iterations (k 8, 12, 16; stages 4-7 do not depend on where the labels came from)
clean=("${small[@]}" --workdir="$TEST_TMP/w2" --clean-targets=1 --train-seeds=1 --iterations=3 "--km-k=8 12 16"
       "--pretrain-steps=4 6 6" --inits=av --stop-stage=2)
bash "$recipe" "${clean[@]}" >run6.out 2>&1 || { tail -20 run6.out; fail "--clean-targets=1 failed"; }
"$PY" - w2/exp/quick <<'E3'
import h5py, json, os, sys
exp = sys.argv[1]
def lab(d, s): return json.load(open(os.path.join(exp, d, "lab_" + s, "labels.json")))
for d in ("km1-clean", "av-it1/km", "av-it2/km"):
    for s in ("train", "dev"):
        assert lab(d, s)["feats"].endswith("feats/quick/%s_clean" % s), (d, s, lab(d, s)["feats"])
for d, k in (("av-it1", 12), ("av-it2", 16)):
    with h5py.File(os.path.join(exp, d, "km", "codebook.h5")) as f:
        assert f.attrs["source"] in ("layer", b"layer") and f["centres"].shape[0] == k, (d, f["centres"].shape)
for d, km in (("av-it1", "km1-clean"), ("av-it2", "av-it1/km"), ("av", "av-it2/km")):
    t = json.load(open(os.path.join(exp, d, "config.json")))["train"]
    assert t["codebook_hash"] == lab(km, "train")["codebook_hash"], (d, t)
    assert t["labels"].endswith("exp/quick/%s/lab_train" % km), t["labels"]
    assert t["feats"].endswith("feats/quick/train"), t["feats"]   # the noisy input
assert not os.path.exists(os.path.join(exp, "km1"))
print("clean targets: km1-clean, av-it1/km and av-it2/km on train_clean/dev_clean, all 3 iterations read feats/quick/train")
E3
[ $? = 0 ] || fail "--clean-targets=1 codebooks / labels / configs"
n=$(awk '$2 != "snr=clean"' w2/corpus/quick/train/conditions | wc -l)
[ "$n" -ge 1 ] || fail "the small corpus has no noisy training utterance: the clean targets test nothing"
bash "$recipe" "${small[@]}" --clean-targets=1 --stop-stage=2 >bad.out 2>&1 && fail "--clean-targets=1 without twins accepted"
grep -q "clean-targets=1: .* has no train_clean/ (avmask synth --clean-twins)" bad.out || fail "message: $(cat bad.out)"
bash "$recipe" "${small[@]}" --clean-targets=yes >bad.out 2>&1 && fail "--clean-targets=yes accepted"
grep -q "clean-targets=yes: expected 0 or 1" bad.out || fail "message: $(cat bad.out)"
# bad values are one clear line
bash "$recipe" "${small[@]}" --iterations=0 >bad.out 2>&1 && fail "--iterations=0 accepted"
grep -q "iterations=0: expected 1 to 9" bad.out || fail "message: $(cat bad.out)"
bash "$recipe" "${small[@]}" "--pretrain-steps=4 x" >bad.out 2>&1 && fail "--pretrain-steps='4 x' accepted"
grep -q "pretrain-steps: 'x' is not a step count" bad.out || fail "message: $(cat bad.out)"
echo "test_synth_av_clusters: ok"
