#!/usr/bin/env bash
# Copies a subset of the utterances of a data dir, every file filtered:
#   subset_data_dir.sh --first N  SRC DEST     the first N utterances (sorted order)
#   subset_data_dir.sh --last N   SRC DEST     the last N
#   subset_data_dir.sh --random N [--seed S] SRC DEST
#                                              N utterances drawn without replacement
#                                              (awk's srand(S), default S 1), kept sorted
#   subset_data_dir.sh --spk-list FILE [--exclude] SRC DEST
#                                              utterances of the speakers in FILE (first
#                                              field of each line; utt2spk needed)
#   subset_data_dir.sh --utt-list FILE [--exclude] SRC DEST
# --exclude keeps the complement of the list. N larger than the dir keeps everything (with
# a warning); a subset without utterances is an error. Files of DEST that SRC has are
# overwritten. Options take "--opt VALUE" or "--opt=VALUE".
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: subset_data_dir.sh (--first N | --last N | --random N [--seed S] | --spk-list FILE | --utt-list FILE) [--exclude] SRC DEST"
die() { echo "subset_data_dir.sh: $*" >&2; exit 1; }
mode=""; arg=""; seed=1; exclude=0
while [ $# -gt 0 ]; do
    case "$1" in
    --exclude) exclude=1; shift; continue ;;
    --first|--last|--random|--spk-list|--utt-list|--seed)
        [ $# -ge 2 ] || die "option $1 needs a value"; opt=${1#--}; val=$2; shift 2 ;;
    --first=*|--last=*|--random=*|--spk-list=*|--utt-list=*|--seed=*)
        opt=${1%%=*}; opt=${opt#--}; val=${1#*=}; shift ;;
    --*) die "unknown option $1" ;;
    *) break ;;
    esac
    if [ "$opt" = seed ]; then seed=$val; continue; fi
    [ -z "$mode" ] || die "give only one of --first, --last, --random, --spk-list, --utt-list"
    mode=$opt; arg=$val
done
[ $# = 2 ] && [ -n "$mode" ] || { echo "$usage" >&2; exit 2; }
src=${1%/}; dest=${2%/}
[ -d "$src" ] || die "$src: no such data directory"
case $mode in
first|last|random) [[ $arg =~ ^[0-9]+$ ]] || die "--$mode needs a count, got '$arg'"
    [ $exclude = 0 ] || die "--exclude goes with --spk-list or --utt-list" ;;
*) [ -f "$arg" ] || die "--$mode: $arg: no such file" ;;
esac
[[ $seed =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer, got '$seed'"

ids=$src/segments
[ -f "$ids" ] || ids=$src/media.scp
[ -f "$ids" ] || ids=$src/wav.scp
[ -f "$ids" ] || die "$src: no media.scp or wav.scp"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/subset.XXXXXX") || die "cannot create a temporary dir"
trap 'rm -rf "$tmp"' EXIT
awk 'NF { print $1 }' "$ids" >"$tmp/all"
n=$(wc -l <"$tmp/all")
case $mode in
first|last|random)
    [ "$arg" -le "$n" ] || echo "subset_data_dir.sh: warning: $src has $n utterances, fewer than $arg; keeping all" >&2 ;;
esac

case $mode in
first)  head -n "$arg" "$tmp/all" ;;
last)   tail -n "$arg" "$tmp/all" ;;
random) awk -v s="$seed" 'BEGIN { srand(s) } { printf "%.9f %s\n", rand(), $1 }' "$tmp/all" |
            sort -k1,1n -k2 | head -n "$arg" | awk '{ print $2 }' | sort ;;
utt-list|spk-list)
    keyfile=/dev/null; col=1
    if [ $mode = spk-list ]; then
        [ -f "$src/utt2spk" ] || die "$src: --spk-list needs utt2spk"
        keyfile=$src/utt2spk; col=2
    fi
    awk -v col=$col -v ex=$exclude -v list="$arg" '
        FILENAME == list { if (NF) want[$1] = 1; next }
        FILENAME == ARGV[2] { if (col == 2) spk[$1] = $2; next }
        { k = col == 2 ? (($1 in spk) ? spk[$1] : "") : $1; if ((k in want) != ex) print $1 }' \
        "$arg" "$keyfile" "$tmp/all" ;;
esac >"$tmp/keep"
[ -s "$tmp/keep" ] || die "$src: the subset has no utterances"
awk '{ print $1, "x" }' "$tmp/keep" >"$tmp/map"
bash "$here/distribute_data_dir.sh" "$tmp/map" "$src" "$dest"
