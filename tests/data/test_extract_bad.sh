# timeout: 120
# avmask extract on bad input: broken media files are skipped with one warning line each and
# listed in extract.err while the others are extracted intact; --max-fail decides the exit
# code; once fixed, they are extracted again by a rerun with --retry-failed only; a
# malformed media.scp or a missing data dir stops the command with one line; a run killed
# with -9 resumes by writing only the missing shards, with the same result.
set -eu
chk="$PY $AVMASK_ROOT/tests/ref/check_shards.py"
ff() { ffmpeg -nostdin -loglevel error -y "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p B/clips
av() {  # name seconds
    ff -f lavfi -i "anoisesrc=d=$2:c=pink:r=16000:a=0.3" -f lavfi -i "testsrc2=s=96x96:r=25:d=$2" \
       -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "B/clips/$1.mp4"
}
av g1 1.0
av g2 1.2
: >B/clips/empty.mp4
head -c 3000 B/clips/g2.mp4 >B/clips/trunc.mp4          # moov atom (at the end) cut off
echo "this is not a video" >B/clips/text.mp4
ff -f lavfi -i "testsrc2=s=96x96:r=25:d=1" -c:v libx264 -preset ultrafast -pix_fmt yuv420p B/clips/noaudio.mp4
cat >B/media.scp <<'EOF'
b_empty clips/empty.mp4
b_missing clips/missing.mp4
b_noaudio clips/noaudio.mp4
b_text clips/text.mp4
b_trunc clips/trunc.mp4
g1 clips/g1.mp4
g2 clips/g2.mp4
EOF
bad_ids=b_empty,b_missing,b_noaudio,b_text,b_trunc

# 5 of 7 fail; --max-fail=5 allows that
$AVMASK extract --data=B --out=FB --nj=2 --shard-size=2 --max-fail=5 2>run.err || fail "exit $? with --max-fail=5"
[ "$(grep -c '^avmask: warning: ' run.err)" = 5 ] || { cat run.err; fail "expected 5 warnings"; }
for id in ${bad_ids//,/ }; do
    path=$(awk -v u=$id '$1 == u {print $2}' B/media.scp)
    [ "$(grep -c "^avmask: warning: $id (B/$path): ." run.err)" = 1 ] || { cat run.err; fail "no one-line warning for $id"; }
    [ "$(grep -c "^$id B/$path ." FB/extract.err)" = 1 ] || { cat FB/extract.err; fail "$id not in extract.err"; }
done
grep -q '^b_noaudio .* no audio' FB/extract.err || fail "no-audio reason missing"
grep -q '^b_missing .*\(No such file\|no such file\|does not exist\|missing\)' FB/extract.err || fail "missing-file reason"
$chk FB --data B --failed=$bad_ids
$AVMASK info FB | grep -q '^failures: *5' || fail "info does not count failures"

# the limit: a count, a percentage, and the default 5%
if $AVMASK extract --data=B --out=FB2 --shard-size=2 --max-fail=4 2>lim.err; then fail "--max-fail=4 accepted 5 failures"; fi
grep -q '5 of 7 utterances failed' lim.err || { cat lim.err; fail "no failure-count message"; }
$AVMASK extract --data=B --out=FB2 --shard-size=2 --max-fail=80% 2>/dev/null || fail "--max-fail=80% refused 71%"
if $AVMASK extract --data=B --out=FB2 --shard-size=2 2>/dev/null; then fail "default --max-fail accepted 71%"; fi
# the rerun above resumed: failures are remembered in the finished shards, not retried
[ "$(grep -c 'is complete, skipped' FB2/extract.log)" -ge 8 ] || fail "reruns did not skip finished shards"

# a finished shard from another configuration or shard size is never mixed in
if $AVMASK extract --data=B --out=FB --shard-size=2 --width=16 2>cfg.err; then fail "reused shards of another config"; fi
grep -q 'FB/shard-00000.h5: written with another feature configuration' cfg.err || { cat cfg.err; fail "config message"; }
if $AVMASK extract --data=B --out=FB --shard-size=3 2>size.err; then fail "reused shards of another shard size"; fi
grep -q 'FB/shard-00000.h5: does not hold utterance' size.err || { cat size.err; fail "shard-size message"; }

# fixed files are extracted again only with --retry-failed, and only the shards that hold
# failures are rewritten (b_missing and b_text get good files; shard 3 holds only g2)
cp B/clips/g1.mp4 B/clips/missing.mp4
cp B/clips/g2.mp4 B/clips/text.mp4
stat -c '%n %i %y' FB/shard-00003.h5 >keep.txt
$AVMASK extract --data=B --out=FB --nj=2 --shard-size=2 --max-fail=5 2>/dev/null
$AVMASK info FB | grep -q '^failures: *5' || fail "a plain rerun retried failed utterances"
$AVMASK extract --data=B --out=FB --nj=2 --shard-size=2 --max-fail=5 --retry-failed 2>retry.err ||
    { cat retry.err; fail "--retry-failed rerun failed"; }
$AVMASK info FB | grep -q '^failures: *3' || { $AVMASK info FB; fail "--retry-failed did not extract the fixed files"; }
stat -c '%n %i %y' FB/shard-00003.h5 | diff keep.txt - || fail "--retry-failed rewrote a shard without failures"
[ "$(grep -c 'holds [0-9]* failed utterances: extracting it again' FB/extract.log)" = 3 ] ||
    fail "--retry-failed did not redo exactly the 3 shards with failures"
[ -z "$(ls FB | grep '\.tmp' || true)" ] || fail "temporary files left by --retry-failed"
$chk FB --data B --failed=b_empty,b_noaudio,b_trunc
grep -q '^b_text ' FB/extract.err && fail "b_text still listed in extract.err"
rm B/clips/missing.mp4
echo "this is not a video" >B/clips/text.mp4

# malformed scp and missing data dir: one line, non-zero, nothing written
mkdir -p M
printf 'a clips/g1.mp4\nb clips/g2.mp4\nc\n' >M/media.scp
if $AVMASK extract --data=M --out=FM --nj=2 2>m.err; then fail "malformed scp accepted"; fi
[ "$(wc -l <m.err)" = 1 ] && grep -q 'M/media.scp:3: ' m.err || { cat m.err; fail "malformed scp message"; }
[ ! -e FM ] || fail "output dir created for a malformed data dir"
if $AVMASK extract --data=nowhere --out=FN 2>n.err; then fail "missing data dir accepted"; fi
[ "$(wc -l <n.err)" = 1 ] && grep -q 'nowhere: no such data directory' n.err || { cat n.err; fail "missing dir message"; }
if $AVMASK info FN 2>i.err; then fail "info on a missing dir"; fi
[ "$(wc -l <i.err)" = 1 ] || fail "info error is not one line"

# segments with extreme times: a start past any recording fails that utterance alone (it
# crashed the run), an end past the recording extracts to its end (it gave "no audio"),
# and the valid neighbours are extracted
mkdir -p S
echo "rec ../B/clips/g2.mp4" >S/media.scp
printf 's_bad rec 1e308 -1\ns_big rec 0.2 1e300\ns_ok rec 0 0.6\ns_tail rec 0.2 -1\n' >S/segments
$AVMASK extract --data=S --out=FS --max-fail=1 2>s.err || { cat s.err; fail "extreme segment times stopped the run"; }
[ "$(wc -l <FS/extract.err)" = 1 ] && grep -q '^s_bad .*segment' FS/extract.err || { cat FS/extract.err; fail "s_bad not failed alone"; }
[ "$(awk '$1 == "s_big" {print $4}' FS/index.tsv)" = "$(awk '$1 == "s_tail" {print $4}' FS/index.tsv)" ] ||
    { cat FS/index.tsv; fail "an end past the recording did not extract to its end"; }
grep -q '^s_ok	' FS/index.tsv || fail "the valid segment was lost"
$chk FS --data S --failed=s_bad
# non-finite or empty segment times, non-UTF-8 ids, NUL bytes: refused with file:line
for times in "nan 1" "0 nan" "inf -1" "1 0.5"; do
    printf 's_a rec 0 0.5\ns_b rec %s\n' "$times" >S/segments
    if $AVMASK extract --data=S --out=FT 2>t.err; then fail "segment times '$times' accepted"; fi
    [ "$(wc -l <t.err)" = 1 ] && grep -q "S/segments:2: bad times '$times'" t.err || { cat t.err; fail "times '$times' message"; }
done
printf 'g1 clips/g1.mp4\ng\xff2 clips/g2.mp4\n' >M/media.scp
if $AVMASK extract --data=M --out=FM 2>u.err; then fail "non-UTF-8 utt-id accepted"; fi
grep -q 'M/media.scp:2: not valid UTF-8' u.err || { cat u.err; fail "UTF-8 message"; }
printf 'g1 clips/g1.mp4\ng2 clips/g2.mp4\0x\ng3 clips/g3.mp4\n' >M/media.scp
if $AVMASK extract --data=M --out=FM 2>z.err; then fail "NUL byte in media.scp accepted"; fi
grep -q 'M/media.scp:2: NUL byte' z.err || { cat z.err; fail "NUL message"; }
printf 'shard-size=2\nwidth=16\0\n' >nul.conf
if $AVMASK extract --config=nul.conf --data=B --out=FC 2>c.err; then fail "NUL byte in --config accepted"; fi
[ "$(wc -l <c.err)" = 1 ] && grep -q 'nul.conf:2: NUL byte' c.err || { cat c.err; fail "config NUL message"; }
[ ! -e FM ] && [ ! -e FT ] && [ ! -e FC ] || fail "output written for a refused data dir or config"

# kill -9 midway, rerun (with another job count): only missing shards are written, and the
# result equals an uninterrupted run's.
av g3 4.0
mkdir -p K
for i in $(seq -w 1 16); do echo "k$i ../B/clips/g3.mp4"; done >K/media.scp
$AVMASK extract --data=K --out=FK --nj=1 --shard-size=2 2>/dev/null &
pid=$!
for _ in $(seq 1 3000); do [ -e FK/shard-00001.h5 ] && break; sleep 0.01; done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
[ ! -e FK/index.tsv ] || fail "the run finished before it could be killed (test needs a slower corpus)"
done_before=$(ls FK | grep -c '^shard-.*\.h5$' || true)
[ "$done_before" -ge 2 ] && [ "$done_before" -lt 8 ] || fail "$done_before shards finished before the kill"
stat -c '%n %i %y' FK/shard-*.h5 >before.txt
log_before=$(wc -l <FK/extract.log)
: >FK/index.9.tsv.tmp.99999   # as a process killed while writing a job file leaves it
$AVMASK extract --data=K --out=FK --nj=2 --shard-size=2 2>/dev/null
stat -c '%n %i %y' $(awk '{print $1}' before.txt) | diff before.txt - || fail "finished shards were rewritten"
[ "$(grep -c 'is complete, skipped' FK/extract.log)" = "$done_before" ] || fail "log does not show $done_before skipped shards"
# the rerun (2 workers over slices of the 8 shards) wrote exactly the missing shards
[ "$(tail -n +$((log_before + 1)) FK/extract.log | grep -c 'job [0-9]*/[0-9]*: finished ')" = $((8 - done_before)) ] ||
    fail "rerun did not write exactly the missing shards"
# --nj slices are guided: ceil(left / 2N) shards each, so they shrink to single shards at the end
$PY - FK <<'PY' || fail "--nj slices are not guided (large first, single shards last)"
import glob, json, sys
jobs = sorted((json.load(open(f)) for f in glob.glob(sys.argv[1] + "/job.*.json")), key=lambda j: j["job"])
sizes = [j["end_shard"] - j["first_shard"] for j in jobs]
assert sizes == [2, 2, 1, 1, 1, 1], sizes          # 8 shards, 2 workers
assert all(j["nj"] == len(jobs) for j in jobs)
PY
[ -z "$(ls FK | grep '\.tmp' || true)" ] || fail "temporary files left"
$AVMASK extract --data=K --out=FK1 --nj=1 --shard-size=2 2>/dev/null
$chk FK --ref FK1 --data K
echo "test_extract_bad: all checks passed"
