# Sourced by the corpus preparation scripts (lrs3/local/prepare_lrs3.sh,
# voxceleb2/local/prepare_voxceleb2.sh) after their defaults (sets, mouth_box, help_message,
# root_holds: what the corpus root holds, for the error message): parses the options, checks
# the mouth box before any output, and sets root (absolute) and data from "CORPUS_ROOT DATA".
# Defines die MESSAGE (names the script, exits 1).
. "$common/parse_options.sh"   # --sets, --mouth-box (=value or as the next argument)
[ $# = 2 ] || { echo "$help_message" >&2; exit 2; }
die() { echo "$(basename "$0"): $*" >&2; exit 1; }
[ "$mouth_box" = none ] || bash "$common/mouth_crops.sh" --check "$mouth_box" || exit 1
[ -d "$1" ] || die "$1: no such directory ($root_holds)"
root=$(cd "$1" && pwd); data=${2%/}
# scp files are split at blanks
case $root in *[[:space:]]*) die "$root: the path has blanks, which scp files cannot hold (use a symlink)" ;; esac
