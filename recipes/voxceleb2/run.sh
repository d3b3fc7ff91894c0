#!/usr/bin/env bash
# avmask on VoxCeleb2: audio-visual pretraining only (VoxCeleb2 has no transcripts).
#   ./run.sh --vox-root=/corpora/VoxCeleb2 [--stage=N] [--stop-stage=N] [--nj=N] [--cmd=...]
# Stages:
#   0 prepare data/{dev,test} (crops: the --mouth-box of every clip), and data/valid: --valid-utts
#     random utterances of test
#     (test speakers are not in dev; the set only measures the pretraining loss)
#   1 extract features of dev and valid into feats/<set> (--nj jobs through $cmd, then merge)
#   2 pretrain audio-visual on feats/dev (valid: feats/valid) -> exp/<name>/
#   3 export the audio branch -> exp/<name>/export/, then print how to fine-tune it on LRS3
# data/, feats/ and exp/ are created in the current directory (run from this recipe dir,
# Kaldi style, or from a work dir). A stage whose output is complete is skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

vox_root=""
nj=8
. "$here/../common/recipe_opts.sh"   # stage, cmd, mpi_np, seed, mouth_box, ...
name=vox2_av_base           # experiment name: exp/<name>/
valid_utts=1000
help_message="usage: $0 --vox-root=DIR [--stage=N] [--stop-stage=N] [--nj=N] [--cmd=LAUNCHER]
  [--train-cmd=LAUNCHER] [--mpi-np=N] [--mpi-launcher=mpirun|srun] [--threads=N] [--name=NAME] [--valid-utts=N] [--seed=N]
  [--mouth-box=x,y,w,h|none]
  [--extract-conf=F] [--pretrain-conf=F]   (stages: see the top of $0)"
. "$here/../common/parse_options.sh"
. "$here/../common/path.sh"   # $avmask, $utils, $steps, step and run_logged
[ $# = 0 ] || { echo "$0: unexpected argument '$1' (see --help)" >&2; exit 1; }
train_cmd=${train_cmd:-$cmd}
exp=exp/$name

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
    step 0 "prepare data dirs from ${vox_root:-(no --vox-root)}"
    todo=""
    for s in dev test; do [ -f data/$s/spk2utt ] || todo="$todo $s"; done
    if [ -n "$todo" ]; then
        [ -n "$vox_root" ] || { echo "$0: stage 0 needs --vox-root" >&2; exit 1; }
        run_logged exp/prepare/log/prepare_voxceleb2.log bash "$here/local/prepare_voxceleb2.sh" \
            --sets="${todo# }" --mouth-box="$mouth_box" "$vox_root" data
        grep '^prepare_voxceleb2.sh:' exp/prepare/log/prepare_voxceleb2.log
    fi
    [ -f data/valid/spk2utt ] || run_logged exp/prepare/log/subset_valid.log \
        bash "$utils/subset_data_dir.sh" --random "$valid_utts" --seed "$seed" data/test data/valid
    for s in dev test valid; do
        run_logged exp/prepare/log/validate_$s.log bash "$utils/validate_data_dir.sh" data/$s
        tail -1 exp/prepare/log/validate_$s.log
    done
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
    step 1 "extract features ($nj jobs per set)"
    for s in dev valid; do
        "$steps/make_feats.sh" --cmd "$cmd" --nj $nj --config "$extract_conf" data/$s feats/$s exp/extract/log
    done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
    step 2 "pretrain audio-visual -> $exp (mpi ranks: $mpi_np)"
    "$steps/pretrain.sh" --cmd "$train_cmd" --mpi-np $mpi_np --mpi-launcher $mpi_launcher \
        feats/dev feats/valid $exp --config="$pretrain_conf" --threads=$threads --seed=$seed
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
    step 3 "export the audio branch -> $exp/export"
    "$steps/export.sh" $exp/checkpoint-best.h5 $exp/export
    cat <<EOS
VoxCeleb2 has no transcripts, so this recipe ends here. To fine-tune this encoder with CTC
on LRS3 trainval and score LRS3 test (its stages 2-3 are skipped with --init):
  cd $(cd "$here/../lrs3" && pwd) && ./run.sh --lrs3-root=/path/to/LRS3 --init=$PWD/$exp/export --name=$name
EOS
fi
