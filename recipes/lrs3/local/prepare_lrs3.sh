#!/usr/bin/env bash
# Prepares Kaldi-style data dirs from the public LRS3 layout:
#   prepare_lrs3.sh [--sets "pretrain trainval test"] [--mouth-box=x,y,w,h|none] LRS3_ROOT DATA
# reads LRS3_ROOT/<set>/<speaker-id>/<NNNNN>.mp4 and the .txt beside it, whose first line is
# "Text:  WORDS IN CAPS" (then "Conf:" and word timings, ignored), and writes
# DATA/<set>/{media.scp,text,utt2spk,spk2utt} with utt-id "<speaker-id>-<NNNNN>", absolute
# media paths and the transcript as LRS3 gives it (upper case, apostrophes kept, blanks
# squeezed). A clip whose .txt is missing, empty or has no "Text:" first line is skipped and
# counted. DATA/<set>/crops gives every utterance the same mouth box (--mouth-box, in pixels
# of the 224x224 face-centred LRS3 frames, scaled by recipes/common/mouth_crops.sh to the
# frame size of the set's first clip; default 56,104,112,112; none: no crops, full frames).
# Each set is written to DATA/<set>.tmp and renamed when complete.
set -u
export LC_ALL=C
common=$(cd "$(dirname "$0")/../../common" && pwd)
mouth_box=56,104,112,112   # in a 224x224 face track; see recipes/README.md
sets="pretrain trainval test"
help_message="usage: prepare_lrs3.sh [--sets \"pretrain trainval test\"] [--mouth-box=x,y,w,h|none] LRS3_ROOT DATA"
root_holds="the LRS3 root, holding pretrain/ trainval/ test/"
. "$common/prepare_args.sh"   # options, die, root and data

for set in $sets; do
    src=$root/$set
    [ -d "$src" ] || die "$src: no such directory"
    out=$data/$set; tmp=$data/$set.tmp
    rm -rf "$tmp" && mkdir -p "$tmp" || die "$tmp: cannot create"
    # First line of every transcript, as "<path without .txt>\t<line>" (an empty file prints nothing).
    find "$src" -mindepth 2 -maxdepth 2 -type f -name '*.txt' >"$tmp/txts" || die "$src: cannot list the transcripts"
    tr '\n' '\0' <"$tmp/txts" |
        xargs -0 -r awk 'FNR == 1 { sub(/\.txt$/, "", FILENAME); print FILENAME "\t" $0; nextfile }' \
        >"$tmp/first_lines" || die "$src: cannot read the transcripts"
    find "$src" -mindepth 2 -maxdepth 2 -type f -name '*.mp4' | sort >"$tmp/mp4s" ||
        die "$src: cannot list the clips"
    awk -v d="$tmp" '
    FILENAME == ARGV[1] { sub(/\.txt$/, ""); has_txt[$0] = 1; next }
    FILENAME == ARGV[2] { t = index($0, "\t"); first[substr($0, 1, t - 1)] = substr($0, t + 1); next }
    {
        path = $0; base = path; sub(/\.mp4$/, "", base)
        n = split(base, p, "/"); spk = p[n - 1]; clip = p[n]
        if (!(base in has_txt)) { missing++; next }
        if (!(base in first)) { empty++; next }   # an empty .txt file
        line = first[base]
        if (line !~ /^Text:/) { malformed++; next }
        sub(/^Text:[ \t]*/, "", line); gsub(/[ \t\r]+/, " ", line); sub(/ $/, "", line)
        if (line == "") { empty++; next }
        utt = spk "-" clip
        print utt, path > (d "/media.scp"); print utt, line > (d "/text"); print utt, spk > (d "/utt2spk")
        kept++
    }
    END {
        printf "%d %d %d %d\n", kept, missing, empty, malformed > (d "/counts")
    }' "$tmp/txts" "$tmp/first_lines" "$tmp/mp4s" || die "$src: preparing the data dir failed"
    read -r kept missing empty malformed <"$tmp/counts"
    [ "$kept" -gt 0 ] || die "$src: no clip with a transcript (found $(wc -l <"$tmp/mp4s") .mp4 files)"
    for f in media.scp text utt2spk; do sort -o "$tmp/$f" "$tmp/$f" || die "$tmp/$f: sort failed"; done
    if [ "$mouth_box" != none ]; then
        bash "$common/mouth_crops.sh" "$mouth_box" "$tmp" || die "$tmp/crops: cannot write the mouth boxes"
    fi
    awk '{ print $2, $1 }' "$tmp/utt2spk" | sort | awk '
        $1 "" != s { if (NR > 1) print l; s = $1 ""; l = $1 } { l = l " " $2 } END { if (NR) print l }' >"$tmp/spk2utt"
    rm -f "$tmp/txts" "$tmp/first_lines" "$tmp/mp4s" "$tmp/counts"
    rm -rf "$out" && mv "$tmp" "$out" || die "$out: cannot move $tmp into place"
    echo "prepare_lrs3.sh: $set: $kept utterances of $(wc -l <"$out/spk2utt") speakers;" \
        "skipped $((missing + empty + malformed)) clips ($missing without .txt, $empty with an empty transcript," \
        "$malformed without a 'Text:' first line)"
done
