#!/usr/bin/env bash
# avmask recipe for spoken language understanding on the embedded spoken-command corpus
# (avmask synth-slu; nothing is downloaded):
#   ./run.sh [--profile=quick|full] [--stage=N] [--stop-stage=N] [--nj=N] [--threads=N]
# Stages:
#   0 synthesise the command corpus (corpus/<profile>: train, dev, test with the held-out
#     voice family and speakers at every SNR)
#   1 extract features of train, dev and test
#   2 text corpus + text encoder (avmask textlm: the corpus' text_corpus.txt, and with
#     general_text=true fortunes and WordNet's glosses, recipes/steps/text_corpus.sh)
#   3 audio pretraining on the command corpus' audio (avmask pretrain --modalities=audio) and
#     its export; or --init-export=DIR: a given export instead (the stage then does nothing);
#     then, with asr_init_steps > 0, that encoder fine-tuned with phone CTC on the training
#     transcripts into exp/<profile>/asr_init: the ASR-trained encoder S2I starts from, as in
#     the paper (docs/slu.md "The encoder")
#   4 S2I arms (avmask s2i, from asr_init/model-best or else the export; --nj of them side by
#     side, each on threads / nj threads): every cross-modal loss of $xmodal_losses (none,
#     triplet; l2, infonce as options) x every labelled fraction of $label_fractions (1, 0.1) x
#     every training seed of $train_seeds, into exp/<profile>/<loss>[-l<percent>][-s<N>]/s2i
#   5 TinyS2I (avmask tinys2i, docs/slu.md "TinyS2I"): a tiny audio encoder (fresh; with
#     tinys2i_asr_init_steps > 0 first trained with phone CTC on the training transcripts into
#     exp/<profile>/tinys2i_asr_init), decision and command heads and a title encoder trained
#     jointly into exp/<profile>/tinys2i, then the test set decoded with the menus of 5, 20 and
#     100 unseen titles (one thread, nothing beside it: its latency) and scored (avmask eval
#     --unit=tinys2i) into exp/<profile>/tinys2i/decode_test_menuN; and its CTC baseline
#     (docs/slu.md "The CTC baseline"): S2I's encoder fine-tuned with CTC on the training
#     transcripts' characters into exp/<profile>/ctc_menu, its test transcripts matched to the
#     training transcripts (intent) and to the same menus (title), scored alike into
#     exp/<profile>/ctc_menu/decode_test_menuN
#   6 decode + score the held-out test set (--nj decodes side by side): intent accuracy overall
#     and by condition (SNR, voice family, seen/unseen paraphrase, intent class), confusion
#     matrices
#   7 report (exp/<profile>/report/report.md, .html): intent accuracy by test set, mean ± sd
#     over the seeds, paired bootstrap comparisons of each loss against none; the TinyS2I
#     results by menu size with the model's size and latency, beside the CTC baseline's
# A stage whose output is complete is skipped, so rerunning from --stage=N reuses the rest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

