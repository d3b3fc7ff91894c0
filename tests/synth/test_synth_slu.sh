# timeout: 240
# avmask synth-slu: a small spoken-command corpus passes tests/ref/synth_slu_check.py
# (consistent data dirs, intents and paraphrase labels against the text corpus, unseen
# paraphrases never in train, disjoint titles, held-out voice family only in test, menus,
# 16-bit WAVs at the rate with a noise floor, the stated SNRs), validates as Kaldi data
# dirs, and its intent and menu files read through data/slu.h (tests/tools/slu_read); a
# corrupted copy is refused by both; the same arguments give byte-identical output and
# another seed another corpus; the words title split shares no word; the audio-only data
# dirs extract to shards that pretraining (--modalities=audio) and CTC fine-tuning read.
set -eu
tools="$AVMASK_BUILD/tools"
args="--speakers-per-family=3 --utts-per-speaker=6 --test-titles=40 --train-titles=60 --menus=5,20 --threads=1"
"$AVMASK" synth-slu --out=c1 $args 2>log1
cat log1
grep -q '^synth-slu: 15 speakers, 24 train / 24 dev / 42 test commands' log1
ls -d c1.tmp-* 2>/dev/null && { echo "temporary directory left behind"; exit 1; }
"$PY" "$AVMASK_ROOT/tests/ref/synth_slu_check.py" c1 16000
for d in train dev test; do bash "$AVMASK_ROOT/recipes/common/validate_data_dir.sh" --require-text c1/$d; done
"$tools/slu_read" c1/test c1/intents.txt | tee read.txt
grep -q '^utterances 168 ' read.txt && grep -q 'menu5=' read.txt && grep -q 'menu20=' read.txt
# every held-out-family (slt) speaker is in test/ only; kal speakers use both of its voices
awk -F'\t' '$3 == "slt" && $2 != "test" {bad=1} END {exit bad}' c1/speakers.tsv
[ "$(awk -F'\t' '$2 == "test" && $3 == "slt"' c1/speakers.tsv | wc -l)" = 3 ]
grep -q 'family=kal voice=kal ' c1/*/conditions && grep -q 'family=kal voice=kal16 ' c1/*/conditions

# corrupted copies: the check and the readers refuse them
cp -r c1 bad
sed -i '2d' bad/test/intent
if "$tools/slu_read" bad/test bad/intents.txt 2>err.txt; then echo "missing intent line accepted"; exit 1; fi
grep -q 'bad/test/intent:2: no intent for utterance' err.txt
cp c1/test/intent bad/test/intent
sed -i '3s/ [a-z_]*$/ music_plya/' bad/test/intent
if "$tools/slu_read" bad/test bad/intents.txt 2>err.txt; then echo "unknown intent accepted"; exit 1; fi
grep -q "bad/test/intent:3: unknown intent 'music_plya'" err.txt
cp c1/test/intent bad/test/intent
sed -i '1s/|\([^|]*\)$/|\1|\1/' bad/test/menu5
if "$tools/slu_read" bad/test bad/intents.txt 2>err.txt; then echo "repeated title accepted"; exit 1; fi
grep -q "bad/test/menu5:1: title '.*' appears twice in the menu" err.txt
if "$PY" "$AVMASK_ROOT/tests/ref/synth_slu_check.py" bad 16000 >/dev/null; then echo "the check missed a bad menu"; exit 1; fi
cp c1/test/menu5 bad/test/menu5
head -1 c1/text_corpus.tsv | cut -f3 >t && u=$(head -1 bad/train/text | cut -d' ' -f1)
sed -i "1s/^$u .*/$u $(cat t)/" bad/train/text
if "$PY" "$AVMASK_ROOT/tests/ref/synth_slu_check.py" bad 16000 >/dev/null; then echo "the check missed a wrong intent"; exit 1; fi

# determinism: same arguments => same bytes; another seed => other commands, titles, audio
"$AVMASK" synth-slu --out=c2 $args 2>/dev/null
diff -r c1 c2
"$AVMASK" synth-slu --out=c3 $args --seed=2 2>/dev/null
for f in train/text test/text titles_test.txt wav/awb-001/awb-001-u0001.wav; do
    if cmp -s c1/$f c3/$f; then echo "seed 2 gave the same $f"; exit 1; fi
done

# the words split: no word of a test title in a train title; no held-out family
"$AVMASK" synth-slu --out=c4 --title-split=words --heldout-family=none --families=kal,rms \
    --speakers-per-family=3 --utts-per-speaker=3 --menus=5 --test-titles=20 --train-titles=30 2>/dev/null
"$PY" "$AVMASK_ROOT/tests/ref/synth_slu_check.py" c4 16000
"$PY" - <<'EOF'
import json
tr = {w for l in open("c4/titles_train.txt") for w in l.split()}
te = {w for l in open("c4/titles_test.txt") for w in l.split()}
assert not tr & te, f"words split shares {tr & te}"
assert json.load(open("c4/slu.json"))["titles"]["test_words_in_train_titles"] == 0
EOF

# audio-only: extract the data dirs, pretrain and fine-tune a few steps on them
"$AVMASK" extract --data=c1/train --out=ftr --nj=1 --threads=1 2>/dev/null
"$AVMASK" extract --data=c1/dev --out=fdv --nj=1 --threads=1 2>/dev/null
"$AVMASK" info ftr | grep -q 'video frames: none'
[ "$(wc -l <ftr/index.tsv)" = 24 ]
"$AVMASK" pretrain --feats=ftr --valid=fdv --out=pt --model=tiny --modalities=audio --max-steps=3 --warmup=1 \
    --threads=1 2>/dev/null
"$AVMASK" export --checkpoint=pt/checkpoint-last.h5 --out=pt/export 2>/dev/null
"$AVMASK" finetune --init=pt/export --feats=ftr --data=c1/train --valid=fdv --valid-data=c1/dev --unit=char \
    --out=pt/ctc --max-steps=3 --warmup=1 --threads=1 2>/dev/null
[ -d pt/ctc/model-best ] || [ -d pt/ctc/model ]
echo "ok"
