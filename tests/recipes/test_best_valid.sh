#!/usr/bin/env bash
# recipes/common/best_valid.sh, which picks the probe's learning rate on dev in
# recipes/synth_av: the lowest valid_err over all validation lines of every run, ties by
# valid_loss, then by argument order; NaN counts as the worst; training lines are ignored;
# a run without metrics.jsonl or validation lines is an error naming it.
# timeout: 30
set -u
fail() { echo "FAIL: $*"; exit 1; }
B="bash $AVMASK_ROOT/recipes/common/best_valid.sh"
mkdir a b c c2 d n
printf '%s\n' '{"step":5,"loss":0.1,"lr":0.001,"grad_norm":1,"impossible":0,"seconds":0.1}' \
    '{"step":10,"valid_loss":2.5,"valid_err":60.0000}' '{"step":20,"valid_loss":2,"valid_err":40.5000}' >a/metrics.jsonl
printf '%s\n' '{"step":10,"valid_loss":1.9,"valid_err":40.5000}' '{"step":20,"valid_loss":1.95,"valid_err":40.5000}' >c/metrics.jsonl
cp c/metrics.jsonl c2/metrics.jsonl
printf '%s\n' '{"step":10,"valid_loss":3.1,"valid_err":39.0000}' '{"step":30,"valid_loss":nan,"valid_err":12.0000}' >b/metrics.jsonl
printf '%s\n' '{"step":10,"valid_loss":nan,"valid_err":nan}' >n/metrics.jsonl
printf '%s\n' '{"step":5,"loss":3}' >d/metrics.jsonl
[ "$($B a)" = "a 40.5 2 20" ] || fail "one run: $($B a)"
[ "$($B a c)" = "c 40.5 1.9 10" ] || fail "tie in err, lower loss wins: $($B a c)"
[ "$($B c2 c)" = "c2 40.5 1.9 10" ] && [ "$($B c c2)" = "c 40.5 1.9 10" ] || fail "a full tie: the first argument"
[ "$($B a b c)" = "b 12 1e+308 30" ] || fail "lowest err with a NaN loss: $($B a b c)"
[ "$($B n a)" = "a 40.5 2 20" ] || fail "NaN err is the worst: $($B n a)"
for bad in "a d:d/metrics.jsonl: no validation lines" "a e:e/metrics.jsonl: no such file" ":usage"; do
    args=${bad%%:*}
    if $B $args >out 2>err; then fail "best_valid.sh $args succeeded"; fi
    grep -q "${bad#*:}" err || fail "best_valid.sh $args: $(cat err)"
    [ -s out ] && fail "best_valid.sh $args printed a run: $(cat out)"
done
echo "test_best_valid: ok"
