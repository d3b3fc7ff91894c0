# timeout: 120
# avmask synth: a small corpus decodes with the ffmpeg CLI, has consistent Kaldi data
# dirs, matching audio/video durations, phone timings that match the audio, the stated
# SNRs, a noise floor 40-70 dB below the speech in every clean utterance and no
# held-out speaker in train (tests/ref/synth_check.py); the fbank of clean pauses is
# off the log floor and 40+ dB below the phones (tests/ref/synth_floor.py); the noise/
# data dir validates, extracts audio-only and holds babble of training speakers only
# (tests/ref/synth_noise_check.py), --noise-clips/--noise-clip-seconds set it and 0
# leaves it out; the same arguments
# give byte-identical output and identical decoded media; an utterance does not
# depend on how many others are generated; more speakers with as many more held out leave
# train and noise/ byte-identical and test on the new speakers only; --clean-twins adds
# train_clean/ and dev_clean/ (the --train-clean=1 corpus's media, the rest unchanged);
# another seed gives another corpus.
set -eu
args="--speakers=4 --utts-per-speaker=3 --seed=1 --threads=1"
"$AVMASK" synth --out=c1 $args 2>log1
cat log1
ls -d c1.tmp-* 2>/dev/null && { echo "temporary directory left behind"; exit 1; }
"$PY" "$AVMASK_ROOT/tests/ref/synth_check.py" c1 96 25 16000
"$AVMASK" extract --data=c1/test_clean --out=f1 --nj=1 --threads=1 2>/dev/null
"$PY" "$AVMASK_ROOT/tests/ref/synth_floor.py" f1 c1/test_clean
bash "$AVMASK_ROOT/recipes/common/validate_data_dir.sh" c1/noise
"$AVMASK" extract --data=c1/noise --out=n1 --nj=1 --threads=1 2>/dev/null
"$PY" "$AVMASK_ROOT/tests/ref/synth_noise_check.py" c1 n1 40 10 16000

# determinism: same arguments => same bytes, and the same decoded frames and samples
"$AVMASK" synth --out=c2 $args 2>/dev/null
diff -r c1 c2
f=media/spk004/spk004-u0001-snr5.mp4
ffmpeg -v error -i "c1/$f" -f framemd5 - >md5a
ffmpeg -v error -i "c2/$f" -f framemd5 - >md5b
[ "$(grep -c '^[01],' md5a)" -gt 50 ] || { echo "framemd5 has too few frames"; exit 1; }
cmp md5a md5b

# per-utterance seeding: fewer utterances per speaker leave the others unchanged
"$AVMASK" synth --out=c3 --speakers=4 --utts-per-speaker=2 --heldout-speakers=2 --seed=1 2>/dev/null
cmp c1/media/spk002/spk002-u0002.mp4 c3/media/spk002/spk002-u0002.mp4
cmp c1/media/spk004/spk004-u0001-snr0.mp4 c3/media/spk004/spk004-u0001-snr0.mp4
[ "$(wc -l <c3/train/text)" = 4 ]
cmp c1/media/noise/stationary-0003.wav c3/media/noise/stationary-0003.wav

