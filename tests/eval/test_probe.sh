# timeout: 120
# The SUPERB-style probe's layer-weighted mix (train/asr.h): finetune --layer-weights writes
# "layer_norm":1 by default and 0 with --layer-norm=0; the C logits of a fine-tuned model
# dir (tests/tools/asr_forward) match the PyTorch rebuild (tests/ref/asr_check.py: the
# encoder of eval/pytorch/load_avmask.py, F.layer_norm per state, the softmax mix, the head
# of ctc_head.h5) within 1e-4 relative, for layer_norm 1 and 0 with non-uniform layer
# weights and for a model without layer weights; a model whose asr.json lacks the key reads
# as layer_norm 0 (bit-identical logits and the same hypotheses as with "layer_norm":0),
# flipping the key to 1 changes the logits; bad values fail with one line naming the file.
set -eu
mk="$AVMASK_BUILD/tools/ctc_mkdata" fw="$AVMASK_BUILD/tools/asr_forward"
"$mk" --feats=tr_f --data=tr_d --n=24 --n-mels=20 --seed=1
"$mk" --feats=te_f --data=te_d --n=8 --n-mels=20 --seed=2
common=(--init=none --feats=tr_f --data=tr_d --d=32 --ffn=64 --heads=2 --layers-audio=2 --layers-fusion=1
        --warmup=2 --batch-tokens=400 --threads=1 --max-steps=4 --lr=1e-2)
probe=(--layer-weights --freeze-steps=all)
"$AVMASK" finetune "${common[@]}" "${probe[@]}" --out=ln1 > /dev/null
"$AVMASK" finetune "${common[@]}" "${probe[@]}" --layer-norm=0 --out=ln0 > /dev/null
"$AVMASK" finetune "${common[@]}" --out=plain > /dev/null
grep -q '"layer_weights":5,"layer_norm":1}' ln1/model/asr.json
grep -q '"layer_weights":5,"layer_norm":0}' ln0/model/asr.json
grep -q '"layer_weights":0,"layer_norm":0}' plain/model/asr.json
grep -q 'learned weights over 5 encoder states, each layer-normed' ln1/train.log
grep -q 'learned weights over 5 encoder states, not normalised' ln0/train.log

# a probe runs the frozen encoder without dropout (SUPERB's eval mode) unless asked for
grep -q 'finetune: dropout 0, attention dropout 0,' ln1/train.log
grep -q 'finetune: dropout 0.1, attention dropout 0.1,' plain/train.log
"$AVMASK" finetune "${common[@]}" "${probe[@]}" --dropout=0 --attn-dropout=0 --out=d0 > /dev/null
"$AVMASK" finetune "${common[@]}" "${probe[@]}" --dropout=0.1 --attn-dropout=0.1 --out=d1 > /dev/null
losses() { sed 's/,"seconds":[0-9.]*//' "$1/metrics.jsonl"; }
test "$(losses ln1)" = "$(losses d0)"
test "$(losses ln1)" != "$(losses d1)"

# non-uniform layer weights (a few frozen steps leave them near 0), so the mix matters
for m in ln1 ln0; do
    cp -r $m/model $m-w
    "$PY" -c "
import h5py, sys
with h5py.File(sys.argv[1], 'r+') as f:
    f['params/ctc_head.layer_weights'][...] = [-1.0, 0.5, 2.0, -0.3, 1.0]
" $m-w/ctc_head.h5
    "$PY" "$AVMASK_ROOT/tests/ref/h5_reseal.py" $m-w/ctc_head.h5   # an edit on purpose: checksums rewritten
done
for m in ln1-w ln0-w plain/model; do
    "$fw" --model=$m --out=fw-${m%%/*} --B=3 --T=24 --threads=1
    "$PY" "$AVMASK_ROOT/tests/ref/asr_check.py" $m fw-${m%%/*}
done
# the normalised and the unnormalised mix of the same weights differ
cp -r ln0-w flip && sed -i 's/"layer_norm":0/"layer_norm":1/' flip/asr.json
"$fw" --model=flip --out=fw-flip --B=3 --T=24 --threads=1
"$PY" "$AVMASK_ROOT/tests/ref/asr_check.py" flip fw-flip
if cmp -s fw-flip/logits.f32 fw-ln0-w/logits.f32; then echo "layer_norm 1 gave the logits of layer_norm 0"; exit 1; fi

# asr.json written before the key existed: read as layer_norm 0, decoded exactly as before
cp -r ln0-w nokey && sed -i 's/,"layer_norm":0//' nokey/asr.json
grep -q '"layer_weights":5}' nokey/asr.json
"$fw" --model=nokey --out=fw-nokey --B=3 --T=24 --threads=1
cmp fw-nokey/logits.f32 fw-ln0-w/logits.f32
"$AVMASK" decode --model=nokey --feats=te_f --out=dec-nokey > /dev/null
"$AVMASK" decode --model=ln0-w --feats=te_f --out=dec-ln0 > /dev/null
test "$(wc -l < dec-ln0/hyp)" = 8
cmp dec-nokey/hyp dec-ln0/hyp

# failures: one line naming the problem
fails() { if "$@" 2>err >/dev/null; then echo "should have failed: $*"; exit 1; fi; cat err; test "$(wc -l <err)" = 1; }
cp -r plain/model lnbad && sed -i 's/"layer_norm":0/"layer_norm":1/' lnbad/asr.json
fails "$AVMASK" decode --model=lnbad --feats=te_f --out=x
grep -q 'lnbad/asr.json: layer_norm 1 without layer weights' err
fails "$AVMASK" finetune "${common[@]}" --layer-norm=1 --out=x
grep -q 'finetune: --layer-norm applies only with --layer-weights' err
fails "$AVMASK" finetune "${common[@]}" "${probe[@]}" --layer-norm=2 --out=x
grep -q 'layer-norm' err
echo ok
