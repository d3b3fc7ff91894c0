# timeout: 60
# avmask synth-slu: each bad argument gives exit 1, one line on stderr naming the problem,
# and leaves nothing behind; a write error mid-way (file size limit) removes the partial
# output; an existing --out is refused without --overwrite and replaced with it.
set -u
fails=0
expect_error() {   # expect_error "<text in the message>" args...
    local want=$1; shift
    before=$(ls -A | sort)
    "$AVMASK" synth-slu "$@" >out.txt 2>err.txt
    rc=$?
    after=$(ls -A | grep -v -e '^out.txt$' -e '^err.txt$' | sort)
    if [ $rc != 1 ] || [ "$(wc -l <err.txt)" != 1 ] || ! grep -qF -- "$want" err.txt; then
        echo "FAIL: synth-slu $*: rc=$rc, stderr:"; cat err.txt; fails=$((fails + 1))
    elif [ "$before" != "$after" ]; then
        echo "FAIL: synth-slu $*: left output behind: $after"; fails=$((fails + 1))
    else
        echo "ok: $(cat err.txt)"
    fi
    rm -f out.txt err.txt
}
small="--speakers-per-family=3 --utts-per-speaker=1 --families=kal,slt --menus=5 --test-titles=10 --train-titles=10"
expect_error "--out is required" $small
expect_error "--heldout-family=slt is not one of --families" --out=o --families=espeak,kal
expect_error "every family of --families is held out" --out=o --families=slt
expect_error "--families: 'nosuch' is not one of espeak, kal, awb, rms or slt" --out=o --families=espeak,nosuch
expect_error "--heldout-family=nosuch: expected" --out=o --heldout-family=nosuch
expect_error "--speakers-per-family=2 leaves no training speaker after 1 dev and 1 test speakers" \
    --out=o --speakers-per-family=2
expect_error "a menu of 100 titles needs --test-titles >= 100 (it is 50)" --out=o --test-titles=50
expect_error "a dev menu of 20 titles needs --train-titles >= 20 (it is 10)" --out=o $small --menus=20 --test-titles=20
expect_error "--menus: 'x' is not a menu size" --out=o $small --menus=5,x
expect_error "--menus: '1' is not a menu size" --out=o $small --menus=1
expect_error "--menus: 5 is listed twice" --out=o $small --menus=5,5
expect_error "--train-titles + --test-titles = 40000; the pairs split has" --out=o --train-titles=20000 --test-titles=20000
expect_error "the words split has at most" --out=o --title-split=words --test-titles=5000
expect_error "--unseen-fraction=1.5 is out of range" --out=o $small --unseen-fraction=1.5
expect_error "'abc' is not a number" --out=o $small --snr=clean,abc
expect_error "unknown voice 'xx-nosuch'" --out=o $small --families=espeak,kal --heldout-family=kal --voices=en-us,xx-nosuch
touch afile
expect_error "cannot create" --out=afile/corpus $small
mkdir -p existing && echo old >existing/marker
expect_error "already exists (use --overwrite" --out=existing $small
# a write error mid-way (a WAV over the file size limit): exit 1, one line of ours, nothing left
( trap '' XFSZ; ulimit -f 20; exec "$AVMASK" synth-slu --out=deep/new/o $small ) >out.txt 2>err.txt
rc=$?
if [ $rc != 1 ] || [ "$(grep -c '^avmask' err.txt)" != 1 ] || ! grep -q "write error: File too large" err.txt || [ -e deep ]; then
    echo "FAIL: write error: rc=$rc, left: $(ls -A)"; cat err.txt; fails=$((fails + 1))
else
    echo "ok: $(grep '^avmask' err.txt)"
fi
if "$AVMASK" synth-slu --out=existing $small --overwrite 2>/dev/null && [ ! -e existing/marker ] &&
   [ -s existing/test/intent ] && [ -z "$(ls -d existing.* 2>/dev/null)" ]; then
    echo "ok: --overwrite replaced the directory"
else
    echo "FAIL: --overwrite"; fails=$((fails + 1))
fi
[ $fails = 0 ]
