#!/usr/bin/env bash
# Every profile of the synthetic-corpus recipes (synth_av, slu_synth: conf/*.sh) loads: the
# recipe runs with it past its option parsing (--stage beyond the last: nothing is trained),
# makes its working dirs, and a file the profile names (report_notes) exists. An unknown
# profile is a one-line error naming it. (conf/full.sh once named $root before it was set,
# and the full profile stopped at its first line.)
# timeout: 60
set -u
fail() { echo "FAIL: $*"; exit 1; }
n=0
for r in synth_av slu_synth; do
    here=$AVMASK_ROOT/recipes/$r
    for c in "$here"/conf/*.sh; do
        p=$(basename "$c" .sh) w=$TEST_TMP/$r-$p
        out=$(bash "$here/run.sh" --profile=$p --stage=100 --workdir="$w" 2>&1) || fail "$r --profile=$p: $out"
        [ -d "$w/exp/$p/log" ] || fail "$r --profile=$p: no $w/exp/$p/log"
        notes=$(root=$AVMASK_ROOT; set -u; . "$c"; echo "${report_notes:-}") || fail "$c does not source with set -u"
        [ -z "$notes" ] || [ -f "$notes" ] || fail "$c: report_notes=$notes: no such file"
        n=$((n + 1))
    done
    out=$(bash "$here/run.sh" --profile=nosuch --stage=100 --workdir="$TEST_TMP/x" 2>&1) && fail "$r: an unknown profile ran"
    [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [[ $out == *"unknown profile 'nosuch'"* ]] || fail "$r: unknown profile: $out"
done
[ $n -ge 5 ] || fail "only $n profiles found"
echo "PASS: $n profiles load"
