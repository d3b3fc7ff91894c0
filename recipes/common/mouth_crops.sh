#!/usr/bin/env bash
# Writes a fixed mouth box for every utterance of a data dir (the `crops` file):
#   mouth_crops.sh [--frame-size=WxH] BOX DIR    writes DIR/crops from DIR/media.scp
#   mouth_crops.sh --check BOX                   only checks BOX
# BOX is "x,y,w,h" in pixels of a 224x224 face-centred frame (the LRS3 and VoxCeleb2 face
# tracks); it is scaled to the frame size of the data, which is --frame-size or else the
# size of the first media file of DIR/media.scp (ffprobe): every clip of a set is assumed
# to have that size (both corpora ship 224x224 only). Without ffprobe 224x224 is assumed,
# with a warning. The scaled box is rounded to whole pixels and kept inside the frame.
# One fixed box is an approximation until a per-frame face/mouth tracker exists.
set -u
export LC_ALL=C
REF=224
die() { echo "mouth_crops.sh: $*" >&2; exit 1; }
check_box() {
    [[ $1 =~ ^([0-9]+),([0-9]+),([0-9]+),([0-9]+)$ ]] ||
        die "mouth box '$1' is not x,y,w,h (whole pixels of a ${REF}x$REF frame) or none"
    local x=${BASH_REMATCH[1]} y=${BASH_REMATCH[2]} w=${BASH_REMATCH[3]} h=${BASH_REMATCH[4]}
    { [ $((10#$w)) -gt 0 ] && [ $((10#$h)) -gt 0 ] && [ $((10#$x + 10#$w)) -le $REF ] && [ $((10#$y + 10#$h)) -le $REF ]; } ||
        die "mouth box '$1' is empty or leaves the ${REF}x$REF frame"
}
size=""
case ${1:-} in
--check) [ $# = 2 ] || die "usage: mouth_crops.sh --check BOX"; check_box "$2"; exit 0 ;;
--frame-size=*) size=${1#*=}; shift ;;
esac
[ $# = 2 ] || die "usage: mouth_crops.sh [--frame-size=WxH] BOX DIR"
box=$1; dir=${2%/}
check_box "$box"
scp=$dir/media.scp
[ -s "$scp" ] || die "$scp: missing or empty"
[ ! -e "$dir/segments" ] || die "$dir: has segments (media.scp lists recordings, not utterances)"
if [ -z "$size" ]; then
    first=$(awk 'NR == 1 { print $2; exit }' "$scp")
    case $first in /*) ;; *) first=$dir/$first ;; esac
    if command -v ffprobe >/dev/null; then
        size=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$first") ||
            die "$first: ffprobe cannot read the frame size"
    else
        echo "mouth_crops.sh: warning: no ffprobe; assuming ${REF}x$REF frames in $dir" >&2
        size=${REF}x$REF
    fi
fi
[[ $size =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || die "$dir: frame size '$size' is not WxH"
awk -v box="$box" -v size="$size" -v ref=$REF -v out="$dir/crops.tmp" '
function scale(v, s) { return int(v * s / ref + 0.5) }
BEGIN {
    split(box, b, ","); split(size, f, "x")
    x = scale(b[1], f[1]); w = scale(b[3], f[1]); y = scale(b[2], f[2]); h = scale(b[4], f[2])
    if (w < 1) w = 1; if (h < 1) h = 1
    if (x + w > f[1]) x = f[1] - w; if (y + h > f[2]) y = f[2] - h
}
{ print $1, x, y, w, h > out }' "$scp" && mv "$dir/crops.tmp" "$dir/crops" || die "$dir/crops: cannot write"
