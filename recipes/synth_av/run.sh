#!/usr/bin/env bash
# avmask recipe on the embedded synthetic audio-visual corpus (no download needed).
#   ./run.sh [--profile=quick|full|clusters|long] [--stage=N] [--stop-stage=N] [--nj=N] [--threads=N]
# The corpus is small enough for one machine: --nj runs extraction jobs locally.
# Stages:
#   0 synthesise the corpus             4 export both audio branches
#   1 extract features                  5 fine-tune CTC (phones): scratch, audio-only, AV;
#   2 pretrain audio-visual               and a frozen-encoder probe of each (probe_steps)
#   3 pretrain audio-only (same budget)   at each probe_lr, the best on dev is kept
#     (target=clusters: each of 2 and 3   6 decode + score every held-out test set
#     runs its arm's HuBERT iterations)   7 report (exp/report/report.md, .html)
# A stage whose output is complete is skipped, so rerunning from --stage=N reuses the rest.
# Targets: target=features (default) reconstructs the masked features (L1). target=clusters
# is HuBERT / AV-HuBERT: iteration 1 clusters MFCC tokens of train (exp/<profile>/km1, one
# codebook for both arms and every seed, km_k's first size), labels train and dev, and
# pretrains each arm on them; each further iteration i (iterations=2, 3, ...) clusters the
# arm's OWN iteration i-1 model's layer km_layer (empty: the first fusion layer; for the AV
# arm run with the video, so its labels are audio-visual) into <iteration i-1 dir>/km and
# pretrains again from scratch.
# The last iteration's model is exp/<profile>/<arm> (earlier ones <arm>-it<i>), which stages
# 4-7 export, fine-tune, decode and report.
# Training seeds: train_seeds="1 2 3" repeats pretraining, fine-tuning and probes of every
# arm per seed on the same corpus (--seed stays the corpus's): seed N trains with
# --seed=<seed + N - 1> into <name>-s<N> (seed 1: <name>, as without seeds).
# Variants for an investigation sit beside the defaults and land in the same report:
#   --tag=-mask15 --pretrain-opts="--mask-prob-audio=0.15"    -> exp/<profile>/{av,audio}-mask15
#   --ft-tag=-frozen --finetune-opts="--freeze-steps=1000 --layer-weights" -> .../ctc-frozen
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

profile=quick
stage=0
stop_stage=100
nj=2
threads=2
seed=1
workdir=.   # where corpus/, feats/ and exp/ go (relative to this recipe's directory)
# How AV pretraining also trains the condition the exported branch runs in (audio alone,
# no video tokens): novideo_pass=1 predicts the masked audio of every sample a second time
# with the video dropped, a term of the loss; modality_dropout_video is AV-HuBERT's way,
# dropping a sample's whole video with that probability. video_mask=none leaves the video
# unmasked (an input only; only the audio is predicted). Chosen on dev over 3 training
# seeds (docs/results.md, fifth session): against modality dropout 0.5 the exported
# condition's masked-audio loss is 1.0 % lower and the frozen probe 1-2 points better.
novideo_pass=1
modality_dropout_video=0
video_mask=none
tag=               # suffix of the pretraining experiment dirs (exp/<profile>/av$tag, audio$tag)
pretrain_opts=     # extra options for both pretrainings (avmask pretrain --help)
ft_tag=            # suffix of the fine-tuning dirs (<experiment>/ctc$ft_tag)
finetune_opts=     # extra options for every fine-tuning (avmask finetune --help)
inits="scratch audio av"   # which initialisations stages 2-6 train, fine-tune and decode
target=features    # pretraining target: features (L1 reconstruction) | clusters (HuBERT iterations)
iterations=1       # target=clusters: 1 (k-means on MFCC), 2 or more (then each arm's own layer features)
km_k="100 100"     # target=clusters: clusters per iteration (the last size repeats); the
                   # profile's pretrain_steps may list steps per iteration the same way ("500 1500")
