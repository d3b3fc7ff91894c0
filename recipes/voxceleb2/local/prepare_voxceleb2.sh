#!/usr/bin/env bash
# Prepares Kaldi-style data dirs (no transcripts: for pretraining) from the VoxCeleb2 layout:
#   prepare_voxceleb2.sh [--sets "dev test"] [--mouth-box=x,y,w,h|none] VOX_ROOT DATA
# reads VOX_ROOT/<set>/mp4/<idNNNNN>/<youtube-id>/<NNNNN>.mp4 and writes
# DATA/<set>/{media.scp,utt2spk,spk2utt} with utt-id "<idNNNNN>-<youtube-id>-<NNNNN>",
# speaker "<idNNNNN>" and absolute media paths, and DATA/<set>/crops: the same mouth box for
# every utterance (--mouth-box, in pixels of the 224x224 VoxCeleb2 face tracks, scaled by
# recipes/common/mouth_crops.sh to the frame size of the set's first clip; default
# 56,104,112,112; none: no crops, full frames). Each set is written to DATA/<set>.tmp and
# renamed when complete.
set -u
export LC_ALL=C
common=$(cd "$(dirname "$0")/../../common" && pwd)
mouth_box=56,104,112,112   # in a 224x224 face track; see recipes/README.md
sets="dev test"
help_message="usage: prepare_voxceleb2.sh [--sets \"dev test\"] [--mouth-box=x,y,w,h|none] VOX_ROOT DATA"
root_holds="the VoxCeleb2 root, holding dev/mp4/ and test/mp4/"
. "$common/prepare_args.sh"   # options, die, root and data

for set in $sets; do
    src=$root/$set/mp4
    [ -d "$src" ] || die "$src: no such directory"
    out=$data/$set; tmp=$data/$set.tmp
    rm -rf "$tmp" && mkdir -p "$tmp" || die "$tmp: cannot create"
    find "$src" -mindepth 3 -maxdepth 3 -type f -name '*.mp4' | awk -v d="$tmp" '
    {
        n = split($0, p, "/"); spk = p[n - 2]; yt = p[n - 1]; clip = p[n]; sub(/\.mp4$/, "", clip)
        if ($0 ~ /[ \t]/) { blank++; next }   # a path with blanks cannot go in an scp
        utt = spk "-" yt "-" clip
        print utt, $0 > (d "/media.scp"); print utt, spk > (d "/utt2spk")
        kept++
    }
    END { printf "%d %d\n", kept, blank > (d "/counts") }' || die "$src: listing the clips failed"
    read -r kept blank <"$tmp/counts"
    [ "$kept" -gt 0 ] || die "$src: no <id>/<youtube-id>/<clip>.mp4 files"
    for f in media.scp utt2spk; do sort -o "$tmp/$f" "$tmp/$f" || die "$tmp/$f: sort failed"; done
    if [ "$mouth_box" != none ]; then
        bash "$common/mouth_crops.sh" "$mouth_box" "$tmp" || die "$tmp/crops: cannot write the mouth boxes"
    fi
    awk '{ print $2, $1 }' "$tmp/utt2spk" | sort | awk '
        $1 "" != s { if (NR > 1) print l; s = $1 ""; l = $1 } { l = l " " $2 } END { if (NR) print l }' >"$tmp/spk2utt"
    rm -f "$tmp/counts"
    rm -rf "$out" && mv "$tmp" "$out" || die "$out: cannot move $tmp into place"
    echo "prepare_voxceleb2.sh: $set: $kept utterances of $(wc -l <"$out/spk2utt") speakers$(
        [ "$blank" = 0 ] || echo "; skipped $blank clips with blanks in the path")"
done
