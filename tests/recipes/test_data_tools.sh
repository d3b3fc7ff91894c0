#!/usr/bin/env bash
# recipes/common data dir tools: validate_data_dir.sh (accepts good dirs, names file and line
# of every kind of defect), split_data.sh and subset_data_dir.sh (exact parts and subsets,
# every file filtered, results valid).
# timeout: 120
set -u
export LC_ALL=C
C=$AVMASK_ROOT/recipes/common
fails=0; n=0
ok()  { n=$((n+1)); echo "ok: $1"; }
bad() { n=$((n+1)); fails=$((fails+1)); echo "FAIL: $1"; }
expect() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
validate() { bash $C/validate_data_dir.sh "$@"; }
# rejects NAME DIR PATTERN [validate options]: validation fails with PATTERN on stderr.
rejects() {
    local name=$1 dir=$2 pat=$3; shift 3
    if validate "$@" "$dir" >/dev/null 2>err; then bad "$name (accepted)"
    elif grep -q -- "$pat" err; then ok "$name"
    else bad "$name (message: $(cat err))"; fi
}

# A good dir: 7 utterances of 3 speakers, relative media paths, every optional file.
mkdir -p d/media
for u in a1 a2 a3 b1 b2 c1 c2; do : >d/media/$u.mp4; echo "spk${u%?}-$u media/$u.mp4"; done >d/media.scp
awk '{ split($1, p, "-"); print $1, p[1] }' d/media.scp >d/utt2spk
printf 'spka spka-a1 spka-a2 spka-a3\nspkb spkb-b1 spkb-b2\nspkc spkc-c1 spkc-c2\n' >d/spk2utt
awk '{ print $1, "WORDS OF", NR }' d/media.scp >d/text
printf 'spka-a1 0 0 8 8\nspkc-c2 1 2 3 4\n' >d/crops
printf 'spka-a2 snr=5\nspkb-b1 snr=10\n' >d/conditions
printf 'spka-a1 1 0.10 0.05 h\nspka-a1 1 0.15 0.07 ay\nspkc-c1 1 0.20 0.10 ow\n' >d/phones.ctm
echo "notes are not data" >d/README.txt
expect "a good dir validates with a summary" \
  'validate d >out 2>err && [ "$(cat out)" = "d: ok (7 utterances, 3 speakers, 7 transcripts)" ] && [ ! -s err ]'
expect "--require-text accepts a full text" 'validate --require-text d >/dev/null'

# One defect per copy of the good dir.
variant() { rm -rf v; cp -r d v; }
variant; rm v/media.scp;                                rejects "no scp" v "v: no media.scp or wav.scp"
variant; mv v/media.scp v/wav.scp
expect "wav.scp is accepted instead of media.scp" 'validate v >/dev/null 2>&1'
variant; sed -i '3{h;d};4G' v/text;                     rejects "unsorted text" v "v/text:4: id 'spka-a3' is out of order (after 'spkb-b1'"
variant; sed -i '2p' v/media.scp;                       rejects "duplicate scp id" v "v/media.scp:3: duplicate id 'spka-a2'"
variant; echo "spkz-z9 WORDS" >>v/text;                 rejects "text id not in the dir" v "v/text:8: id 'spkz-z9' is not an utterance of v"
variant; rm v/media/b2.mp4;                             rejects "missing media file" v "v/media.scp:5: no such file 'v/media/b2.mp4'"
expect "--no-check-paths skips the media check" 'validate --no-check-paths v >/dev/null 2>&1'
variant; sed -i '2s/$/ x/' v/utt2spk;                   rejects "utt2spk with 3 fields" v "v/utt2spk:2: expected 2 fields, got 3"
variant; sed -i '1s/ spka-a2//' v/spk2utt;              rejects "spk2utt not matching utt2spk" v "v/spk2utt:1: utterances of 'spka' do not match utt2spk"
variant; sed -i '3d' v/spk2utt;                         rejects "spk2utt missing a speaker" v "v/spk2utt: lists 2 of the 3 speakers of utt2spk"
variant; echo "spkq spkq-q1" >>v/spk2utt;               rejects "spk2utt speaker not in utt2spk" v "v/spk2utt:4: id 'spkq' is not a speaker"
variant; sed -i '2s/$/\r/' v/conditions;                rejects "carriage return" v "v/conditions:2: carriage return"
variant; sed -i '2s/.*//' v/text;                       rejects "empty line" v "v/text:2: empty line"
variant; sed -i '1s/ 8 8$/ 8/' v/crops;                 rejects "crops with 4 fields" v "v/crops:1: expected 5 fields, got 4"
variant; sed -i '7d' v/text;                            rejects "--require-text with a missing transcript" v \
                                                            "transcripts for 6 of 7 utterances" --require-text
