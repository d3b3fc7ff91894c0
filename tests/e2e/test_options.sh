#!/usr/bin/env bash
# timeout: 240
# Every command of `avmask --help` parses its options through one table (common/opts.h),
# which also writes its --help, so the two cannot disagree:
#  - AVMASK_OPTS_CHECK=1 avmask CMD lists the table (else CMD parses outside it);
#  - the options --help lists (and their aliases) are exactly the table's, plus --config
#    and --help;
#  - the parser takes every one of them at once with a valid value, and every value of
#    every enum;
#  - a bad integer, a bad number, a value outside an enum, a missing value and an unknown
#    option are refused with one line naming the command and the option;
#  - no source of the binary reads argv or option values except common/opts.c.
set -u
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
chk() { AVMASK_OPTS_CHECK=1 "$AVMASK" "$@"; }
# refused CMD WANT ARGS...: exit 1 and one stderr line holding "CMD: " and WANT
refused() {
    local c=$1 want=$2; shift 2
    if chk "$c" "$@" >out.txt 2>err.txt; then bad "$c $*: accepted"; return; fi
    [ "$(wc -l <err.txt)" = 1 ] && grep -qF -- "$c: " err.txt && grep -qF -- "$want" err.txt ||
        bad "$c $*: wanted one line with '$c: ' and '$want', got: $(cat err.txt)"
}

cmds=$("$AVMASK" --help | sed -n '/^commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
[ "$(echo $cmds | wc -w)" -ge 10 ] || bad "avmask --help lists only: $cmds"
for c in $cmds; do
    "$AVMASK" "$c" --help >help.txt 2>err.txt || { bad "$c --help failed: $(cat err.txt)"; continue; }
    chk "$c" >list.txt 2>err.txt
    [ "$(head -1 list.txt)" = "options of avmask $c" ] || { bad "$c does not parse through its table"; continue; }
    tail -n +2 list.txt >rows.txt
    # option rows of the help start with two spaces and --name; aliases say (also --name)
    { sed -n 's/^  --\([A-Za-z0-9_-]*\).*/\1/p' help.txt; tr -s ' \n' ' ' <help.txt |
        grep -o '(also --[A-Za-z0-9_-]*)' | sed 's/(also --\(.*\))/\1/'; } | sort >help_names.txt
    { awk '{print substr($1, 3)}' rows.txt; printf 'config\nhelp\n'; } | sort >table_names.txt
    diff help_names.txt table_names.txt >/dev/null ||
        bad "$c: --help and the table differ (< help only, > table only): $(diff help_names.txt table_names.txt | grep '^[<>]' | tr '\n' ' ')"
    [ "$(uniq -d table_names.txt)" = "" ] || bad "$c: names twice in the table: $(uniq -d table_names.txt)"

    # every option at once, with the first value of each enum, then the other values
    all=() ; more=()
    while read -r name type sample; do
        case $type in
        enum) IFS='|' read -ra v <<<"$sample"; all+=("$name=${v[0]}")
              for ((i = 1; i < ${#v[@]}; i++)); do more[i]="${more[i]:-} $name=${v[i]}"; done ;;
        list) all+=("$name=${sample//|/,}") ;;
        *)    all+=("$name=$sample") ;;
        esac
    done <rows.txt
    chk "$c" "${all[@]}" >out.txt 2>err.txt || bad "$c: the table's own values refused: $(cat err.txt)"
    for m in "${more[@]}"; do
        chk "$c" $m >out.txt 2>err.txt || bad "$c $m: refused: $(cat err.txt)"
    done

    # one refusal of each kind the table has
    first() { awk -v t="$1" '$2 == t {print $1; exit}' rows.txt; }
    o=$(first int);  [ -n "$o" ] && refused "$c" "$o=1x is not an integer" "$o=1x"
    o=$(first num);  [ -n "$o" ] && refused "$c" "$o=abc is not a number" "$o=abc"
    o=$(first enum); [ -n "$o" ] && refused "$c" "$o=no-such-value: expected" "$o=no-such-value"
    o=$(first str);  [ -n "$o" ] && refused "$c" "$o needs a value" "$o"
    refused "$c" "unknown option --no-such-option" --no-such-option=1
done

# nothing but common/opts.c reads argv or option values (avmask.c only picks the command)
src=$(cd "$AVMASK_ROOT" && { find common data models cluster train eval -name '*.c'; echo avmask.c; } |
      grep -v -e '^common/opts\.c$' -e '^common/opts_help\.c$')
hits=$(cd "$AVMASK_ROOT" && grep -nE 'getopt|str(n?cmp|chr|tol|tod)\(argv|argv\[[^]]*\] *\[|\bavm_opt\b|(\.|->)v\[[^]]*\]\.(key|val)|opts_read_config|\bopt_(str|req|int|num|bool|has|int_range)\(' $src |
       grep -v -e '^avmask\.c:.*argv\[1\]')
[ -z "$hits" ] || bad "option parsing outside common/opts.c: $hits"

[ $fails = 0 ] || exit 1
echo "test_options: $(echo $cmds | wc -w) commands, every option of each --help parsed by its table"
