#!/usr/bin/env bash
# CTC fine-tuning (avmask finetune) of an exported encoder, or of a random one:
#   finetune.sh [--cmd CMD] INIT FEATS DATA VALID_FEATS VALID_DATA DIR [avmask finetune options...]
# INIT is an export dir (avmask export), a fine-tuned model dir (its encoder) or "none" (then pass
# --model=NAME). Trains on FEATS with
# the transcripts of DATA, validates on VALID_FEATS / VALID_DATA (so DIR/model-best/ holds the
# lowest validation error, which steps/decode_score.sh decodes), as one job of the launcher
# (default local.sh); log DIR/log/finetune.log. DIR/.done marks it complete; until then a
# rerun continues from DIR/checkpoint-last.h5 (--resume, also after a killed job).
set -euo pipefail
cmd=local.sh
help_message="usage: $0 [--cmd CMD] INIT FEATS DATA VALID_FEATS VALID_DATA DIR [avmask finetune options...]"
. "$(dirname "$0")/../common/parse_options.sh"
. "$(dirname "$0")/../common/path.sh"
[ $# -ge 6 ] || { echo "$help_message" >&2; exit 2; }
init=$1 feats=$2 data=$3 valid=$4 valid_data=$5 dir=$6; shift 6
[ -f "$dir/.done" ] && exit 0
run_job "$cmd" "$dir/log/finetune.log" "$avmask" finetune --init="$init" --feats="$feats" --data="$data" \
    --valid="$valid" --valid-data="$valid_data" --out="$dir" "$@" --resume
touch "$dir/.done"
