#!/usr/bin/env bash
# Greedy CTC decoding of a test set and its error rates (avmask decode, avmask eval):
#   decode_score.sh [--threads N] [--by FILE] [--cer true] [--unit intent|frame] TRAIN_DIR FEATS REF OUT
# decodes FEATS with TRAIN_DIR/model-best (the lowest validation error: every recipe
# fine-tunes with validation), or TRAIN_DIR/model (the last step) when there was no
# validation, into OUT/hyp; scores it against REF (text or phones) into OUT/eval.json,
# eval.txt and eval.utts.tsv (--by: error rates per condition of FILE), and with --cer true
# also the character error rate (OUT/cer.json). With --unit intent, TRAIN_DIR is an avmask s2i
# run and REF a data dir's intent file: OUT/hyp holds intents, OUT/eval.json their accuracy and
# confusion matrix (avmask eval --unit=intent). With --unit frame, TRAIN_DIR is a frame-level
# probe (finetune --objective=frame) and REF a phones.ctm: the frame error rate. Logs in OUT/log/.
# OUT/model records the model decoded (its path and a checksum of its files): a finished OUT
# is skipped only if it decoded the same model, so a probe whose lr is chosen anew, or a
# model trained further, is decoded again (so is an OUT without the record, e.g. from an
# older avmask).
set -euo pipefail
threads=2
by=
cer=false
unit=token   # token (any transcripts), intent or frame
help_message="usage: $0 [--threads N] [--by FILE] [--cer true] [--unit intent|frame] TRAIN_DIR FEATS REF OUT"
. "$(dirname "$0")/../common/parse_options.sh"
. "$(dirname "$0")/../common/path.sh"
[ $# = 4 ] || { echo "$help_message" >&2; exit 2; }
train=$1 feats=$2 ref=$3 out=$4
model=$train/model-best
[ -d "$model" ] || model=$train/model
[ -d "$model" ] || { echo "$0: $train: no model-best/ or model/ to decode" >&2; exit 1; }
record="$(cd "$model" && pwd -P) $(cat "$model"/* | cksum | cut -d' ' -f1)"
if [ "$(cat "$out/model" 2>/dev/null)" != "$record" ]; then
    rm -f "$out/eval.json" "$out/eval.utts.tsv" "$out/cer.json" "$out/model"   # another model's results
elif [ -f "$out/eval.json" ] && [ -f "$out/eval.utts.tsv" ] && { [ $cer = false ] || [ -f "$out/cer.json" ]; }; then
    exit 0
fi
[ -f "$out/eval.json" ] || run_logged "$out/log/decode.log" "$avmask" decode --model="$model" \
    --feats="$feats" --out="$out" --threads=$threads
run_logged "$out/log/eval.log" "$avmask" eval --unit=$unit --ref="$ref" --hyp="$out/hyp" ${by:+--by="$by"} \
    --out="$out/eval.json"
[ $cer = false ] || run_logged "$out/log/eval_cer.log" "$avmask" eval --unit=char --ref="$ref" \
    --hyp="$out/hyp" --out="$out/cer.json"
echo "$record" >"$out/model"
