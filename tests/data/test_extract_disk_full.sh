# timeout: 180
# The disk fills up in the middle of `avmask extract --nj=2` (a small tmpfs): the command
# fails with a one-line reason naming the shard it could not write, keeps every finished
# shard, leaves no temporary file, and once there is room a rerun writes only the missing
# shards, giving the same result as an uninterrupted run. Needs to mount a tmpfs (root, and
# a sandbox that allows it); exits 77 (SKIP) where it cannot.
set -eu
chk="$PY $AVMASK_ROOT/tests/ref/check_shards.py"
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p small
if ! mount -t tmpfs -o size=64M tmpfs small 2>mount.err; then
    echo "cannot mount a tmpfs here: $(head -1 mount.err)"
    exit 77
fi
trap 'umount small 2>/dev/null || true' EXIT
trap 'exit 1' TERM INT

mkdir -p D/clips
for i in $(seq -w 1 12); do
    ffmpeg -nostdin -loglevel error -y -f lavfi -i "anoisesrc=d=2:c=pink:r=16000:a=0.3:seed=$i" \
        -f lavfi -i "testsrc2=s=96x96:r=25:d=2" -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
        -c:a aac -shortest "D/clips/u$i.mp4"
    echo "u$i clips/u$i.mp4"
done >D/media.scp

# the uninterrupted run, on the ordinary disk; its 6 shards decide how small the disk is
$AVMASK extract --data=D --out=REF --nj=2 --shard-size=2 2>/dev/null
shards_kb=$(du -sk REF/shard-*.h5 | awk '{s += $1} END {print s}')
room_kb=$((shards_kb * 2 / 5))   # room for about two of the six shards
mount -o remount,size=${room_kb}k small

if $AVMASK extract --data=D --out=small/F --nj=2 --shard-size=2 2>full.err; then
    fail "extraction onto a full disk succeeded (disk of ${room_kb} kB for ${shards_kb} kB of shards)"
fi
grep -Eq '^avmask: warning: extract: job [0-9]+/[0-9]+: .*small/F/shard-[0-9]{5}\.h5\.tmp: .*(disk full|No space)' full.err ||
    { cat full.err; fail "no one-line reason naming the shard that did not fit"; }
grep -q '^extract: done in .* (stopped early: [0-9]* of 12 utterances finished)$' full.err ||
    { cat full.err; fail "the end line does not say the run stopped early"; }
tail -1 full.err | grep -q '^avmask: extract: [12] of 2 workers failed; finished shards are kept, rerun to resume$' ||
    { cat full.err; fail "the last line does not say how to resume"; }
[ -z "$(ls small/F | grep '\.tmp' || true)" ] || { ls small/F; fail "temporary files left on the full disk"; }
[ ! -e small/F/index.tsv ] || fail "index.tsv written for an incomplete extraction"
kept=$(ls small/F | grep -c '^shard-.*\.h5$' || true)
[ "$kept" -ge 1 ] && [ "$kept" -lt 6 ] || fail "$kept of 6 shards finished on a disk with room for about two"
stat -c '%n %i %y %s' small/F/shard-*.h5 >before.txt

# room again: the rerun finishes only the missing shards
mount -o remount,size=64M small
$AVMASK extract --data=D --out=small/F --nj=2 --shard-size=2 2>rerun.err || { cat rerun.err; fail "rerun failed"; }
stat -c '%n %i %y %s' $(awk '{print $1}' before.txt) | diff before.txt - || fail "finished shards were rewritten"
[ "$(grep -c 'is complete, skipped' small/F/extract.log)" = "$kept" ] || fail "the rerun did not skip the $kept finished shards"
[ -z "$(ls small/F | grep '\.tmp' || true)" ] || fail "temporary files left after the rerun"
$chk small/F --ref REF --data D
echo "test_extract_disk_full: all checks passed ($kept of 6 shards fitted at first)"
