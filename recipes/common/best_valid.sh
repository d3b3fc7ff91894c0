#!/usr/bin/env bash
# Which fine-tuning run validated best:
#   best_valid.sh DIR...
# prints "DIR valid_err valid_loss step" for the run among DIR... whose metrics.jsonl
# (avmask finetune --valid) has the lowest "valid_err" (greedy error rate on the validation
# set: its best point is where model-best/ was saved), ties broken by the lower
# "valid_loss", then by the order of the arguments. A NaN value counts as the worst. A run
# without metrics.jsonl or without validation lines is an error naming it.
set -u
[ $# -gt 0 ] || { echo "usage: $0 DIR..." >&2; exit 1; }
runs=
for d in "$@"; do
    m=$d/metrics.jsonl
    [ -f "$m" ] || { echo "$0: $m: no such file" >&2; exit 1; }
    # the best validation point of one run: "err loss step"
    best=$(LC_ALL=C awk '
        function num(key,   s) {
            if (!match($0, "\"" key "\":[^,}]*")) return "x"
            s = substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
            return s ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ ? s + 0 : 1e308   # nan, inf: the worst
        }
        /"valid_err"/ {
            e = num("valid_err"); l = num("valid_loss"); s = num("step")
            if (e == "x" || l == "x" || s == "x") next
            if (!n || e < be || (e == be && l < bl)) { be = e; bl = l; bs = s; n = 1 }
        }
        END { if (n) printf "%.6g %.6g %d\n", be, bl, bs }' "$m")
    [ -n "$best" ] || { echo "$0: $m: no validation lines (valid_err)" >&2; exit 1; }
    runs+="$d $best"$'\n'
done
printf '%s' "$runs" | LC_ALL=C awk '!n || $2 < be || ($2 == be && $3 < bl) { best = $0; be = $2; bl = $3; n = 1 }
                     END { if (!n) exit 1; print best }'
