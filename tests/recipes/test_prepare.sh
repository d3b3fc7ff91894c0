#!/usr/bin/env bash
# Corpus preparation of the LRS3 and VoxCeleb2 recipes on fake corpus trees in the real
# layouts (tiny real mp4 files made by the ffmpeg CLI): the data dirs line by line, skip
# counts, the mouth box of every utterance (crops: the 224x224 default scaled to the 64x64
# clips, a 224x224 set unscaled, --mouth-box=x,y,w,h, none, a bad box), validation, then run.sh stage 1 (avmask extract, 2 jobs through local.sh for LRS3,
# through slurm.sh with a stand-in sbatch for VoxCeleb2) on the prepared dirs.
# timeout: 180
set -u
export LC_ALL=C
R=$AVMASK_ROOT/recipes
fails=0; n=0
ok()  { n=$((n+1)); echo "ok: $1"; }
bad() { n=$((n+1)); fails=$((fails+1)); echo "FAIL: $1"; }
expect() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
# same FILE EXPECTED: the file's content equals the expected text (printf-style lines).
same() { if [ "$(cat "$1")" = "$2" ]; then return 0; fi; echo "--- $1:"; cat "$1"; echo "--- expected:"; echo "$2"; return 1; }

# Two 0.5 s clips (H.264 64x64 25 fps + AAC 16 kHz), copied into both trees.
mkclip() {
    ffmpeg -nostdin -v error -f lavfi -i "$1=size=64x64:rate=25:duration=0.5" \
        -f lavfi -i "sine=frequency=$2:sample_rate=16000:duration=0.5" \
        -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest -y "$3"
}
mkclip testsrc 440 a.mp4 && mkclip smptebars 660 b.mp4 || { echo "FAIL: ffmpeg cannot make the clips"; exit 1; }
# A 224x224 clip, the frame size of the LRS3 and VoxCeleb2 face tracks (VoxCeleb2 test set).
ffmpeg -nostdin -v error -f lavfi -i "testsrc=size=224x224:rate=25:duration=0.5" \
    -f lavfi -i "sine=frequency=550:sample_rate=16000:duration=0.5" \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest -y c.mp4 || { echo "FAIL: ffmpeg cannot make c.mp4"; exit 1; }
# crops_are DIR "X Y W H": DIR/crops has every utterance of DIR/media.scp, each with that box.
crops_are() {
    [ -f "$1/crops" ] && [ "$(cut -d' ' -f1 "$1/crops")" = "$(cut -d' ' -f1 "$1/media.scp")" ] &&
        [ "$(cut -d' ' -f2- "$1/crops" | sort -u)" = "$2" ] || { echo "--- $1/crops:"; cat "$1/crops" 2>&1; false; }
}