km_layer=          # iterations >= 2: the layer clustered (0 embeddings, 1..La audio, La+1.. fusion); empty: La+1
km_opts=           # extra options of every k-means fit (avmask kmeans --help)
# target=clusters: 1 computes every codebook and label on the clean twins of train and dev
# (synth --clean-twins: the same utterances before the noise) while the model reads the noisy
# audio as before: AV-HuBERT's noisy input, clean target (docs/results.md, seventeenth session)
clean_targets=0
# iterations >= 2: weight of the unmasked tokens' cross-entropy (pretrain --unmasked-weight,
# HuBERT's alpha), both arms. With the no-video pass it trains the exported branch to name
# the AV teacher's label of every token from audio alone, which is how it takes in the
# video's phone information. Chosen on dev over 3 seeds (docs/results.md, thirteenth
# session): against 0, dev PER -3.4 points audio-only and -0.8 AV, the AV probe -2.5.
# Iteration 1 keeps 0: an MFCC cluster of a visible token is read off its own input.
unmasked_weight=1
train_seeds=1      # training seeds: "1 2 3" trains, fine-tunes and probes every arm 3 times
report_notes=      # Markdown appended to the report (conf/full.sh: docs/results.md, what was found)
help_message="usage: $0 [--profile=quick|full|clusters|long] [--stage=N] [--stop-stage=N] [--nj=N] [--threads=N] [--seed=N] [--workdir=DIR]
  [--novideo-pass=0|1 --modality-dropout-video=P --video-mask=embed|substitute|none] [--tag=S --pretrain-opts=\"...\"] [--ft-tag=S --finetune-opts=\"...\"]
  [--inits=\"scratch audio av\"] [--target=features|clusters --iterations=N --km-k=\"K1 K2\" --km-layer=N --unmasked-weight=W --clean-targets=0|1]
  [--train-seeds=\"1 2 3\"] [any variable of conf/<profile>.sh, e.g. --pretrain-steps=N]"
# what a profile (conf/<profile>.sh) sets; options on the command line override it
speakers= utts_per_speaker= heldout_speakers= snr= model= pretrain_steps= batch_tokens=
pretrain_lr= pretrain_warmup= finetune_steps= finetune_lr= freeze_steps= labeled_utts= valid_every=
finetune_valid_every=   # validation (and model-best) interval of fine-tuning; empty: $valid_every
# SUPERB-style probe: the encoder frozen for the whole run, a linear CTC head over a learned
# mix of all its layers, each layer-normed; it shows whether a representation is phonetic
# (0 steps: no probe). probe_lr may list several learning rates ("2e-3 5e-3"; empty: the
# fine-tuning lr): each trains <init>/probe/lr<value>/, the one with the lowest dev PER is
# decoded (its lr in <init>/probe/chosen_lr, the dev PER of each in <init>/probe/dev_per)
# probe_objective=frame trains the probe's head on the phone of every 25 Hz token instead
# (finetune --objective=frame, the corpus's phones.ctm; scored as the frame error rate, eval
# --unit=frame), in <init>/probe-frame/ (same layout): a CTC probe can stall on the
# all-blank plateau, a frame probe cannot.
probe_steps=0 probe_lr= probe_objective=ctc
# noisy input, clean target (AV-HuBERT): with this probability a pretraining sample gets noise
# of the corpus's noise/ set mixed into its audio features at an SNR in noise_snr (dB)
noise_prob=0 noise_snr=-5,20
. "$here/../common/profile.sh"   # options, conf/$profile.sh, path.sh; corpus, feats, exp

[[ $clean_targets =~ ^[01]$ ]] || { echo "$0: --clean-targets=$clean_targets: expected 0 or 1" >&2; exit 1; }

# The held-out test sets the corpus has (test_clean, test_snr10, ...).
# The labelled subset for fine-tuning: the first $labeled_utts utterances of train (0: all).
labeled=train
[ "$labeled_utts" -gt 0 ] && labeled=train_l$labeled_utts

test_sets() { for d in "$corpus"/test_*; do [ -d "$d" ] && basename "$d"; done; }
# The clean twins' data dirs (--clean-twins) if the cluster targets use them.
clean_sets() { [ $clean_targets = 1 ] && echo train_clean dev_clean; true; }
# The features that set $1 (train, dev) gets its cluster labels from: itself or its clean twin.
label_feats() { [ $clean_targets = 1 ] && echo "$feats/$1_clean" || echo "$feats/$1"; }
km1=$exp/km1; [ $clean_targets = 0 ] || km1=$exp/km1-clean   # iteration 1's codebook and labels

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
    step 0 "synthesise the corpus into $corpus"
    if [ ! -f "$corpus/train/media.scp" ]; then
        run_logged "$exp/log/synth.log" "$avmask" synth --out="$corpus" --speakers=$speakers \
            --utts-per-speaker=$utts_per_speaker --heldout-speakers=$heldout_speakers \
            --snr=$snr --seed=$seed $([ $clean_targets = 1 ] && echo --clean-twins)
    fi
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
    step 1 "extract features"
    if [ $labeled != train ] && [ ! -f "$corpus/$labeled/phones" ]; then
        # the labelled subset for fine-tuning: the first utterances of train (sorted ids)
        run_logged "$exp/log/subset.log" bash "$utils/subset_data_dir.sh" --first "$labeled_utts" \
            "$corpus/train" "$corpus/$labeled"
    fi
    if [ $clean_targets = 1 ] && [ ! -f "$corpus/train_clean/media.scp" ]; then
        echo "$0: --clean-targets=1: $corpus has no train_clean/ (avmask synth --clean-twins): remove $corpus to synthesise it again" >&2
        exit 1
    fi
    for set in train dev $(clean_sets) $(test_sets) $([ $labeled != train ] && echo $labeled) $([ -d "$corpus/noise" ] && echo noise); do
        # one machine: avmask extract runs its own --nj jobs (no launcher; lrs3 uses array jobs)
        "$steps/make_feats.sh" --cmd "" --nj $nj "$corpus/$set" "$feats/$set" "$exp/log"
    done
fi

# The experiment dir of an arm (scratch audio av) for training seed $2, iteration $3 if not
# the last: <arm>[$tag][-it<i>][-s<N>]; seed 1 keeps the plain name. tseed: its --seed.
ename() {
    local n=$1
    [ $1 != scratch ] && n=$n$tag
    [ -n "${3:-}" ] && n=$n-it$3
    [ "$2" -gt 1 ] && n=$n-s$2
    echo $n
}
tseed() { echo $((seed + $1 - 1)); }
# The earlier iterations' models of the pretrained arms (target=clusters, iterations >= 2):
# stages 4-6 export, probe and decode them too (no CTC fine-tuning), so the report can say
# whether iteration 2 reads more phones than iteration 1.
early_names() {
    [ $target = clusters ] || return 0
    local i ts it
    for i in $inits; do
        [ $i = scratch ] && continue
        for ts in $train_seeds; do
            for it in $(seq 1 $((iterations - 1))); do ename $i $ts $it; done
        done
    done
}
nth() { local a=($1); local i=$(($2 - 1)); [ $i -lt ${#a[@]} ] || i=$((${#a[@]} - 1)); echo ${a[$i]}; }  # list, 1-based; the last repeats
km_size() { nth "$km_k" $1; }
steps_of() { nth "$pretrain_steps" $1; }   # pretraining steps of iteration $1
for v in $pretrain_steps; do [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "$0: --pretrain-steps: '$v' is not a step count >= 1" >&2; exit 1; }; done
for v in $iterations; do [[ $v =~ ^[1-9]$ ]] || { echo "$0: --iterations=$v: expected 1 to 9" >&2; exit 1; }; done
[[ $target =~ ^(features|clusters)$ ]] || { echo "$0: --target=$target: expected features or clusters" >&2; exit 1; }
for v in $train_seeds; do [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "$0: --train-seeds: '$v' is not a seed >= 1" >&2; exit 1; }; done

pretrain() {  # name modalities seed iteration [options]
    local out=$exp/$1 mod=$2 s=$3 it=$4 noise=(); shift 4
    [ "$noise_prob" != 0 ] && noise=(--noise-feats="$feats/noise" --noise-prob=$noise_prob --noise-snr=$noise_snr)
    "$steps/pretrain.sh" "$feats/train" "$feats/dev" "$out" --model=$model --modalities=$mod \
        --max-steps=$(steps_of $it) "$@" --batch-tokens=$batch_tokens --lr=$pretrain_lr \
        --warmup=$pretrain_warmup --valid-every=$valid_every --save-every=$valid_every --seed=$s \
        --threads=$threads "${noise[@]}" $pretrain_opts
}

wanted() { [[ " $inits " == *" $1 "* ]]; }   # is initialisation $1 in $inits?

# Labels of train and dev with the codebook in $1 (phone purity / PNMI in lab_*/metrics.json).
km_apply() {
    local set ali
    for set in train dev; do
        ali=; [ -f "$corpus/$set/phones.ctm" ] && ali=--ali="$corpus/$set/phones.ctm"
        run_logged "$1/log/apply_$set.log" "$avmask" kmeans --apply --codebook="$1" --feats="$(label_feats $set)" \
            --out="$1/lab_$set" $ali --threads=$threads
    done
    touch "$1/.done"
}
# Iteration 1: MFCC tokens of train, one codebook for both arms and every training seed.
km_mfcc() {
    [ -f "$km1/.done" ] && return 0
    run_logged "$km1/log/kmeans.log" "$avmask" kmeans --feats="$(label_feats train)" --out="$km1" --source=mfcc \
        --k=$(km_size 1) --seed=$seed --threads=$threads $km_opts
    km_apply "$km1"
}
# Iteration $3: the layer features of experiment $1's own model -> $exp/$1/km (seed $2).
km_model() {
    local dir=$exp/$1 layer=$km_layer
    [ -f "$dir/km/.done" ] && return 0
    [ -n "$layer" ] || layer=$(( $(sed -n 's/.*"layers_audio":\([0-9]*\).*/\1/p' "$dir/config.json") + 1 ))
    run_logged "$dir/km/log/kmeans.log" "$avmask" kmeans --feats="$(label_feats train)" --out="$dir/km" --source=layer \
        --checkpoint="$dir/checkpoint-best.h5" --layer=$layer --k=$(km_size $3) --seed=$2 --threads=$threads $km_opts
    km_apply "$dir/km"
}
# A complete pretraining dir $1 is reused only if it was trained on the labels in $2: a work
# dir first run with --iterations=2 names its iteration-2 model <arm>, which a run with
# --iterations=3 expects to be trained on <arm>-it2's clusters (codebook hashes differ).
check_labels() {
    [ -f "$1/.done" ] || return 0
    local had want
    had=$(sed -n 's/.*"codebook_hash":"\([0-9a-f]*\)".*/\1/p' "$1/config.json")
    want=$(sed -n 's/.*"codebook_hash":"\([0-9a-f]*\)".*/\1/p' "$2/lab_train/labels.json")
    [ "$had" = "$want" ] || { echo "$0: $1 is complete but was trained on other labels (codebook $had, not $want of $2): another --tag for another --iterations or --km-k" >&2; exit 1; }
}
# Every training seed of one arm: the features run, or the cluster iterations.
pretrain_arm() {  # arm modalities [options]
    local arm=$1 mod=$2 ts it name prev labels uw; shift 2
    for ts in $train_seeds; do
        if [ $target = features ]; then pretrain $(ename $arm $ts) $mod $(tseed $ts) 1 "$@"; continue; fi
        km_mfcc
        labels=$km1
        for it in $(seq 1 $iterations); do
            name=$(ename $arm $ts $([ $it -lt $iterations ] && echo $it || true))
            uw=()
            if [ $it -gt 1 ]; then
                km_model $prev $(tseed $ts) $it; labels=$exp/$prev/km
                uw=(--unmasked-weight=$unmasked_weight)
            fi
            check_labels "$exp/$name" "$labels"
            pretrain $name $mod $(tseed $ts) $it --target=clusters --labels="$labels/lab_train" \
                --valid-labels="$labels/lab_dev" "${uw[@]}" "$@"
            prev=$name
        done
    done
}

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ] && wanted av; then
    step 2 "pretrain audio-visual ($model, ${pretrain_steps// /+} steps, target $target)"
    pretrain_arm av av --modality-dropout-video=$modality_dropout_video --novideo-pass=$novideo_pass \
        --video-mask=$video_mask
fi
if [ $stage -le 3 ] && [ $stop_stage -ge 3 ] && wanted audio; then
    step 3 "pretrain audio-only (same budget)"
    pretrain_arm audio audio
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
    step 4 "export the audio branches"
    for init_name in av audio; do
        wanted $init_name || continue
        for ts in $train_seeds; do
            name=$(ename $init_name $ts)
            "$steps/export.sh" "$exp/$name/checkpoint-best.h5" "$exp/$name/export"
        done
    done
    for name in $(early_names); do
        "$steps/export.sh" "$exp/$name/checkpoint-best.h5" "$exp/$name/export"
    done
fi

# What stage 6 decodes for experiment $1, "<trained dir> <output dir>" under it: the CTC
# fine-tuning (not with $2 = probe-only) into ctc/, and the probe trained at the lr chosen on
# dev into probe/ (so the report groups the seeds' probes whatever lr each chose).
models() {
    [ "${2:-}" = probe-only ] || echo "ctc$ft_tag ctc$ft_tag"
    [ "$probe_steps" -gt 0 ] || return 0
    local f=$exp/$1/$probe_dir/chosen_lr
    [ -s "$f" ] || { echo "$0: $f missing: run stage 5 first" >&2; exit 1; }
    echo "$probe_dir/lr$(cat "$f") $probe_dir"
}

# Picks the probe of experiment $1 with the lowest dev PER (recipes/common/best_valid.sh:
# the best valid_err of each lr's metrics.jsonl, ties by dev loss, then the order of probe_lr).
choose_probe_lr() {
    local p=$exp/$1/$probe_dir lr line dir err rest dirs=() table=
    for lr in ${probe_lr:-$finetune_lr}; do   # "lr dev-PER dev-loss step" per lr, in list order
        line=$(bash "$utils/best_valid.sh" "$p/lr$lr") || exit 1
        table+="$lr ${line#* }"$'\n'
        dirs+=("$p/lr$lr")
    done
    line=$(bash "$utils/best_valid.sh" "${dirs[@]}") || exit 1
    read -r dir err rest <<<"$line"
    lr=${dir##*/lr}
    printf '%s' "$table" >"$p/dev_per"
    # another lr than before (a new grid): the decodes of the old one are stale
    [ "$(cat "$p/chosen_lr" 2>/dev/null)" = "$lr" ] || rm -rf "$p"/decode_*
    echo "$lr" >"$p/chosen_lr"
    echo "   $1/$probe_dir: lr $lr chosen (dev $probe_what $err %; every lr in $p/dev_per)"
}

finetune() {  # arm name out seed [options]
    local arm=$1 name=$2 out=$3 s=$4; shift 4
    local init=(none --model=$model)   # scratch: a random encoder (for the probe too)
    [ $arm != scratch ] && init=("$exp/$name/export")
    "$steps/finetune.sh" "${init[0]}" "$feats/$labeled" "$corpus/$labeled" "$feats/dev" "$corpus/dev" "$out" \
        "${init[@]:1}" --unit=phone --valid-every=${finetune_valid_every:-$valid_every} --seed=$s \
        --threads=$threads "$@"
}

case $probe_objective in
    ctc) probe_frame=() probe_dir=probe probe_what=PER ;;
    frame) probe_frame=(--objective=frame --ali="$corpus/$labeled/phones.ctm" --valid-ali="$corpus/dev/phones.ctm")
           probe_dir=probe-frame probe_what="frame error" ;;
    *) echo "$0: probe_objective=$probe_objective: ctc or frame" >&2; exit 2 ;;
esac
probe() {  # arm name seed: one probe per lr, then the lr with the lowest dev PER
    local lr
    for lr in ${probe_lr:-$finetune_lr}; do
        finetune $1 $2 "$exp/$2/$probe_dir/lr$lr" $3 --max-steps=$probe_steps --lr=$lr \
            --freeze-steps=all --layer-weights "${probe_frame[@]}"
    done
    choose_probe_lr $2
}
seed_of() { [[ $1 =~ -s([0-9]+)$ ]] && echo ${BASH_REMATCH[1]} || echo 1; }   # <name>-s<N> -> N

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
    step 5 "fine-tune CTC on phones: scratch, audio-only, audio-visual"
    for init_name in $inits; do
      for ts in $train_seeds; do    # the scratch arm's seed varies too
        name=$(ename $init_name $ts)
        finetune $init_name $name "$exp/$name/ctc$ft_tag" $(tseed $ts) --max-steps=$finetune_steps \
            --lr=$finetune_lr --freeze-steps=$freeze_steps $finetune_opts
        [ "$probe_steps" -gt 0 ] && probe $init_name $name $(tseed $ts)
      done
    done
    if [ "$probe_steps" -gt 0 ]; then
        for name in $(early_names); do probe ${name%%-*} $name $(tseed $(seed_of $name)); done
    fi
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
    step 6 "decode and score the held-out test sets"
    decode_all() {  # name [probe-only]
        local subs model out set
        subs=$(models "$@")   # an assignment: a missing chosen_lr stops the recipe
        while read -r model out; do
          local unit=token ref=phones   # a frame probe: scored token by token against the CTM
          [ $out = probe-frame ] && unit=frame ref=phones.ctm
          for set in $(test_sets); do
            # model-best/ (lowest dev PER), results of an older avmask scored again
            "$steps/decode_score.sh" --threads $threads --unit $unit --by "$corpus/$set/conditions" "$exp/$1/$model" \
                "$feats/$set" "$corpus/$set/$ref" "$exp/$1/$out/decode_$set" </dev/null
          done
        done <<<"$subs"
    }
    for name in $(for i in $inits; do for ts in $train_seeds; do ename $i $ts; done; done); do
        decode_all $name
    done
    if [ "$probe_steps" -gt 0 ]; then
        for name in $(early_names); do decode_all $name probe-only; done
    fi
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
    step 7 "report"
    notes=$report_notes
    if compgen -G "$exp/*/$probe_dir/chosen_lr" >/dev/null; then   # the probes' lrs, then any notes
        notes=$exp/log/report_notes.md
        { [ $probe_objective = ctc ] || echo "The probes are frame-level (a phone per 25 Hz token; their %ERR is the frame error rate). "
          echo "Probe learning rates, chosen on dev (\`<experiment>/$probe_dir/dev_per\`: the best dev $probe_what of the"
          echo "probe trained at each lr; the lowest, in bold, is the probe decoded on the test sets):"
          echo; echo "| probe | lr | dev $probe_what | dev loss | step |"; echo "|---|---|---|---|---|"
          for p in "$exp"/*/$probe_dir; do
              [ -s "$p/chosen_lr" ] && [ -s "$p/dev_per" ] || continue
              while read -r lr per loss st; do
                  b=; [ "$lr" = "$(cat "$p/chosen_lr")" ] && b='**'
                  echo "| ${p#$exp/} | $b$lr$b | $per | $loss | $st |"
              done <"$p/dev_per"
          done
          [ -z "$report_notes" ] || { echo; cat "$report_notes"; }
        } >"$notes"
    fi
    run_logged "$exp/log/report.log" "$avmask" report --exp="$exp" --out="$exp/report" --conditions=snr,noise \
        --title="avmask synth_av ($profile profile)" ${notes:+--notes="$notes"}
    echo "report: $PWD/$exp/report/report.md (and report.html)"
fi
