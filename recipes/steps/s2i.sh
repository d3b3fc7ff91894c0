#!/usr/bin/env bash
# Intent classification from speech (avmask s2i) on an exported encoder, or a random one:
#   s2i.sh [--cmd CMD] INIT FEATS DATA VALID_FEATS VALID_DATA INTENTS DIR [avmask s2i options...]
# INIT is an export dir (avmask export), a fine-tuned model dir (its encoder) or "none" (then pass
# --model=NAME). Trains on FEATS with the intents of DATA (and its text with --text-model),
# validates on VALID_FEATS / VALID_DATA (so DIR/model-best/ holds the lowest validation error,
# which steps/decode_score.sh decodes), as one job of the launcher (default local.sh); log
# DIR/log/s2i.log. DIR/.done marks it complete; until then a rerun continues from
# DIR/checkpoint-last.h5 (--resume).
set -euo pipefail
cmd=local.sh
help_message="usage: $0 [--cmd CMD] INIT FEATS DATA VALID_FEATS VALID_DATA INTENTS DIR [avmask s2i options...]"
. "$(dirname "$0")/../common/parse_options.sh"
. "$(dirname "$0")/../common/path.sh"
[ $# -ge 7 ] || { echo "$help_message" >&2; exit 2; }
init=$1 feats=$2 data=$3 valid=$4 valid_data=$5 intents=$6 dir=$7; shift 7
[ -f "$dir/.done" ] && exit 0
run_job "$cmd" "$dir/log/s2i.log" "$avmask" s2i --init="$init" --feats="$feats" --data="$data" --valid="$valid" \
    --valid-data="$valid_data" --intents="$intents" --out="$dir" "$@" --resume
touch "$dir/.done"
