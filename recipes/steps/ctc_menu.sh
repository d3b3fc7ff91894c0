#!/usr/bin/env bash
# TinyS2I's CTC baseline (docs/slu.md "The CTC baseline"): an encoder fine-tuned with CTC on
# characters, its transcripts matched to the training transcripts (intent) and to the menu
# (title), then scored like TinyS2I:
#   ctc_menu.sh [--cmd CMD] [--menus "5 20 100"] [--threads N] INIT FEATS DATA VALID_FEATS VALID_DATA INTENTS
#               TEST_FEATS TEST_DATA DIR [avmask finetune options...]
# Fine-tunes INIT (an export dir, or none with --model=NAME) on FEATS with DATA's transcripts
# (steps/finetune.sh --unit=char, validated on VALID_FEATS/VALID_DATA), then for each N of --menus
# decodes TEST_FEATS with TEST_DATA/menuN on one thread (avmask decode --menu --intents-from=DATA
# --intents=INTENTS: the latency is a one-core figure) into DIR/decode_test_menuN and scores it
# (avmask eval --unit=tinys2i; steps/decode_menus.sh); the transcripts' WER against TEST_DATA/text goes to
# DIR/decode_test_menuN/wer.json (not a report result). DIR/.done marks the fine-tuning
# complete; a decode dir with eval.json is skipped.
set -euo pipefail
cmd=local.sh
menus="5 20 100"
threads=2
help_message="usage: $0 [--cmd CMD] [--menus \"5 20 100\"] [--threads N] INIT FEATS DATA VALID_FEATS VALID_DATA INTENTS TEST_FEATS TEST_DATA DIR [avmask finetune options...]"
. "$(dirname "$0")/../common/parse_options.sh"
. "$(dirname "$0")/../common/path.sh"
[ $# -ge 9 ] || { echo "$help_message" >&2; exit 2; }
init=$1 feats=$2 data=$3 valid=$4 valid_data=$5 intents=$6 test_feats=$7 test_data=$8 dir=$9; shift 9
"$steps/finetune.sh" --cmd "$cmd" "$init" "$feats" "$data" "$valid" "$valid_data" "$dir" --unit=char \
    --threads=$threads "$@"
model=$dir/model-best
[ -d "$model" ] || model=$dir/model
"$steps/decode_menus.sh" --menus "$menus" --wer true "$model" "$test_feats" "$test_data" "$intents" "$dir" \
    --intents-from="$data" --intents="$intents"
