#!/usr/bin/env bash
# Checks a Kaldi-style data dir the way 'avmask extract' will read it:
#   validate_data_dir.sh [--no-check-paths] [--require-text] DIR
# - media.scp or wav.scp ("<id> <path>", exactly 2 fields, not empty; media.scp wins if both
#   exist), segments ("<utt> <rec> <start> <end>", rec in the scp, 0 <= start < end or end -1);
# - every data file (a name without a dot, *.scp or *.ctm) sorted by its first field in the
#   C locale (LC_ALL=C sort), no duplicate ids (a *.ctm has one line per token: "<utt> <channel>
#   <start> <dur> <token>"), no empty lines, no carriage returns;
# - utt2spk "<utt> <spk>"; crops "<utt> x y w h"; text and phones may have empty transcripts;
#   spk2utt must list the speakers of utt2spk with their utterances in order; other spk2*
#   files are keyed by those speakers; every other file by the utterances of the dir;
# - every media path exists (relative paths are relative to DIR), unless --no-check-paths;
# - with --require-text, every utterance has a line in text.
# An error names the file and line and exits 1; on success one summary line is printed.
set -u
export LC_ALL=C
check_paths=1; require_text=0
while [ $# -gt 0 ]; do
    case "$1" in
    --no-check-paths) check_paths=0 ;;
    --require-text) require_text=1 ;;
    --*) echo "validate_data_dir.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
[ $# = 1 ] || { echo "usage: validate_data_dir.sh [--no-check-paths] [--require-text] DIR" >&2; exit 2; }
dir=${1%/}
die() { echo "validate_data_dir.sh: $*" >&2; exit 1; }
[ -d "$dir" ] || die "$dir: no such data directory"
case $dir in /*) op=$dir ;; *) op=./$dir ;; esac   # awk operands must not look like var=value

scp=media.scp
if [ ! -f "$dir/$scp" ]; then
    scp=wav.scp
    [ -f "$dir/$scp" ] || die "$dir: no media.scp or wav.scp"
elif [ -f "$dir/wav.scp" ]; then
    echo "validate_data_dir.sh: warning: $dir has media.scp and wav.scp; avmask reads media.scp" >&2
fi
[ -s "$dir/$scp" ] || die "$dir/$scp: empty file"
seg=0; [ -f "$dir/segments" ] && seg=1
[ $seg = 0 ] || [ -s "$dir/segments" ] || die "$dir/segments: empty file"
[ ! -f "$dir/spk2utt" ] || [ -f "$dir/utt2spk" ] || die "$dir/spk2utt: spk2utt without utt2spk"

# awk operands: "kind=K name=N FILE" per file, in dependency order (scp, segments, utt2spk first).
args=(kind=scp "name=$dir/$scp" "$op/$scp")
[ $seg = 1 ] && args+=(kind=seg "name=$dir/segments" "$op/segments")
[ -f "$dir/utt2spk" ] && args+=(kind=u2s "name=$dir/utt2spk" "$op/utt2spk")
for f in "$dir"/*; do
    b=${f##*/}
    [ -f "$f" ] || continue
    case $b in
    media.scp|wav.scp|segments|utt2spk) continue ;;
    *.scp|*.ctm) ;; *.*) continue ;;   # media or notes kept in the dir are not data files
    esac
    case $b in
    *.ctm) k=ctm ;;
    spk2utt) k=s2u ;;
    spk2*) [ -f "$dir/utt2spk" ] || die "$f: speaker file without utt2spk"; k=spk ;;
    crops) k=crops ;;
    text|phones) k=trans ;;
    *) k=utt ;;
    esac
    args+=("kind=$k" "name=$f" "$op/$b")
done

has_s2u=0; [ -f "$dir/spk2utt" ] && has_s2u=1
summary=$(awk -v seg=$seg -v has_s2u=$has_s2u -v dir="$dir" -v need_text=$require_text '
function bad(msg) { printf "validate_data_dir.sh: %s:%d: %s\n", name, FNR, msg > "/dev/stderr"; err = 1; exit 1 }
function fields(lo, hi) {
    if (NF < lo || (hi && NF > hi))
        bad(sprintf("expected %s fields, got %d", lo == hi ? lo : (hi ? lo "-" hi : "at least " lo), NF))
}
FILENAME != cur { cur = FILENAME; n = 0; prev = "" }
/\r/ { bad("carriage return (convert the file with dos2unix)") }
NF == 0 { bad("empty line") }
{
    id = $1 ""
    if (n && id == prev && kind != "ctm") bad("duplicate id '\''" id "'\''")
    if (n && id < prev) bad("id '\''" id "'\'' is out of order (after '\''" prev "'\''; sort with LC_ALL=C sort)")
    prev = id; n++
}
kind == "scp" { fields(2, 2); rec[id] = 1; if (!seg) { utt[id] = 1; nutt++ } next }
kind == "seg" {
    fields(4, 4)
    if (!($2 in rec)) bad("recording '\''" $2 "'\'' is not in the scp")
    if ($3 !~ /^[0-9]*\.?[0-9]+$/ || ($4 != "-1" && ($4 !~ /^[0-9]*\.?[0-9]+$/ || $4 + 0 <= $3 + 0)))
        bad("bad times '\''" $3 " " $4 "'\'' (need 0 <= start < end, or end -1)")
    utt[id] = 1; nutt++; next
}
kind == "s2u" || kind == "spk" {
    fields(2, 0)
    if (!(id in s2u)) bad("id '\''" id "'\'' is not a speaker of " dir "/utt2spk")
    if (kind == "s2u") {
        line = id; for (i = 2; i <= NF; i++) line = line " " $i
        if (line != id s2u[id]) bad("utterances of '\''" id "'\'' do not match utt2spk (regenerate spk2utt from it)")
        s2u_lines++
    }
    next
}
!(id in utt) { bad("id '\''" id "'\'' is not an utterance of " dir) }
kind == "u2s" { fields(2, 2); if (!($2 in s2u)) nspk++; s2u[$2] = s2u[$2] " " id; next }
kind == "crops" { fields(5, 5) }
kind == "trans" && name == dir "/text" { ntext++ }
kind == "utt" { fields(2, 0) }
kind == "ctm" { fields(5, 0) }
END {
    if (err) exit 1
    if (has_s2u && s2u_lines != nspk) {
        printf "validate_data_dir.sh: %s/spk2utt: lists %d of the %d speakers of utt2spk\n",
            dir, s2u_lines, nspk > "/dev/stderr"
        exit 1
    }
    if (need_text && ntext != nutt) {
        printf "validate_data_dir.sh: %s/text: transcripts for %d of %d utterances (required for all)\n",
            dir, ntext, nutt > "/dev/stderr"
        exit 1
    }
    printf "%d %d %d\n", nutt, nspk, ntext
}' "${args[@]}") || exit 1
read -r nutt nspk ntext <<<"$summary"

if [ $check_paths = 1 ]; then   # bash builtins only: fast on a million lines
    lineno=0
    while read -r _ path _; do
        lineno=$((lineno + 1))
        case $path in /*) p=$path ;; *) p=$dir/$path ;; esac
        [ -e "$p" ] || die "$dir/$scp:$lineno: no such file '$p'"
    done <"$dir/$scp"
fi
echo "$dir: ok ($nutt utterances, $nspk speakers$([ -f "$dir/text" ] && echo ", $ntext transcripts"))"
