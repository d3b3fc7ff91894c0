# Fine-tuning steps/s and decoding real-time factor of an exported encoder vs the same model
# in PyTorch (eval/pytorch/load_avmask.py) on the same utterances, same run
# (tests/bench/bench_finetune.py drives both; prints RESULT lines for tests/bench/run.sh).
# The export is of a one-step pretraining of the MODEL config (default base: speed does not
# depend on the weights) on synthetic features; the labelled corpus has UTTS (160) synthetic
# utterances of exactly 100 tokens (4 s, 25 phones of 4 tokens), so that every batch has
# the same shape on both sides. REPEATS, STEPS: repeats and timed steps per run; THREADS:
# thread counts (1,2; auto: 1, 2, 4, ..., the cores).
set -eu
model=${MODEL:-base}
quiet() { "$@" > quiet.log 2>&1 || { cat quiet.log; exit 1; }; }   # its output only when it fails
quiet "$AVMASK_BUILD/tools/train_mkfeats" --out=pf --n=8 --min-tokens=100 --max-tokens=100
quiet "$AVMASK" pretrain --feats=pf --out=pt --model="$model" --max-steps=1 --warmup=1 --threads=1
quiet "$AVMASK" export --checkpoint=pt/checkpoint-last.h5 --out=ex
"$AVMASK_BUILD/tools/ctc_mkdata" --feats=ff --data=fd --n="${UTTS:-160}" --min-units=25 --max-units=25 \
    --seg-min=4 --seg-max=4
# the fine-tuned model that both sides decode
quiet "$AVMASK" finetune --init=ex --feats=ff --data=fd --out=ft0 --max-steps=1 --warmup=1
"$PY" "$AVMASK_ROOT/tests/bench/bench_finetune.py" --export=ex --model=ft0/model --feats=ff --data=fd --name="$model" \
    --threads="${THREADS:-1,2}"