variant; echo "spkz-z1 1 0 1 x" >>v/phones.ctm;         rejects "ctm line of an unknown utterance" v "v/phones.ctm:4: id 'spkz-z1' is not an utterance"
variant; sed -i '1{h;d};3G' v/phones.ctm;               rejects "ctm out of order" v "v/phones.ctm:3: id 'spka-a1' is out of order"
variant; rm v/utt2spk;                                  rejects "spk2utt without utt2spk" v "spk2utt without utt2spk"
variant; : >v/media.scp;                                rejects "empty scp" v "v/media.scp: empty file"
rm -rf v; expect "a missing dir is an error" '! validate v 2>err && grep -q "v: no such data directory" err'
# C-locale order of numeric-looking ids ("10" < "9"), never numeric order.
mkdir -p num; printf '10 x.mp4\n9 x.mp4\n' >num/media.scp; : >num/x.mp4
expect "ids are compared as strings in the C locale" 'validate num >/dev/null 2>&1'
printf '9 x.mp4\n10 x.mp4\n' >num/media.scp;                    rejects "numeric order is not C order" num "num/media.scp:2: id '10' is out of order"

# segments: recordings in the scp, times checked.
mkdir -p s; : >s/r1.wav; : >s/r2.wav
printf 'r1 r1.wav\nr2 r2.wav\n' >s/wav.scp
printf 'r1-1 r1 0 1.5\nr1-2 r1 1.5 3\nr1-3 r1 3 -1\nr2-1 r2 0.25 2\nr2-2 r2 2 4\n' >s/segments
printf 'r1-1 A\nr1-2 B\nr1-3 C\nr2-1 D\nr2-2 E\n' >s/text
expect "a dir with segments validates" '[ "$(validate s)" = "s: ok (5 utterances, 0 speakers, 5 transcripts)" ]'
cp -r s sv; sed -i '2s/ r1 / r9 /' sv/segments;        rejects "segment of an unknown recording" sv "sv/segments:2: recording 'r9' is not in the scp"
rm -rf sv; cp -r s sv; sed -i '4s/0.25 2/2 1/' sv/segments; rejects "segment ending before it starts" sv "sv/segments:4: bad times '2 1'"
rm -rf sv; cp -r s sv; echo "r1 A" >sv/text;             rejects "text keyed by recording, not utterance" sv "sv/text:1: id 'r1' is not an utterance"

# --- split_data.sh: 7 utterances into 3 parts of 3, 2, 2 (utterance i -> floor(3i/7) + 1).
expect "split_data.sh into 3 parts" 'bash $C/split_data.sh d 3'
parts_ok=1
for k in 1 2 3; do validate d/split3/$k >/dev/null 2>&1 || parts_ok=0; done
expect "every part validates" '[ $parts_ok = 1 ]'
expect "parts hold 3, 2, 2 contiguous utterances" \
  '[ "$(cut -d" " -f1 d/split3/1/media.scp | tr "\n" " ")" = "spka-a1 spka-a2 spka-a3 " ] &&
   [ "$(cut -d" " -f1 d/split3/2/media.scp | tr "\n" " ")" = "spkb-b1 spkb-b2 " ] &&
   [ "$(cut -d" " -f1 d/split3/3/media.scp | tr "\n" " ")" = "spkc-c1 spkc-c2 " ]'
expect "the parts join back into the dir (every file)" \
  '[ "$(cat d/split3/*/text)" = "$(cat d/text)" ] && [ "$(cat d/split3/*/utt2spk)" = "$(cat d/utt2spk)" ] &&
   [ "$(cat d/split3/*/spk2utt)" = "$(cat d/spk2utt)" ] && [ "$(cat d/split3/*/crops)" = "$(cat d/crops)" ] &&
   [ "$(cat d/split3/*/conditions)" = "$(cat d/conditions)" ] && [ "$(cat d/split3/*/phones.ctm)" = "$(cat d/phones.ctm)" ] &&
   [ "$(cat d/split3/1/phones.ctm | wc -l)" = 2 ]'
expect "relative media paths become absolute" \
  '[ "$(head -1 d/split3/1/media.scp)" = "spka-a1 $PWD/d/media/a1.mp4" ]'
expect "non-data files are not copied" '[ ! -e d/split3/1/README.txt ]'
expect "a part without crops lines gets an empty crops file" '[ -f d/split3/2/crops ] && [ ! -s d/split3/2/crops ]'
: >d/phones; bash $C/split_data.sh d 3 >/dev/null 2>&1
expect "an empty source file is an empty file in every part" \
  '[ -f d/split3/1/phones ] && [ -f d/split3/3/phones ] && [ ! -s d/split3/3/phones ] && validate d/split3/3 >/dev/null'
rm d/phones
bash $C/split_data.sh d 2 >/dev/null 2>&1
expect "a speaker split across parts is in both spk2utt files" \
  '[ "$(cat d/split2/1/spk2utt)" = "$(printf "spka spka-a1 spka-a2 spka-a3\nspkb spkb-b1")" ] &&
   [ "$(cat d/split2/2/spk2utt)" = "$(printf "spkb spkb-b2\nspkc spkc-c1 spkc-c2")" ]'