# fresh test speakers for the same corpus: 2 more speakers, 2 more held out -> train and
# noise/ byte-identical, the test sets hold only the new speakers (spk005-006)
"$AVMASK" synth --out=c6 --speakers=6 --utts-per-speaker=3 --heldout-speakers=4 --seed=1 --threads=1 2>/dev/null
diff -r c1/train c6/train
diff -r c1/noise c6/noise
for f in c1/media/spk001/*.mp4 c1/media/spk002/*.mp4 c1/media/noise/*; do cmp "$f" "c6/${f#c1/}"; done
[ "$(cut -d' ' -f2 c6/test_clean/utt2spk | sort -u | tr '\n' ' ')" = "spk005 spk006 " ] || { echo "fresh test speakers: $(cut -d' ' -f2 c6/test_clean/utt2spk | sort -u)"; exit 1; }

# --clean-twins: train_clean/ and dev_clean/ hold every train and dev utterance under its
# own id with its audio before the noise and the same video, byte for byte the media of the
# same corpus made with --train-clean=1; every other file is unchanged
"$AVMASK" synth --out=c7 $args --clean-twins 2>/dev/null
"$AVMASK" synth --out=c8 $args --train-clean=1 2>/dev/null
(cd c1 && find . -type f ! -name synth.json) | while read -r f; do cmp "c1/$f" "c7/$f"; done
grep -q '"clean_twins":true' c7/synth.json && grep -q '"clean_twins":false' c1/synth.json
for s in train dev; do
    bash "$AVMASK_ROOT/recipes/common/validate_data_dir.sh" c7/${s}_clean
    for f in text phones.ctm crops utt2spk spk2utt conditions; do cmp c7/${s}_clean/$f c8/$s/$f; done
    cut -d' ' -f1 c1/$s/media.scp | cmp - <(cut -d' ' -f1 c7/${s}_clean/media.scp)
    while read -r u p; do cmp "c7/${s}_clean/$p" "c8/$s/$(sed -n "s|^$u ||p" c8/$s/media.scp)"; done <c7/${s}_clean/media.scp
done
# a clean utterance's twin is its own file, a noisy one's a new file with the same video
nclean=$(awk '$2 == "snr=clean"' c1/train/conditions | wc -l); nt=$(wc -l <c1/train/conditions)
[ "$nclean" -ge 1 ] && [ "$nclean" -lt "$nt" ] || { echo "train needs clean and noisy utterances: $nclean of $nt clean"; exit 1; }
[ "$(grep -c -- '-clean\.mp4$' c7/train_clean/media.scp)" = $((nt - nclean)) ] || { echo "noisy twins"; exit 1; }
u=$(awk '$2 != "snr=clean" {print $1; exit}' c1/train/conditions)
p=$(sed -n "s|^$u ||p" c7/train_clean/media.scp); q=$(sed -n "s|^$u ||p" c7/train/media.scp)
ffmpeg -v error -i "c7/train/$q" -map 0:v -f framemd5 - | grep -v '^#' >va
ffmpeg -v error -i "c7/train_clean/$p" -map 0:v -f framemd5 - | grep -v '^#' >vb
[ "$(grep -c . va)" -gt 10 ] && cmp va vb
ffmpeg -v error -i "c7/train/$q" -map 0:a -f md5 - >aa; ffmpeg -v error -i "c7/train_clean/$p" -map 0:a -f md5 - >ab
if cmp -s aa ab; then echo "$u: the twin has the noisy audio"; exit 1; fi
echo "clean twins: $nt train utterances, $((nt - nclean)) noisy ones with a new twin, same video"

# another seed, another corpus (and another size of noise/)
"$AVMASK" synth --out=c4 --speakers=4 --utts-per-speaker=3 --seed=2 --noise-clips=3 --noise-clip-seconds=2.5 2>/dev/null
"$AVMASK" extract --data=c4/noise --out=n4 --nj=1 --threads=1 2>/dev/null
"$PY" "$AVMASK_ROOT/tests/ref/synth_noise_check.py" c4 n4 3 2.5 16000
if cmp -s c1/media/noise/stationary-0001.wav c4/media/noise/stationary-0001.wav; then echo "seed 2 gave the same noise"; exit 1; fi
"$AVMASK" synth --out=c5 --speakers=3 --utts-per-speaker=1 --noise-clips=0 2>/dev/null
[ -e c5/noise ] || [ -e c5/media/noise ] && { echo "--noise-clips=0 still wrote noise/"; exit 1; }
if cmp -s c1/train/text c4/train/text; then echo "seed 2 gave the same sentences as seed 1"; exit 1; fi
if cmp -s c1/media/spk001/spk001-u0001.mp4 c4/media/spk001/spk001-u0001.mp4; then echo "seed 2 gave the same media"; exit 1; fi
echo "ok"
