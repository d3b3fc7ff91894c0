#!/usr/bin/env bash
# timeout: 60
# avmask runs avmask-media (beside it) for synth, synth-slu and extract, so that only those
# commands load FFmpeg's codecs, espeak-ng and flite (avmask.c, run_media):
#  - avmask itself does not link those libraries, avmask-media does;
#  - the media commands answer through avmask, also through a symlink from elsewhere;
#  - without avmask-media beside it, avmask says so in one line and exits 1;
#  - avmask-media refuses a command that is not its own in one line.
set -u
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
media=$(dirname "$AVMASK")/avmask-media
heavy='libavformat|libavcodec|libswscale|libswresample|libespeak-ng|libflite'

[ -x "$media" ] || bad "$media not built"
ldd "$AVMASK" >core.txt || bad "ldd $AVMASK failed"
grep -E "$heavy" core.txt && bad "avmask links media libraries (above)"
ldd "$media" >media.txt || bad "ldd $media failed"
for l in libavformat libavcodec libespeak-ng libflite; do grep -q "$l" media.txt || bad "avmask-media lacks $l"; done
echo "avmask loads $(wc -l <core.txt) shared objects, avmask-media $(wc -l <media.txt)"

ln -s "$AVMASK" ./linked-avmask
for c in synth synth-slu extract; do
    for b in "$AVMASK" ./linked-avmask; do
        "$b" $c --help >help.txt 2>err.txt || bad "$b $c --help failed: $(cat err.txt)"
        head -1 help.txt | grep -q "^usage: avmask $c " || bad "$b $c --help: $(head -1 help.txt)"
    done
done

mkdir alone && cp "$AVMASK" alone/avmask
if alone/avmask extract --help >out.txt 2>err.txt; then bad "extract ran without avmask-media"; fi
[ "$(wc -l <err.txt)" = 1 ] && grep -q "cannot run .*alone/avmask-media for 'extract'" err.txt ||
    bad "no one-line error without avmask-media: $(cat err.txt)"
alone/avmask --version >/dev/null || bad "avmask --version needs avmask-media"

"$media" pretrain >out.txt 2>err.txt; rc=$?
[ $rc = 2 ] && [ "$(wc -l <err.txt)" = 1 ] && grep -q "avmask-media: runs synth" err.txt ||
    bad "avmask-media pretrain: rc $rc, $(cat err.txt)"
[ $fails = 0 ] && echo "media split: OK"
exit $((fails > 0))
