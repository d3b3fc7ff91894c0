# timeout: 120
# avmask finetune + decode + eval on a small labelled synthetic corpus (tests/tools/ctc_mkdata:
# each phone is a class template plus noise): a fresh tiny encoder + CTC head must learn it
# in 40 steps (test PER < 20%, a quarter of a near-untrained model's at most), the loss
# falls, validation lines are written; char units decode to words; learned layer weights
# train; dropout and SpecAugment masks are reproducible; bad inputs fail clearly.
set -eu
mk="$AVMASK_BUILD/tools/ctc_mkdata"
"$mk" --feats=tr_f --data=tr_d --n=48 --n-mels=20 --seed=1
"$mk" --feats=te_f --data=te_d --n=16 --n-mels=20 --seed=2
common=(--init=none --feats=tr_f --data=tr_d --d=32 --ffn=64 --heads=2 --layers-audio=1 --layers-fusion=1
        --warmup=5 --batch-tokens=400 --threads=1)
per() {   # model-dir decode-dir -> prints the overall %ERR
    "$AVMASK" decode --model="$1" --feats=te_f --out="$2" > /dev/null
    "$AVMASK" eval --ref=te_d/phones --hyp="$2/hyp" --by=te_d/conditions > /dev/null
    "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['overall']['err'])" "$2/eval.json"
}
"$AVMASK" finetune "${common[@]}" --out=ft0 --max-steps=1 --lr=1e-9 > /dev/null
base=$(per ft0/model ft0/decode_test)
"$AVMASK" finetune "${common[@]}" --out=ft --max-steps=40 --lr=1e-2 --log-every=5 \
    --valid=te_f --valid-data=te_d --valid-every=20 > /dev/null
err=$(per ft/model ft/decode_test)
echo "PER untrained $base%, after 40 steps $err%"
"$PY" - "$base" "$err" ft/metrics.jsonl <<'E'
import json, sys
base, err = float(sys.argv[1]), float(sys.argv[2])
assert base > 60, f"untrained PER {base} should be high"
assert err < 20 and err < base / 4, f"PER after fine-tuning {err} (untrained {base})"
lines = [json.loads(l) for l in open(sys.argv[3])]
train = [l for l in lines if "loss" in l]
valid = [l for l in lines if "valid_loss" in l]
assert [l["step"] for l in train] == list(range(5, 41, 5)), train
assert [l["step"] for l in valid] == [20, 40], valid
assert train[-1]["loss"] < train[0]["loss"] / 3, (train[0], train[-1])
assert valid[-1]["valid_err"] < 20 and all(l["impossible"] == 0 for l in train)
E
# model-best: the validation point with the lowest error rate (steps 20 and 40 here)
"$PY" - ft/metrics.jsonl ft/model-best/config.json ft/model/config.json <<'E'
import json, sys
valid = [json.loads(l) for l in open(sys.argv[1]) if "valid_loss" in l]
best = min(valid, key=lambda l: (l["valid_err"], l["valid_loss"]))
b, last = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
steps = lambda c: c["source"]["step"]
assert steps(b) == best["step"] and steps(last) == 40, (steps(b), best, steps(last))
E
grep -q '^<blank> 0$' ft/model/units.txt && grep -q '^<unk> 1$' ft/model/units.txt
test "$(wc -l < ft/model/units.txt)" = 10        # blank, unk, p0..p7
test "$(wc -l < ft/decode_test/hyp)" = 16

# character units from text: hypotheses are words of letters
"$AVMASK" finetune "${common[@]}" --out=ftc --unit=char --max-steps=3 --lr=1e-2 > /dev/null
grep -q '^<space> 2$' ftc/model/units.txt
"$AVMASK" decode --model=ftc/model --feats=te_f --out=ftc/dec > /dev/null
test "$(grep -cvE '^utt[0-9]+( [a-h]+)*$' ftc/dec/hyp)" = 0

# SUPERB-style learned layer weights over the 4 encoder states (embeddings, 1 audio layer,
# 1 fusion layer, final output) with a frozen encoder: the weights train, decode uses them;
# each state is layer-normed by default (tests/eval/test_probe.sh checks the mix itself)
"$AVMASK" finetune "${common[@]}" --out=ftw --layer-weights --freeze-steps=5 --max-steps=5 --lr=1e-2 > /dev/null
grep -q '"layer_weights":4,"layer_norm":1}' ftw/model/asr.json
grep -q '"layer_weights":0,"layer_norm":0}' ft/model/asr.json
"$AVMASK" decode --model=ftw/model --feats=te_f --out=ftw/dec > /dev/null
test "$(wc -l < ftw/dec/hyp)" = 16
"$PY" -c "
import h5py, numpy as np
w = h5py.File('ftw/model/ctc_head.h5', 'r')['params/ctc_head.layer_weights'][()]
assert w.shape == (4,) and np.abs(w).max() > 1e-3, w
"

