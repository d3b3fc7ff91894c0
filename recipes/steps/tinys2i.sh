#!/usr/bin/env bash
# TinyS2I (avmask tinys2i): a tiny audio encoder, the decision and command heads and a title
# encoder trained jointly, then its test decoding with every menu file and the scores:
#   tinys2i.sh [--cmd CMD] [--menus "5 20 100"] [--threads N] [--defer-below dev|P] [--init DIR] FEATS DATA
#              VALID_FEATS VALID_DATA INTENTS TEST_FEATS TEST_DATA DIR [avmask tinys2i options...]
# Trains on FEATS/DATA (a fresh encoder, or --init: an export or fine-tuned model dir), validates on VALID_FEATS/VALID_DATA (DIR/model-best/
# holds the best validation score). The deferral threshold (avmask decode --defer-below): P, or
# with "dev" (the default) the one of highest decisions accuracy in avmask eval's deferral
# sweep of a decode of VALID_FEATS (with VALID_DATA's first menu file; the decision does not
# depend on the menu) into DIR/defer_dev/ (sweep.txt, sweep.json: not a result of the report).
# Then for each N of --menus decodes TEST_FEATS with TEST_DATA/menuN on one thread (the latency
# is a one-core figure) into DIR/decode_test_menuN and scores it (avmask eval --unit=tinys2i
# against TEST_DATA/intent and slots, by TEST_DATA/conditions if present; steps/decode_menus.sh).
# Logs in DIR/log/ and each decode dir's log/. DIR/.done marks the training complete (until
# then a rerun continues from DIR/checkpoint-last.h5); a decode dir with eval.json is skipped.
set -euo pipefail
cmd=local.sh
menus="5 20 100"
threads=2
defer_below=dev
init=none
help_message="usage: $0 [--cmd CMD] [--menus \"5 20 100\"] [--threads N] [--defer-below dev|P] [--init DIR] FEATS DATA VALID_FEATS VALID_DATA INTENTS TEST_FEATS TEST_DATA DIR [avmask tinys2i options...]"
. "$(dirname "$0")/../common/parse_options.sh"
. "$(dirname "$0")/../common/path.sh"
[ $# -ge 8 ] || { echo "$help_message" >&2; exit 2; }
feats=$1 data=$2 valid=$3 valid_data=$4 intents=$5 test_feats=$6 test_data=$7 dir=$8; shift 8
if [ ! -f "$dir/.done" ]; then
    run_job "$cmd" "$dir/log/tinys2i.log" "$avmask" tinys2i --init="$init" --feats="$feats" --data="$data" \
        --valid="$valid" --valid-data="$valid_data" --intents="$intents" --out="$dir" --threads=$threads "$@" --resume
    touch "$dir/.done"
fi
model=$dir/model-best
[ -d "$model" ] || model=$dir/model
if [ "$defer_below" = dev ]; then
    sweep=$dir/defer_dev
    if [ ! -f "$sweep/sweep.json" ]; then
        menu=$(ls "$valid_data"/menu* 2>/dev/null | head -n 1)
        [ -n "$menu" ] || { echo "$0: no menu file in $valid_data for the deferral sweep (--defer-below P instead)" >&2; exit 1; }
        run_logged "$sweep/log/decode.log" "$avmask" decode --model="$model" --feats="$valid" --menu="$menu" \
            --out="$sweep" --threads=1
        run_logged "$sweep/log/eval.log" "$avmask" eval --unit=tinys2i --ref="$valid_data/intent" --hyp="$sweep/hyp" \
            --intents="$intents" --out="$sweep/sweep.json"
    fi
    defer_below=$(sed -n 's/^best threshold \([0-9.]*\) .*/\1/p' "$sweep/sweep.txt")
    [ -n "$defer_below" ] || { echo "$0: $sweep/sweep.txt names no best threshold" >&2; exit 1; }
    echo "   tinys2i: deferral threshold $defer_below (highest decisions accuracy on $valid_data)"
fi
"$steps/decode_menus.sh" --menus "$menus" "$model" "$test_feats" "$test_data" "$intents" "$dir" \
    --defer-below="$defer_below"
