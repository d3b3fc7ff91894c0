# timeout: 60
# avmask synth: each bad argument gives exit 1, one line on stderr naming the
# problem, and leaves nothing behind; a failure in the middle of generation (file size
# limit) removes the partial output; an existing --out is refused without
# --overwrite and replaced with it.
set -u
fails=0
expect_error() {   # expect_error "<text in the message>" args...
    local want=$1; shift
    before=$(ls -A | sort)
    "$AVMASK" synth "$@" >out.txt 2>err.txt
    rc=$?
    after=$(ls -A | grep -v -e '^out.txt$' -e '^err.txt$' | sort)
    if [ $rc != 1 ] || [ "$(wc -l <err.txt)" != 1 ] || ! grep -qF -- "$want" err.txt; then
        echo "FAIL: synth $*: rc=$rc, stderr:"; cat err.txt; fails=$((fails + 1))
    elif [ "$before" != "$after" ]; then
        echo "FAIL: synth $*: left output behind: $after"; fails=$((fails + 1))
    else
        echo "ok: $(cat err.txt)"
    fi
    rm -f out.txt err.txt
}
small="--speakers=3 --utts-per-speaker=1"
expect_error "--speakers=0 is out of range" --out=o --speakers=0
expect_error "unknown voice 'xx-nosuch'" --out=o $small --voices=en-us,xx-nosuch
expect_error "unknown voice variant 'nosuchvariant'" --out=o $small --variants=m1,nosuchvariant
expect_error "'abc' is not a number" --out=o $small --snr=clean,abc
expect_error "'5' is listed twice" --out=o $small --snr=5,5
expect_error "--out is required" $small
expect_error "unknown option --speekers" --out=o --speekers=3
expect_error "--noise-clip-seconds=0 is out of range [1, 600]" --out=o $small --noise-clip-seconds=0
expect_error "--noise-clips=-1 is out of range" --out=o $small --noise-clips=-1
touch afile
expect_error "cannot create" --out=afile/corpus $small
[ -f afile ] || { echo "FAIL: the file in the way was removed"; fails=$((fails + 1)); }
expect_error "cannot create" --out=/proc/avmask-synth-test $small
mkdir -p existing && echo old >existing/marker
expect_error "already exists (use --overwrite" --out=existing $small
# a write error (file size limit LIMIT blocks): exit 1, one line of ours naming PATTERN,
# nothing left behind. (Under a small ulimit libpulse, loaded by libespeak-ng, also
# complains about its shared memory; only our own lines are counted.)
expect_write_error() {  # what limit pattern
    ( trap '' XFSZ; ulimit -f "$2"; exec "$AVMASK" synth --out=deep/new/o $small ) >out.txt 2>err.txt
    local rc=$?
    if [ $rc != 1 ] || [ "$(grep -c '^avmask' err.txt)" != 1 ] || ! grep -q "$3" err.txt || [ -e deep ]; then
        echo "FAIL: $1: rc=$rc, left: $(ls -A)"; cat err.txt; fails=$((fails + 1))
    else
        echo "ok: $(grep '^avmask' err.txt)"
    fi
    rm -f out.txt err.txt
}
# in the noise/ dir (the MP4s fit under the limit, a 10 s WAV does not)
expect_write_error "noise/ write error" 200 "babble-0001.wav: write error: File too large"
# in the middle (the first MP4 cannot be written)
expect_write_error "write error mid-way" 8 "File too large"
# --overwrite replaces an existing directory
if "$AVMASK" synth --out=existing $small --overwrite 2>/dev/null && [ ! -e existing/marker ] &&
   [ -s existing/train/text ] && [ -z "$(ls -d existing.* 2>/dev/null)" ]; then
    echo "ok: --overwrite replaced the directory"
else
    echo "FAIL: --overwrite"; fails=$((fails + 1))
fi
[ $fails = 0 ]
