#!/usr/bin/env bash
# Exports the audio branch of a pretraining checkpoint (avmask export):
#   export.sh CHECKPOINT OUT
# writes OUT/ (audio_encoder.h5, model.safetensors, config.json); log in OUT's parent,
# log/export.log (beside the pretraining's log). An OUT with config.json is complete and skipped.
set -euo pipefail
help_message="usage: $0 CHECKPOINT OUT"
. "$(dirname "$0")/../common/parse_options.sh"
. "$(dirname "$0")/../common/path.sh"
[ $# = 2 ] || { echo "$help_message" >&2; exit 2; }
[ -f "$2/config.json" ] && exit 0
run_logged "$(dirname "$2")/log/export.log" "$avmask" export --checkpoint="$1" --out="$2"