# regularisation (dropout, SpecAugment masks): reproducible for a seed, and it changes training
reg=(--dropout=0.2 --attn-dropout=0.1 --time-mask-prob=0.1 --time-mask-len=3 --freq-masks=2 --freq-mask-width=4
     --max-steps=10 --lr=1e-2)
"$AVMASK" finetune "${common[@]}" "${reg[@]}" --out=ftr1 2> ftr1.err > /dev/null
"$AVMASK" finetune "${common[@]}" "${reg[@]}" --out=ftr2 2> /dev/null > /dev/null
"$AVMASK" finetune "${common[@]}" --dropout=0 --attn-dropout=0 --max-steps=10 --lr=1e-2 --out=ftr0 > /dev/null 2>&1
grep -q 'dropout 0.2, attention dropout 0.1, time masks p=0.1 L=3, 2 frequency masks <= 4 bins' ftr1/train.log
losses() { sed 's/,"seconds":[0-9.]*//' "$1/metrics.jsonl"; }
test "$(losses ftr1)" = "$(losses ftr2)"
test "$(losses ftr1)" != "$(losses ftr0)"

# failures: one line naming the problem
fails() { if "$@" 2>err >/dev/null; then echo "should have failed: $*"; exit 1; fi; cat err; test "$(wc -l <err)" = 1; }
mkdir bad_d && grep -v utt00003 tr_d/phones > bad_d/phones
fails "$AVMASK" finetune "${common[@]}" --data=bad_d --out=x --max-steps=1
grep -q 'bad_d/phones: 1 utterances of tr_f have no transcript (first: utt00003)' err
printf '<blank> 0\n<unk> 1\np0 2\np1 3\n' > units_small.txt
fails "$AVMASK" finetune "${common[@]}" --units-file=units_small.txt --out=x --max-steps=1
grep -q "unit 'p[2-7]' is not in the units" err
fails "$AVMASK" finetune "${common[@]}" --out=x --max-steps=1 --dropout=1.5
grep -q 'dropout' err
fails "$AVMASK" finetune "${common[@]}" --out=x --max-steps=1 --time-mask-prob=2
grep -q 'time-mask-prob' err
fails "$AVMASK" decode --model=nomodel --feats=te_f --out=x
grep -q 'nomodel' err
fails "$AVMASK" finetune "${common[@]}" --out=x --max-steps=1 --weight-decay=-1
grep -q 'weight-decay' err
fails "$AVMASK" finetune "${common[@]}" --out=x --max-steps=1 --clip=-1
grep -q 'clip' err
# integers in asr.json are range-checked before conversion (a cast of 1e300 is undefined)
for kv in '"vocab":1e300' '"vocab":2.5' '"layer_weights":1e300' '"layer_weights":-4' '"layer_norm":2' '"layer_norm":0.5'; do
    rm -rf badm && cp -r ft/model badm
    key=${kv%%:*}
    sed -i "s/$key:[0-9]*/$kv/" badm/asr.json
    grep -qF "$kv" badm/asr.json
    fails "$AVMASK" decode --model=badm --feats=te_f --out=x
    grep -q "badm/asr.json: '${key//\"/}' is .*, not an integer in" err
done
# a non-finite gradient stops the run with one line (and, under the sanitizers, no leak)
if "$AVMASK" finetune "${common[@]}" --out=ftn --max-steps=5 --debug-nan-step=2 2>err >/dev/null; then
    echo "a NaN gradient did not stop finetune"; exit 1
fi
test "$(grep -c '^avmask: ' err)" = 1
grep -q '^avmask: finetune: step 2: the gradient norm is nan; stopped (last good checkpoint ftn/checkpoint-last.h5: none written yet)' err
if grep -q 'Sanitizer' err; then cat err; exit 1; fi     # the SAN build: no leak on this exit
# a diverging run stops on its NaN loss with the reason (it said "unknown error")
if "$AVMASK" finetune "${common[@]}" --out=ftd --max-steps=20 --lr=1e30 --clip=0 2>err >/dev/null; then
    echo "a NaN loss did not stop finetune"; exit 1
fi
grep -q '^avmask: finetune: step [0-9]*: the CTC loss is NaN' err || { cat err; exit 1; }
echo ok
