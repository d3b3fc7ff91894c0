#!/usr/bin/env bash
# timeout: 240
# The README's command table, run as written (in order) on a tiny synthetic corpus. Only
# sizes are shrunk, by options appended after the README's own (later options win):
# fewer speakers, a smaller model, a few steps. data/ is the synthesised corpus, data/test
# its clean test set. Every command must succeed and leave the files the next one reads.
set -u
fail() { echo "FAIL: $*"; exit 1; }
readme=$AVMASK_ROOT/README.md
mapfile -t cmds < <(sed -n 's/^| `[a-z0-9-]*` | `\(avmask [^`]*\)` |$/\1/p' "$readme")
[ ${#cmds[@]} = 14 ] || fail "expected 14 commands in the README table, found ${#cmds[@]}"
ln -s "$AVMASK_ROOT/conf" conf
small=(--model=tiny --d=32 --ffn=64 --heads=2 --layers-audio=1 --layers-video=1 --layers-fusion=1)
run() {   # the README command, with extra options appended
    local c=$1; shift
    echo "+ $c $*"
    eval "set -- ${c#avmask } \"\$@\""
    "$AVMASK" "$@" --threads=2 >out.txt 2>err.txt || { cat err.txt; fail "$c"; }
}
for c in "${cmds[@]}"; do
    case $c in
    "avmask synth "*)
        run "$c" --speakers=4 --utts-per-speaker=3 --heldout-speakers=2 --snr=clean,5
        ln -s corpus/synth data && ln -s test_clean corpus/synth/test ;;
    "avmask synth-slu "*)   # its own corpus, beside the one the other commands use
        run "$c" --speakers-per-family=3 --utts-per-speaker=2 --menus=5 --test-titles=10 --train-titles=10
        [ -s corpus/slu/test/intent ] && [ -s corpus/slu/text_corpus.txt ] || fail "synth-slu wrote no corpus" ;;
    "avmask extract "*)
        for set in train dev test; do run "${c//train/$set}"; done ;;
    "avmask info "*)
        run "$c"; grep -q "^utterances: *[0-9]" out.txt || fail "info prints no utterance count" ;;
    "avmask pretrain "*)
        run "$c" "${small[@]}" --max-steps=4 --batch-tokens=800 --valid-every=2 --warmup=1 ;;
    "avmask kmeans "*)   # the tiny corpus has a few hundred tokens: fewer clusters, all sampled
        run "$c" --k=8 --sample=1 ;;
    "avmask finetune "*)
        run "$c" --max-steps=4 --valid-every=2 ;;
    "avmask textlm "*)   # synth-slu's sentences, a tiny model, a few steps
        run "$c" --d=32 --ffn=64 --heads=2 --layers=1 --max-steps=4 --warmup=1 ;;
    "avmask s2i "*)   # the command corpus' features first (extract's row makes the AV corpus')
        "$AVMASK" extract --data=corpus/slu/train --out=feats/slu/train --threads=2 >/dev/null 2>err.txt ||
            { cat err.txt; fail "extract corpus/slu/train"; }
        run "$c" --max-steps=2 --warmup=1 ;;
    "avmask tinys2i "*)   # after s2i: its features exist
        run "$c" --max-steps=2 --warmup=1 --d=32 --ffn=64 ;;
    *)  run "$c" ;;
    esac
done
for f in feats/train/index.tsv feats/dev/cmvn.h5 exp/km1/codebook.h5 exp/av/checkpoint-best.h5 exp/av/export/model.safetensors \
         exp/av/ctc/model/units.txt exp/av/ctc/decode_test/hyp exp/av/ctc/decode_test/eval.json \
         exp/report/report.md exp/report/report.html exp/textlm/model/text_encoder.h5 exp/s2i/model/s2i_head.h5 \
         exp/tinys2i/model/tinys2i_head.h5; do
    [ -s "$f" ] || fail "$f missing or empty"
done
grep -q "audio-visual" exp/report/report.md || fail "report does not name the pretraining kind"
echo "test_readme: ok"
