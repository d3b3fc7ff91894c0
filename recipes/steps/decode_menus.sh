#!/usr/bin/env bash
# The menu decodings of TinyS2I and of its CTC baseline (steps/tinys2i.sh, steps/ctc_menu.sh):
#   decode_menus.sh [--menus "5 20 100"] [--wer true] MODEL TEST_FEATS TEST_DATA INTENTS DIR [avmask decode options...]
# For each N of --menus: avmask decode --menu=TEST_DATA/menuN of MODEL on one thread (the latency
# is a one-core figure) into DIR/decode_test_menuN, with --wer the WER of its transcripts (OUT/text)
# against TEST_DATA/text into wer.json there (no report result), and avmask eval --unit=tinys2i
# against TEST_DATA/intent and slots (by TEST_DATA/conditions if present) into eval.json. A decode
# dir with eval.json is skipped.
set -euo pipefail
menus="5 20 100"
wer=false
help_message="usage: $0 [--menus \"5 20 100\"] [--wer true] MODEL TEST_FEATS TEST_DATA INTENTS DIR [avmask decode options...]"
. "$(dirname "$0")/../common/parse_options.sh"
. "$(dirname "$0")/../common/path.sh"
[ $# -ge 5 ] || { echo "$help_message" >&2; exit 2; }
model=$1 test_feats=$2 test_data=$3 intents=$4 dir=$5; shift 5
for n in $menus; do
    out=$dir/decode_test_menu$n
    [ -f "$out/eval.json" ] && continue
    run_logged "$out/log/decode.log" "$avmask" decode --model="$model" --feats="$test_feats" \
        --menu="$test_data/menu$n" --out="$out" --threads=1 "$@"
    if [ "$wer" = true ]; then
        run_logged "$out/log/wer.log" "$avmask" eval --ref="$test_data/text" --hyp="$out/text" --out="$out/wer.json"
    fi
    by=(); [ -f "$test_data/conditions" ] && by=(--by="$test_data/conditions")
    run_logged "$out/log/eval.log" "$avmask" eval --unit=tinys2i --ref="$test_data/intent" --hyp="$out/hyp" \
        --intents="$intents" "${by[@]}" --out="$out/eval.json"
done
