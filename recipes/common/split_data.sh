#!/usr/bin/env bash
# Splits a data dir into N parts of contiguous utterances, as Kaldi's split_data.sh --per-utt:
#   split_data.sh DIR N
# writes DIR/split<N>/<k>/ (k = 1..N) with every file of DIR filtered to the part's
# utterances (see distribute_data_dir.sh). Part sizes differ by at most one utterance;
# utterance i (0-based) of n goes to part floor(i N / n) + 1. N may not exceed n.
set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
[ $# = 2 ] || { echo "usage: split_data.sh DIR N" >&2; exit 2; }
dir=${1%/}; nj=$2
die() { echo "split_data.sh: $*" >&2; exit 1; }
[[ $nj =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$nj'"
[ -d "$dir" ] || die "$dir: no such data directory"
ids=$dir/segments
[ -f "$ids" ] || ids=$dir/media.scp
[ -f "$ids" ] || ids=$dir/wav.scp
[ -f "$ids" ] || die "$dir: no media.scp or wav.scp"
n=$(awk 'NF' "$ids" | wc -l)
[ "$n" -ge "$nj" ] || die "$ids: $n utterances cannot make $nj non-empty parts"

out=$dir/split$nj
rm -rf "$out" && mkdir -p "$out" || die "$out: cannot create"
awk -v N="$nj" -v n="$n" 'NF { print $1, int(i++ * N / n) + 1 }' "$ids" >"$out/.map"
bash "$here/distribute_data_dir.sh" "$out/.map" "$dir" "$out/{}" || exit 1
rm -f "$out/.map"