# --- LRS3: ROOT/{pretrain,trainval,test}/<speaker>/<NNNNN>.{mp4,txt}
L=$PWD/LRS3
clip() {   # clip SET/SPK/NNNNN [FIRST-LINE]   (no 2nd argument: no .txt)
    mkdir -p "$L/$(dirname "$1")"
    cp a.mp4 "$L/$1.mp4"
    [ $# = 2 ] && printf '%s\nConf:  4.1\n\nWORD START END ASDSCORE\nX 0.10 0.30 2.5\n' "$2" >"$L/$1.txt"
}
clip pretrain/0a-B_c9x/00001 "Text:  AND SO  WE WENT ON AND ON   FOR A VERY LONG TIME"
clip pretrain/0a-B_c9x/00002 "Text:  IT'S FINE"
clip pretrain/zz/00001       "Text:  LAST ONE"
clip trainval/spkA/00001 "Text:  HELLO WORLD"
clip trainval/spkA/00002 "Text:  GOOD  MORNING "
clip trainval/spkB/00003 "Text:  I DON'T KNOW"
clip trainval/spkC/00001 "Text:  YES"
clip trainval/spkC/00002
clip trainval/spkD/00001 "Conf:  3.0"
clip test/spkT/00001 "Text:  THE CAT'S HAT"
clip test/spkU/00002 "Text:	NO"
clip test/spkU/00004 "" && : >"$L/test/spkU/00004.txt"
clip test/spkU/00005 "Text:   "
cp b.mp4 "$L/test/spkU/00002.mp4"
echo "Text:  NO CLIP" >"$L/test/spkU/00009.txt"

expect "prepare_lrs3.sh runs" 'bash $R/lrs3/local/prepare_lrs3.sh "$L" data >out 2>err'
expect "skip counts are reported per set" \
  'same out "prepare_lrs3.sh: pretrain: 3 utterances of 2 speakers; skipped 0 clips (0 without .txt, 0 with an empty transcript, 0 without a '"'Text:'"' first line)
prepare_lrs3.sh: trainval: 4 utterances of 3 speakers; skipped 2 clips (1 without .txt, 0 with an empty transcript, 1 without a '"'Text:'"' first line)
prepare_lrs3.sh: test: 2 utterances of 2 speakers; skipped 2 clips (0 without .txt, 2 with an empty transcript, 0 without a '"'Text:'"' first line)"'
expect "test/media.scp: sorted utt-ids <speaker>-<clip>, absolute paths" \
  'same data/test/media.scp "spkT-00001 $L/test/spkT/00001.mp4
spkU-00002 $L/test/spkU/00002.mp4"'
expect "test/text: first line after Text:, upper case kept, blanks squeezed" \
  'same data/test/text "spkT-00001 THE CAT'"'"'S HAT
spkU-00002 NO"'
expect "test/utt2spk and spk2utt" \
  'same data/test/utt2spk "spkT-00001 spkT
spkU-00002 spkU" && same data/test/spk2utt "spkT spkT-00001
spkU spkU-00002"'
expect "trainval/text (missing and malformed .txt skipped)" \
  'same data/trainval/text "spkA-00001 HELLO WORLD
spkA-00002 GOOD MORNING
spkB-00003 I DON'"'"'T KNOW
spkC-00001 YES"'
expect "pretrain: YouTube-style speaker ids, long text" \
  'same data/pretrain/text "0a-B_c9x-00001 AND SO WE WENT ON AND ON FOR A VERY LONG TIME
0a-B_c9x-00002 IT'"'"'S FINE
zz-00001 LAST ONE" && same data/pretrain/spk2utt "0a-B_c9x 0a-B_c9x-00001 0a-B_c9x-00002
zz zz-00001"'
expect "only the five data files, no temporary dirs" \
  '[ "$(ls data/test | tr "\n" " ")" = "crops media.scp spk2utt text utt2spk " ] && [ "$(ls data | tr "\n" " ")" = "pretrain test trainval " ]'
# default box 56,104,112,112 of a 224x224 frame, scaled to 64x64: 16,29.7,32,32 -> 16 30 32 32
for s in pretrain trainval test; do
    expect "$s/crops: the default mouth box scaled to 64x64 for every utterance" 'crops_are data/$s "16 30 32 32"'
done
expect "--mouth-box=0,112,224,112: the lower half, scaled" \
  'bash $R/lrs3/local/prepare_lrs3.sh --sets=test --mouth-box=0,112,224,112 "$L" d3 >/dev/null && crops_are d3/test "0 32 64 32"'
expect "--mouth-box none: no crops file" \
  'bash $R/lrs3/local/prepare_lrs3.sh --sets=test --mouth-box none "$L" d3 >/dev/null && [ ! -e d3/test/crops ] &&
   same d3/test/media.scp "$(cat data/test/media.scp)"'
expect "a box that leaves the 224x224 frame is an error before any output" \
  '! bash $R/lrs3/local/prepare_lrs3.sh --mouth-box=120,104,112,112 "$L" d4 2>err && [ ! -e d4 ] &&
   grep -q "mouth box .120,104,112,112. is empty or leaves the 224x224 frame" err'
expect "a malformed box is an error naming it" \
  '! bash $R/voxceleb2/local/prepare_voxceleb2.sh --mouth-box=1,2,3 "$PWD" d4 2>err && [ ! -e d4 ] &&
   grep -q "mouth box .1,2,3. is not x,y,w,h" err'
for s in pretrain trainval test; do
    expect "validate_data_dir.sh --require-text data/$s" 'bash $R/common/validate_data_dir.sh --require-text data/$s >/dev/null'
done
expect "a missing LRS3 root is an error naming it" \
  '! bash $R/lrs3/local/prepare_lrs3.sh "$PWD/nope" d2 2>err && grep -q "nope: no such directory" err'
expect "a missing set is an error naming it" \
  '! bash $R/lrs3/local/prepare_lrs3.sh --sets=dev "$L" d2 2>err && grep -q "LRS3/dev: no such directory" err'

# --- LRS3 run.sh: stage 0 (prepare + valid/train split by speaker) and stage 1 (extract,
# two jobs per set through local.sh, then merge), in a work dir.
mkdir w && cd w
expect "run.sh without --lrs3-root stops at stage 0" \
  '! bash $R/lrs3/run.sh --stop-stage=0 >/dev/null 2>err && grep -q "stage 0 needs --lrs3-root" err'
expect "run.sh rejects an unknown option" '! bash $R/lrs3/run.sh --bogus=1 2>err && grep -q "unknown option --bogus" err'
expect "run.sh --help names the options" 'bash $R/lrs3/run.sh --help | grep -q -- "--lrs3-root=DIR"'
# One utterance per shard, so that both jobs of a 2-utterance set have work.
sed 's/^shard-size=.*/shard-size=1/' $R/lrs3/conf/extract.conf >extract.conf
expect "run.sh stages 0-1 (--nj=2, local.sh)" \
  'bash $R/lrs3/run.sh --lrs3-root="$L" --stop-stage=1 --nj=2 --valid-speakers=1 --extract-conf=extract.conf \
     >run.out 2>&1 || { cat run.out; false; }'
expect "valid: the first trainval speaker; train: the others" \
  'same data/valid/text "spkA-00001 HELLO WORLD
spkA-00002 GOOD MORNING" && same data/train/utt2spk "spkB-00003 spkB
spkC-00001 spkC"'
expect "the prepared test dir equals the one prepared directly" 'diff -r data/test ../data/test'
expect "valid and train keep the mouth box of their utterances" 'crops_are data/valid "16 30 32 32" && crops_are data/train "16 30 32 32"'
expect "two extraction jobs per set, each logged with exit 0" \
  'for s in pretrain train valid test; do for j in 1 2; do grep -q "exit 0" exp/extract/log/extract_$s.$j.log || exit 1; done; done'
expect "each test job extracted one utterance" \
  'grep -q "extract job 1/2: done.* (1 utterances, 0 failed" exp/extract/log/extract_test.1.log &&
   grep -q "extract job 2/2: done.* (1 utterances, 0 failed" exp/extract/log/extract_test.2.log'
# index.tsv: utt-id shard row audio-frames video-frames; a 0.5 s clip has 48 fbank frames
# (1 + (8000 - 400) / 160) and 12-13 video frames at 25 fps.
expect "feats/test/index.tsv: the test utterances with 0.5 s of frames" \
  'awk '"'"'{ printf "%s %d %d\n", $1, ($4 >= 44 && $4 <= 52), ($5 >= 11 && $5 <= 14) }'"'"' feats/test/index.tsv >idx &&
   same idx "spkT-00001 1 1
spkU-00002 1 1"'
ids_match=1
for s in pretrain train valid test; do
    [ "$(cut -f1 feats/$s/index.tsv 2>/dev/null)" = "$(cut -d' ' -f1 data/$s/media.scp)" ] || ids_match=0
done
expect "every set is extracted with the ids of its data dir" '[ $ids_match = 1 ]'
expect "no extraction failures" '[ ! -s feats/test/extract.err ] && grep -q "feats/test: 2 utterances (0 failed" run.out'
expect "avmask info reads the test features" '"$AVMASK" info feats/test >info.out 2>&1 && grep -q "^utterances: *2 (2 with video)" info.out'
expect "the features were cropped to the mouth box" 'grep -q "per-utterance box from crops" info.out'
cp feats/test/index.tsv index.before
expect "rerunning stages 0-1 skips the finished extraction" \
  'bash $R/lrs3/run.sh --lrs3-root="$L" --stop-stage=1 --nj=2 --valid-speakers=1 --extract-conf=extract.conf >run2.out 2>&1 &&
   ! grep -q "feats/test:" run2.out && cmp -s index.before feats/test/index.tsv'
cd ..

# --- VoxCeleb2: ROOT/{dev,test}/mp4/<idNNNNN>/<youtube-id>/<NNNNN>.mp4, no transcripts
V=$PWD/vox2
vclip() { mkdir -p "$V/$(dirname "$1")"; cp "$2" "$V/$1.mp4"; }
vclip dev/mp4/id00012/abc-DEF_123/00001 a.mp4
vclip dev/mp4/id00012/abc-DEF_123/00002 b.mp4
vclip dev/mp4/id00012/Xyz/00001 a.mp4
vclip dev/mp4/id00099/q_Q/00003 b.mp4
vclip test/mp4/id00500/t1/00001 c.mp4
vclip test/mp4/id00500/t2/00001 c.mp4
vclip test/mp4/id00501/t1/00002 c.mp4
expect "prepare_voxceleb2.sh runs" 'bash $R/voxceleb2/local/prepare_voxceleb2.sh "$V" vdata >vout 2>&1'
expect "dev/media.scp: <id>-<youtube-id>-<clip> in C order" \
  'same vdata/dev/media.scp "id00012-Xyz-00001 $V/dev/mp4/id00012/Xyz/00001.mp4
id00012-abc-DEF_123-00001 $V/dev/mp4/id00012/abc-DEF_123/00001.mp4
id00012-abc-DEF_123-00002 $V/dev/mp4/id00012/abc-DEF_123/00002.mp4
id00099-q_Q-00003 $V/dev/mp4/id00099/q_Q/00003.mp4"'
expect "dev/utt2spk and spk2utt by speaker id" \
  'same vdata/dev/utt2spk "id00012-Xyz-00001 id00012
id00012-abc-DEF_123-00001 id00012
id00012-abc-DEF_123-00002 id00012
id00099-q_Q-00003 id00099" && same vdata/dev/spk2utt "id00012 id00012-Xyz-00001 id00012-abc-DEF_123-00001 id00012-abc-DEF_123-00002
id00099 id00099-q_Q-00003"'
expect "no text for VoxCeleb2" '[ ! -e vdata/dev/text ] && [ ! -e vdata/test/text ]'
expect "dev/crops: the default box scaled to the 64x64 clips" 'crops_are vdata/dev "16 30 32 32"'
expect "test/crops: the default box as it is on the 224x224 clips" 'crops_are vdata/test "56 104 112 112"'
expect "summary lines" 'grep -q "dev: 4 utterances of 2 speakers" vout && grep -q "test: 3 utterances of 2 speakers" vout'
expect "validate_data_dir.sh vdata/dev and vdata/test" \
  'bash $R/common/validate_data_dir.sh vdata/dev >/dev/null && bash $R/common/validate_data_dir.sh vdata/test >/dev/null'

# VoxCeleb2 run.sh stages 0-1 through slurm.sh, with a stand-in sbatch that runs the array
# tasks here (as in test_launchers.sh).
mkdir -p fakebin vw
cat >fakebin/sbatch <<'EOS'
#!/usr/bin/env bash
arr=""; for a in "$@"; do case $a in --array=*) arr=${a#--array=}; arr=${arr%%%*};; esac; done
echo "$@" >>"$SBATCH_LOG"
script=${@: -1}; rc=0
for ((i=${arr%-*}; i<=${arr#*-}; i++)); do SLURM_ARRAY_TASK_ID=$i bash "$script" || rc=1; done
echo 12345; exit $rc
EOS
chmod +x fakebin/sbatch
export SBATCH_LOG=$PWD/sbatch.args
expect "voxceleb2 run.sh stages 0-1 through slurm.sh (--mouth-box=none)" \
  '(cd vw && PATH=$PWD/../fakebin:$PATH bash $R/voxceleb2/run.sh --vox-root="$V" --stop-stage=1 --nj=2 --valid-utts=2 \
      --mouth-box=none --cmd="slurm.sh --partition=cpu" >run.out 2>&1) || { cat vw/run.out; false; }'
expect "run.sh --mouth-box=none: no crops, full frames extracted" \
  '[ ! -e vw/data/dev/crops ] && [ ! -e vw/data/valid/crops ] && "$AVMASK" info vw/feats/dev 2>&1 | grep -q "\"crop\":\"full frame\""'
expect "sbatch got array jobs of 2 tasks on the cpu partition" \
  '[ "$(grep -c -- "--array=1-2" sbatch.args)" = 2 ] && grep -q -- "--partition=cpu" sbatch.args'
expect "valid: 2 of the 3 test utterances, a valid dir" \
  '[ "$(wc -l <vw/data/valid/media.scp)" = 2 ] && [ -z "$(comm -23 vw/data/valid/utt2spk vw/data/test/utt2spk)" ] &&
   bash $R/common/validate_data_dir.sh vw/data/valid >/dev/null'
expect "feats/dev holds the 4 dev utterances" \
  '[ "$(cut -f1 vw/feats/dev/index.tsv | tr "\n" " ")" = "id00012-Xyz-00001 id00012-abc-DEF_123-00001 id00012-abc-DEF_123-00002 id00099-q_Q-00003 " ]'
expect "the extraction task logs end with exit 0" \
  'grep -q "exit 0" vw/exp/extract/log/extract_dev.1.log && grep -q "exit 0" vw/exp/extract/log/extract_valid.2.log'

echo "$((n-fails)) passed, $fails failed"
[ $fails = 0 ]