profile=quick
stage=0
stop_stage=100
nj=2
threads=2
seed=1
workdir=.   # where corpus/, feats/ and exp/ go (relative to this recipe's directory)
init_export=        # an export dir (avmask export) to fine-tune instead of stage 3's pretraining
xmodal_losses="none triplet"   # cross-modal losses of the arms (none l2 triplet infonce)
label_fractions="1 0.1"        # labelled fractions of the arms (s2i --label-fraction)
train_seeds="1 2"              # training seeds: seed N trains with --seed=<seed + N - 1> into <arm>-s<N>
s2i_opts=                      # extra options for every S2I arm (avmask s2i --help)
help_message="usage: $0 [--profile=quick|full] [--stage=N] [--stop-stage=N] [--nj=N] [--threads=N] [--seed=N]
  [--workdir=DIR] [--init-export=DIR] [--xmodal-losses=\"none triplet\"] [--label-fractions=\"1 0.1\"]
  [--train-seeds=\"1 2\"] [--s2i-opts=\"...\"] [any variable of conf/<profile>.sh, e.g. --s2i-steps=N]"
# what a profile (conf/<profile>.sh) sets; options on the command line override it
speakers_per_family= utts_per_speaker= train_titles= test_titles= general_text=
textlm_steps= textlm_batch_tokens= model= pretrain_steps= pretrain_batch_tokens= pretrain_lr=
asr_init_steps= asr_init_lr= asr_init_opts= tinys2i_asr_init_steps= tinys2i_asr_init_lr=
s2i_steps= s2i_lr= s2i_warmup= s2i_batch_tokens= valid_every= xmodal_weight=
tinys2i_steps= tinys2i_lr= tinys2i_batch_tokens= tinys2i_title_weight= tinys2i_defer_below=
ctc_steps= ctc_lr= ctc_warmup= ctc_batch_tokens= ctc_opts=
. "$here/../common/profile.sh"   # options, conf/$profile.sh, path.sh; corpus, feats, exp
for v in $train_seeds; do [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "$0: --train-seeds: '$v' is not a seed >= 1" >&2; exit 1; }; done
for v in $xmodal_losses; do
    [[ $v =~ ^(none|l2|triplet|infonce)$ ]] || { echo "$0: --xmodal-losses: '$v' is not none, l2, triplet or infonce" >&2; exit 1; }
done
for v in $label_fractions; do
    awk -v f="$v" 'BEGIN { exit !(f + 0 > 0 && f + 0 <= 1 && f ~ /^[0-9.]+$/) }' ||
        { echo "$0: --label-fractions: '$v' is not a fraction in (0, 1]" >&2; exit 1; }
done

# The arm of loss $1 at fraction $2, seed $3: <loss>[-l<percent>][-s<N>] (seed 1: no suffix).
arm() {
    local n=$1 pct
    pct=$(awk -v f="$2" 'BEGIN { printf "%g", 100 * f }')
    [ "$pct" = 100 ] || n=$n-l$pct
    [ "$3" -gt 1 ] && n=$n-s$3
    echo $n
}
# The lowest validation error of a training run (its model-best; common/best_valid.sh), one decimal.
best_err() { bash "$utils/best_valid.sh" "$1" | awk '{ printf "%.1f", $2 }'; }
arms() { local x f ts; for x in $xmodal_losses; do for f in $label_fractions; do for ts in $train_seeds; do
    echo "$x $f $ts $(arm $x $f $ts)"; done; done; done; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
    step 0 "synthesise the spoken-command corpus into $corpus"
    if [ ! -f "$corpus/slu.json" ]; then
        run_logged "$exp/log/synth_slu.log" "$avmask" synth-slu --out="$corpus" --overwrite \
            --speakers-per-family=$speakers_per_family --utts-per-speaker=$utts_per_speaker \
            --train-titles=$train_titles --test-titles=$test_titles --seed=$seed
    fi
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
    step 1 "extract features"
    for set in train dev test; do
        "$steps/make_feats.sh" --cmd "" --nj $nj "$corpus/$set" "$feats/$set" "$exp/log"
    done
fi

textlm=$exp/textlm
if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
    step 2 "text corpus and text encoder (textlm, $textlm_steps steps)"
    text=$corpus/text_corpus.txt
    if [ "$general_text" = true ]; then   # fortunes and WordNet's glosses, then the commands
        text=$exp/text_corpus.txt
        [ -s "$text" ] || run_logged "$exp/log/text_corpus.log" bash "$steps/text_corpus.sh" "$text" \
            "$corpus/text_corpus.txt"
    fi
    if [ ! -f "$textlm/.done" ]; then
        run_logged "$textlm/log/textlm.log" "$avmask" textlm --text="$text" --out="$textlm" --max-steps=$textlm_steps \
            --batch-tokens=$textlm_batch_tokens --valid-every=$textlm_steps --seed=$seed --threads=$threads --resume
        touch "$textlm/.done"
    fi
fi

export_dir=${init_export:-$exp/pretrain/export}
if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
    if [ -n "$init_export" ]; then
        step 3 "audio pretraining: the given export $init_export is used"
        [ -f "$init_export/config.json" ] || { echo "$0: --init-export: $init_export/config.json missing" >&2; exit 1; }
    else
        step 3 "audio pretraining on the command audio ($model, $pretrain_steps steps) and export"
        "$steps/pretrain.sh" "$feats/train" "$feats/dev" "$exp/pretrain" --config="$avmask_root/conf/$model.conf" \
            --modalities=audio --max-steps=$pretrain_steps --batch-tokens=$pretrain_batch_tokens --lr=$pretrain_lr \
            --valid-every=$valid_every --save-every=$valid_every --seed=$seed --threads=$threads
        "$steps/export.sh" "$exp/pretrain/checkpoint-best.h5" "$export_dir"
    fi
    if [ "$asr_init_steps" -gt 0 ]; then
        echo "   asr_init: $export_dir fine-tuned with phone CTC ($asr_init_steps steps) for S2I"
        "$steps/finetune.sh" "$export_dir" "$feats/train" "$corpus/train" "$feats/dev" "$corpus/dev" "$exp/asr_init" \
            --unit=phone --max-steps=$asr_init_steps --lr=$asr_init_lr --warmup=$s2i_warmup \
            --batch-tokens=$s2i_batch_tokens --valid-every=$valid_every --seed=$seed --threads=$threads $asr_init_opts
        echo "   asr_init: dev PER $(best_err "$exp/asr_init") % (model-best)"
    fi
fi

s2i_init=$export_dir   # what the S2I arms fine-tune: the ASR-trained encoder when there is one
[ "$asr_init_steps" -gt 0 ] && s2i_init=$exp/asr_init/model-best

# The S2I arms and their decodes are independent runs: $nj of them side by side, each on
# threads / nj threads (a small model uses one thread better than two). pool_add CMD... starts
# one when a slot is free; pool_end waits for all and fails if any did.
job_threads=$((threads / nj)); [ $job_threads -ge 1 ] || job_threads=1
pool_pids=()
pool_add() { while [ "$(jobs -rp | wc -l)" -ge "$nj" ]; do wait -n || true; done; "$@" </dev/null & pool_pids+=($!); }
pool_end() { local p rc=0; for p in "${pool_pids[@]}"; do wait "$p" || rc=1; done; pool_pids=(); return $rc; }

# One S2I arm: loss $1, fraction $2, seed $3, name $4; then its model-best's dev accuracy.
arm_train() {
    "$steps/s2i.sh" "$s2i_init" "$feats/train" "$corpus/train" "$feats/dev" "$corpus/dev" "$corpus/intents.txt" \
        "$exp/$4/s2i" --text-model="$textlm/model" --xmodal-loss=$1 --xmodal-weight=$xmodal_weight \
        --label-fraction=$2 --max-steps=$s2i_steps --lr=$s2i_lr --warmup=$s2i_warmup \
        --batch-tokens=$s2i_batch_tokens --valid-every=$valid_every --seed=$((seed + $3 - 1)) \
        --threads=$job_threads $s2i_opts
    echo "   $4/s2i: dev accuracy of model-best $(best_err "$exp/$4/s2i" | awk '{ printf "%.1f", 100 - $1 }') %"
}

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
    step 4 "S2I arms: losses ($xmodal_losses) x label fractions ($label_fractions) x seeds ($train_seeds), $nj at a time"
    while read -r x f ts name; do pool_add arm_train $x $f $ts $name; done < <(arms)
    pool_end || { echo "$0: stage 4: an S2I arm failed (its exp/$profile/<arm>/s2i/log/s2i.log)" >&2; exit 1; }
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
    step 5 "TinyS2I ($tinys2i_steps steps), its CTC baseline ($ctc_steps steps) and their test decoding with menus of 5, 20 and 100 unseen titles"
    tiny_init=none
    if [ "$tinys2i_asr_init_steps" -gt 0 ]; then   # TinyS2I's own encoder size, trained with phone CTC first
        "$steps/finetune.sh" none "$feats/train" "$corpus/train" "$feats/dev" "$corpus/dev" "$exp/tinys2i_asr_init" \
            --model=tiny --d=64 --ffn=256 --heads=4 --layers-audio=2 --layers-fusion=1 --unit=phone \
            --max-steps=$tinys2i_asr_init_steps --lr=$tinys2i_asr_init_lr --warmup=$s2i_warmup \
            --batch-tokens=$tinys2i_batch_tokens --valid-every=$valid_every --seed=$seed --threads=$threads $asr_init_opts
        tiny_init=$exp/tinys2i_asr_init/model-best
        echo "   tinys2i_asr_init: a fresh tiny encoder trained with phone CTC ($tinys2i_asr_init_steps steps): dev PER $(best_err "$exp/tinys2i_asr_init") %"
    fi
    "$steps/tinys2i.sh" --threads $threads --defer-below "$tinys2i_defer_below" --init "$tiny_init" "$feats/train" "$corpus/train" "$feats/dev" "$corpus/dev" \
        "$corpus/intents.txt" "$feats/test" "$corpus/test" "$exp/tinys2i" --max-steps=$tinys2i_steps \
        --lr=$tinys2i_lr --warmup=$s2i_warmup --batch-tokens=$tinys2i_batch_tokens --title-weight=$tinys2i_title_weight \
        --valid-every=$valid_every --seed=$seed
    "$steps/ctc_menu.sh" --threads $threads "$s2i_init" "$feats/train" "$corpus/train" "$feats/dev" "$corpus/dev" \
        "$corpus/intents.txt" "$feats/test" "$corpus/test" "$exp/ctc_menu" --max-steps=$ctc_steps --lr=$ctc_lr \
        --warmup=$ctc_warmup --batch-tokens=$ctc_batch_tokens --valid-every=$valid_every --seed=$seed $ctc_opts
    for n in 5 20 100; do
        for sys in tinys2i ctc_menu; do
            echo "   $sys, menus of $n: $(sed -n 's/^title match *%ACC *\([0-9.]*\).*/\1/p' \
                "$exp/$sys/decode_test_menu$n/eval.txt") % top-1 title"
        done
    done
    echo "   ctc_menu: test $(sed -n 's/^\(%ERR [0-9.]*\).*/\1/p' "$exp/ctc_menu/decode_test_menu5/wer.txt") (WER of its transcripts)"
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
    step 6 "decode and score the held-out test set (intent accuracy by condition)"
    while read -r x f ts name; do
        pool_add "$steps/decode_score.sh" --threads $job_threads --unit intent --by "$corpus/test/conditions" \
            "$exp/$name/s2i" "$feats/test" "$corpus/test/intent" "$exp/$name/s2i/decode_test"
    done < <(arms)
    pool_end || { echo "$0: stage 6: a decode failed (its exp/$profile/<arm>/s2i/decode_test/log/)" >&2; exit 1; }
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
    step 7 "report"
    pairs=   # each cross-modal loss against none, at each fraction
    for x in $xmodal_losses; do
        [ $x = none ] && continue
        [[ " $xmodal_losses " == *" none "* ]] || continue
        for f in $label_fractions; do pairs+="$(arm $x $f 1)/s2i,$(arm none $f 1)/s2i "; done
    done
    compare=(); [ -n "$pairs" ] && compare=(--compare-intent="${pairs% }")
    run_logged "$exp/log/report.log" "$avmask" report --exp="$exp" --out="$exp/report" \
        --conditions=snr,family,paraphrase,class --title="avmask slu_synth ($profile profile)" "${compare[@]}"
    echo "report: $PWD/$exp/report/report.md (and report.html)"
fi
