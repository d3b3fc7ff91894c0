#!/usr/bin/env bash
# Writes the utterances of a data dir into one or more output dirs, every file filtered
# (shared by split_data.sh and subset_data_dir.sh):
#   distribute_data_dir.sh MAP SRC DEST
# MAP holds "<utt-id> <part>" lines; an utterance not in MAP is dropped. DEST is an output
# dir in which "{}" stands for the part (split: DIR/split4/{}; subset: one part, no "{}").
# Data files are the files of SRC named without a dot, *.scp or *.ctm. Each is filtered by its
# first field:
#   media.scp, wav.scp, reco2*  by recording when SRC has segments (a recording goes to
#                               every part that has one of its segments), else by utterance
#   spk2utt                     each speaker's line keeps the part's utterances (derived
#                               from utt2spk when SRC has no spk2utt)
#   spk2*                       by speaker (speakers of the part's utterances)
#   any other file              by utterance
# Relative media paths of media.scp and wav.scp (relative to SRC) are made absolute, so they
# stay valid in the output dirs. Lines keep their order (sorted input stays sorted); every
# data file of SRC exists in every output dir, possibly empty.
set -u
export LC_ALL=C
[ $# = 3 ] || { echo "usage: distribute_data_dir.sh MAP SRC DEST" >&2; exit 2; }
map=$1; src=${2%/}; tmpl=$3
die() { echo "distribute_data_dir.sh: $*" >&2; exit 1; }
[ -f "$map" ] || die "$map: no such file"
[ -d "$src" ] || die "$src: no such data directory"
abs=$(cd "$src" && pwd)
seg=0; [ -f "$src/segments" ] && seg=1

# awk operands "kind=K name=N FILE": the map, then segments/utt2spk (to place recordings and
# speakers), then every data file. ./ keeps a relative path from looking like var=value.
q() { case $1 in /*) printf '%s' "$1" ;; *) printf './%s' "$1" ;; esac; }
args=(kind=map "$(q "$map")")
[ $seg = 1 ] && args+=(kind=segidx "$(q "$src/segments")")
[ -f "$src/utt2spk" ] && args+=(kind=spkidx "$(q "$src/utt2spk")")
names=()
for f in "$src"/*; do
    b=${f##*/}
    case $b in *.scp|*.ctm) ;; *.*) continue ;; esac
    [ -f "$f" ] || continue
    case $b in
    media.scp|wav.scp) k=utt; [ $seg = 1 ] && k=rec; args+=("kind=$k" "base=$abs") ;;
    reco2*) k=utt; [ $seg = 1 ] && k=rec; args+=("kind=$k" base=) ;;
    spk2utt) args+=(kind=s2u base=) ;;
    spk2*) [ -f "$src/utt2spk" ] || die "$f: speaker file without utt2spk"; args+=(kind=spk base=) ;;
    *) args+=(kind=utt base=) ;;
    esac
    args+=(name="$b" "$(q "$f")"); names+=("$b")
done
gen_s2u=0; [ -f "$src/utt2spk" ] && [ ! -f "$src/spk2utt" ] && { gen_s2u=1; names+=(spk2utt); }

# Output dirs, cleared of data files that SRC does not have (a rerun over an older subset).
parts=$(awk '!($2 in s) { s[$2]; print $2 }' "$map") || die "$map: cannot read"
[ -n "$parts" ] || die "$map: no utterances selected"
dirs=(); for p in $parts; do dirs+=("${tmpl//\{\}/$p}"); done
mkdir -p "${dirs[@]}" || die "cannot create the output dirs"
for d in "${dirs[@]}"; do
    [ "$(cd "$d" && pwd)" != "$abs" ] || die "$d: output is the source dir"
    for f in "$d"/*; do
        b=${f##*/}
        case $b in *.scp|*.ctm) ;; *.*) continue ;; esac
        [ -f "$f" ] || continue
        case " ${names[*]} " in *" $b "*) ;; *) rm -f "$f" ;; esac
    done
done

awk -v tmpl="$tmpl" '
function out(p, nm,   d, i) {
    d = tmpl; while ((i = index(d, "{}")) > 0) d = substr(d, 1, i - 1) p substr(d, i + 2)
    return d "/" nm
}
function emit(f, line) {   # at most 64 outputs open at once; each was created empty first
    if (!(f in isopen)) { if (++nopen > 64) { for (g in isopen) close(g); split("", isopen); nopen = 1 } isopen[f] = 1 }
    print line >> f
}
function add(arr, key, p) { if (index(" " arr[key] " ", " " p " ") == 0) arr[key] = arr[key] (arr[key] == "" ? "" : " ") p }
kind == "map" { part[$1] = $2; if (!($2 in seen)) { seen[$2] = 1; parts[++np] = $2 } next }
kind == "segidx" { if ($1 in part) add(recparts, $2, part[$1]); next }
kind == "spkidx" { if ($1 in part) add(spkparts, $2, part[$1]); next }
FILENAME != cur {   # a new data file: create it empty in every part
    cur = FILENAME
    for (g in isopen) close(g); split("", isopen); nopen = 0
    for (k = 1; k <= np; k++) { f = out(parts[k], name); printf "" > f; close(f) }
}
kind == "s2u" {
    split("", lines)
    for (i = 2; i <= NF; i++) if ($i in part) lines[part[$i]] = lines[part[$i]] " " $i
    for (k = 1; k <= np; k++) if (parts[k] in lines) emit(out(parts[k], name), $1 lines[parts[k]])
    next
}
{
    if (kind == "utt") dests = ($1 in part) ? part[$1] : ""
    else if (kind == "rec") dests = ($1 in recparts) ? recparts[$1] : ""
    else dests = ($1 in spkparts) ? spkparts[$1] : ""
    if (dests == "") next
    line = $0
    if (base != "" && NF == 2 && $2 !~ /^\//) line = $1 " " base "/" $2
    m = split(dests, ps, " ")
    for (k = 1; k <= m; k++) emit(out(ps[k], name), line)
}' "${args[@]}" || die "$src: filtering failed"
for d in "${dirs[@]}"; do   # an empty source file gave awk no line to create its outputs
    for b in "${names[@]}"; do [ -e "$d/$b" ] || : >"$d/$b"; done
done

if [ $gen_s2u = 1 ]; then   # SRC has utt2spk but no spk2utt: derive it per part
    for d in "${dirs[@]}"; do
        awk '{ print $2, $1 }' "$d/utt2spk" | sort | awk '
            $1 "" != s { if (NR > 1) print l; s = $1 ""; l = $1 } { l = l " " $2 } END { if (NR) print l }' \
            >"$d/spk2utt" || die "$d/spk2utt: cannot write"
    done
fi