expect "split into 7 (one utterance each)" 'bash $C/split_data.sh d 7 && [ "$(cat d/split7/7/media.scp | wc -l)" = 1 ]'
expect "more parts than utterances is an error" '! bash $C/split_data.sh d 8 2>err && grep -q "7 utterances cannot make 8 non-empty parts" err'
expect "N=0 is an error" '! bash $C/split_data.sh d 0 2>err && grep -q "N must be a positive integer" err'
expect "split with segments: a recording goes to each part that cuts it" \
  'bash $C/split_data.sh s 2 && [ "$(cut -d" " -f1 s/split2/1/segments | tr "\n" " ")" = "r1-1 r1-2 r1-3 " ] &&
   [ "$(cut -d" " -f1 s/split2/1/wav.scp)" = r1 ] && [ "$(cut -d" " -f1 s/split2/2/wav.scp)" = r2 ] &&
   validate s/split2/1 >/dev/null && validate s/split2/2 >/dev/null'
bash $C/split_data.sh s 4 >/dev/null 2>&1
expect "split with segments: r1 cut across parts 1 and 2" \
  '[ "$(cat s/split4/1/segments | wc -l)" = 2 ] && [ "$(cut -d" " -f1 s/split4/2/wav.scp)" = r1 ] &&
   [ "$(cut -d" " -f1 s/split4/2/segments | tr "\n" " ")" = "r1-3 " ] && validate s/split4/2 >/dev/null'

# --- subset_data_dir.sh
ids() { cut -d" " -f1 "$1/media.scp" | tr "\n" " "; }
expect "--first 2" 'bash $C/subset_data_dir.sh --first 2 d f2 && [ "$(ids f2)" = "spka-a1 spka-a2 " ] &&
   [ "$(cat f2/spk2utt)" = "spka spka-a1 spka-a2" ] && validate f2 >/dev/null'
expect "--last=3" 'bash $C/subset_data_dir.sh --last=3 d l3 && [ "$(ids l3)" = "spkb-b2 spkc-c1 spkc-c2 " ] &&
   [ "$(cat l3/crops)" = "spkc-c2 1 2 3 4" ] && validate l3 >/dev/null'
expect "--random 3 is sorted, valid and a subset" \
  'bash $C/subset_data_dir.sh --random 3 --seed 5 d r3 && [ "$(wc -l <r3/media.scp)" = 3 ] && validate r3 >/dev/null &&
   [ -z "$(comm -23 r3/text d/text)" ]'
expect "--random is reproducible with the same seed" \
  'bash $C/subset_data_dir.sh --random 3 --seed 5 d r3b && cmp -s r3/media.scp r3b/media.scp'
# Seeds 1..5 must not all give the same subset (the draw depends on the seed).
for s in 1 2 3 4 5; do bash $C/subset_data_dir.sh --random 3 --seed $s d rs$s; done
expect "--random depends on the seed" '[ "$(cat rs*/media.scp | sort -u | wc -l)" -gt 3 ]'
printf 'spkb\nspkz\n' >spks
expect "--spk-list keeps those speakers" 'bash $C/subset_data_dir.sh --spk-list spks d sb && [ "$(ids sb)" = "spkb-b1 spkb-b2 " ] &&
   [ "$(cat sb/spk2utt)" = "spkb spkb-b1 spkb-b2" ] && [ "$(cat sb/conditions)" = "spkb-b1 snr=10" ] && validate sb >/dev/null'
expect "--spk-list --exclude keeps the others" 'bash $C/subset_data_dir.sh --spk-list spks --exclude d sx &&
   [ "$(ids sx)" = "spka-a1 spka-a2 spka-a3 spkc-c1 spkc-c2 " ] && validate sx >/dev/null'
printf 'spkc-c2\nspka-a1\n' >utts
expect "--utt-list keeps those utterances" 'bash $C/subset_data_dir.sh --utt-list utts d ul && [ "$(ids ul)" = "spka-a1 spkc-c2 " ] &&
   [ "$(cat ul/crops)" = "$(cat d/crops)" ] && validate ul >/dev/null'
expect "--first beyond the dir keeps all, with a warning" \
  'bash $C/subset_data_dir.sh --first 10 d f10 2>err && cmp -s f10/text d/text && grep -q "fewer than 10" err'
expect "an empty subset is an error" \
  '! bash $C/subset_data_dir.sh --first 0 d f0 2>err && grep -q "the subset has no utterances" err'
expect "two modes at once are an error" \
  '! bash $C/subset_data_dir.sh --first 1 --last 1 d x 2>err && grep -q "give only one of" err'
expect "--exclude with --first is an error" '! bash $C/subset_data_dir.sh --first 1 --exclude d x 2>/dev/null'
rm utt2spk 2>/dev/null; cp -r s s2
expect "--spk-list without utt2spk is an error" \
  '! bash $C/subset_data_dir.sh --spk-list spks s2 x 2>err && grep -q "needs utt2spk" err'
expect "subset with segments keeps only the needed recordings" \
  'printf "r2-2\n" >u2 && bash $C/subset_data_dir.sh --utt-list u2 s ss && [ "$(cat ss/wav.scp)" = "r2 $PWD/s/r2.wav" ] && validate ss >/dev/null'
expect "the destination may not be the source" '! bash $C/subset_data_dir.sh --first 1 d d 2>err && grep -q "output is the source dir" err'

echo "$((n-fails)) passed, $fails failed"
[ $fails = 0 ]
