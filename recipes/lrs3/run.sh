#!/usr/bin/env bash
# avmask on LRS3: audio-visual pretraining, CTC fine-tuning on trainval, WER on test.
#   ./run.sh --lrs3-root=/corpora/LRS3 [--stage=N] [--stop-stage=N] [--nj=N] [--cmd=...]
# Stages:
#   0 prepare data/{pretrain,trainval,test} (no pretrain with --init), and from trainval data/valid (the first
#     --valid-speakers speakers) and data/train (the others); crops: the --mouth-box of every clip
#   1 extract features of every set into feats/<set> (--nj jobs through $cmd, then merge)
#   2 pretrain audio-visual on feats/pretrain (valid: feats/valid) -> exp/<name>/
#   3 export the audio branch -> exp/<name>/export/
#   4 fine-tune CTC over --units (char or word) on data/train -> exp/<name>/ctc_<units>/
#   5 decode feats/test with model-best/ (lowest validation error), WER (eval.json) and, for
#     chars, CER (cer.json) -> .../decode_test/
#   6 report -> exp/report/report.md and report.html
# data/, feats/ and exp/ are created in the current directory (run from this recipe dir,
# Kaldi style, or from a work dir). A stage whose output is complete is skipped, so a rerun
# continues where the last one stopped. With --init=EXPORT_DIR (e.g. a VoxCeleb2 export)
# stages 2-3 are skipped and fine-tuning starts from that encoder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

lrs3_root=""
nj=4
. "$here/../common/recipe_opts.sh"   # stage, cmd, mpi_np, seed, mouth_box, ...
name=av_base                # experiment name: exp/<name>/
init=""                     # an existing export dir to fine-tune from instead of stages 2-3
units=char                  # char or word
valid_speakers=20
finetune_conf=$here/conf/finetune.conf
help_message="usage: $0 --lrs3-root=DIR [--stage=N] [--stop-stage=N] [--nj=N] [--cmd=LAUNCHER]
  [--train-cmd=LAUNCHER] [--mpi-np=N] [--mpi-launcher=mpirun|srun] [--threads=N] [--name=NAME] [--init=EXPORT_DIR]
  [--units=char|word] [--valid-speakers=N] [--seed=N]
  [--mouth-box=x,y,w,h|none] [--extract-conf=F] [--pretrain-conf=F]
  [--finetune-conf=F]   (stages: see the top of $0)"
. "$here/../common/parse_options.sh"
. "$here/../common/path.sh"   # $avmask, $utils, $steps, step and run_logged
[ $# = 0 ] || { echo "$0: unexpected argument '$1' (see --help)" >&2; exit 1; }
case $units in char|word) ;; *) echo "$0: --units must be char or word, not '$units'" >&2; exit 1 ;; esac
train_cmd=${train_cmd:-$cmd}
exp=exp/$name
enc=${init:-$exp/export}
ft=$exp/ctc_$units
# With --init the pretrain set is neither prepared nor extracted.
corpus_sets="trainval test"; sets="train valid test"
[ -n "$init" ] || { corpus_sets="pretrain $corpus_sets"; sets="pretrain $sets"; }

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
    step 0 "prepare data dirs from ${lrs3_root:-(no --lrs3-root)}"
    todo=""
    for s in $corpus_sets; do [ -f data/$s/spk2utt ] || todo="$todo $s"; done
    if [ -n "$todo" ]; then
        [ -n "$lrs3_root" ] || { echo "$0: stage 0 needs --lrs3-root" >&2; exit 1; }
        run_logged exp/prepare/log/prepare_lrs3.log bash "$here/local/prepare_lrs3.sh" --sets="${todo# }" \
            --mouth-box="$mouth_box" "$lrs3_root" data
        grep '^prepare_lrs3.sh:' exp/prepare/log/prepare_lrs3.log
    fi
    if [ ! -f data/train/spk2utt ] || [ ! -f data/valid/spk2utt ]; then
        nspk=$(wc -l <data/trainval/spk2utt)
        [ "$nspk" -gt "$valid_speakers" ] || { echo "$0: data/trainval has $nspk speakers;" \
            "--valid-speakers=$valid_speakers would leave none for training" >&2; exit 1; }
        head -n "$valid_speakers" data/trainval/spk2utt >data/valid_speakers
        run_logged exp/prepare/log/subset_valid.log bash "$utils/subset_data_dir.sh" \
            --spk-list data/valid_speakers data/trainval data/valid
        run_logged exp/prepare/log/subset_train.log bash "$utils/subset_data_dir.sh" \
            --spk-list data/valid_speakers --exclude data/trainval data/train
    fi
    for s in $corpus_sets train valid; do
        run_logged exp/prepare/log/validate_$s.log bash "$utils/validate_data_dir.sh" --require-text data/$s
        tail -1 exp/prepare/log/validate_$s.log
    done
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
    step 1 "extract features ($nj jobs per set)"
    for s in $sets; do
        "$steps/make_feats.sh" --cmd "$cmd" --nj $nj --config "$extract_conf" data/$s feats/$s exp/extract/log
    done
fi

if [ -n "$init" ] && [ $stage -le 3 ] && [ $stop_stage -ge 2 ]; then
    echo "== stages 2-3 skipped: fine-tuning starts from --init=$init"
    [ -f "$init/config.json" ] || { echo "$0: $init/config.json missing: not an avmask export" >&2; exit 1; }
fi

if [ -z "$init" ] && [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
    step 2 "pretrain audio-visual -> $exp (mpi ranks: $mpi_np)"
    "$steps/pretrain.sh" --cmd "$train_cmd" --mpi-np $mpi_np --mpi-launcher $mpi_launcher \
        feats/pretrain feats/valid $exp --config="$pretrain_conf" --threads=$threads --seed=$seed
fi

if [ -z "$init" ] && [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
    step 3 "export the audio branch -> $exp/export"
    "$steps/export.sh" $exp/checkpoint-best.h5 $exp/export
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
    step 4 "fine-tune CTC over ${units}s on data/train -> $ft"
    "$steps/finetune.sh" --cmd "$train_cmd" "$enc" feats/train data/train feats/valid data/valid $ft \
        --config="$finetune_conf" --unit=$units --threads=$threads --seed=$seed
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
    step 5 "decode and score data/test (model-best: the lowest validation error)"
    dir=$ft/decode_test
    cer=false; [ $units = word ] || cer=true   # with char units, the CER beside the WER
    "$steps/decode_score.sh" --threads $threads --cer $cer $ft feats/test data/test/text $dir
    echo "   WER: $(grep -h '%ERR' $dir/eval.txt)"
    [ ! -f $dir/cer.txt ] || echo "   CER: $(grep -h '%ERR' $dir/cer.txt)"
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
    step 6 "report"
    run_logged exp/log/report.log "$avmask" report --exp=exp --out=exp/report --title="avmask on LRS3"
    echo "report: $PWD/exp/report/report.md (and report.html)"
fi
