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

stage=0
stop_stage=100
vox_root=""
nj=8
cmd=local.sh                # launcher (recipes/common, on PATH via path.sh): local.sh or "slurm.sh --partition=cpu"
train_cmd=""                # launcher for pretrain (default: $cmd), e.g. "slurm.sh --partition=cpu --ntasks=16"
mpi_np=1                    # >1: pretrain with mpirun -np N (data parallel)
threads=2
name=vox2_av_base           # experiment name: exp/<name>/
valid_utts=1000
seed=1
mouth_box=56,104,112,112     # fixed lip crop in a 224x224 face track (x,y,w,h), or none: full frames
extract_conf=$here/conf/extract.conf
pretrain_conf=$here/conf/pretrain.conf
help_message="usage: $0 --vox-root=DIR [--stage=N] [--stop-stage=N] [--nj=N] [--cmd=LAUNCHER]
  [--train-cmd=LAUNCHER] [--mpi-np=N] [--threads=N] [--name=NAME] [--valid-utts=N] [--seed=N]
  [--mouth-box=x,y,w,h|none]
  [--extract-conf=F] [--pretrain-conf=F]   (stages: see the top of $0)"
. "$here/../common/parse_options.sh"
. "$here/path.sh"
[ $# = 0 ] || { echo "$0: unexpected argument '$1' (see --help)" >&2; exit 1; }
train_cmd=${train_cmd:-$cmd}
exp=exp/$name
step() { echo "== stage $1: $2 ($(date +%H:%M:%S))"; }
# run_logged LOG command...: one command, output in LOG, the log's tail on failure.
run_logged() {
    local log=$1; shift; mkdir -p "$(dirname "$log")"
    { echo "# $*"; "$@"; } >"$log" 2>&1 || { echo "$0: failed; see $log" >&2; tail -5 "$log" >&2; exit 1; }
}

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
        [ -f feats/$s/index.tsv ] && [ -f feats/$s/cmvn.h5 ] && continue
        $cmd JOB=1:$nj exp/extract/log/extract_$s.JOB.log \
            "$avmask" extract --config="$extract_conf" --data=data/$s --out=feats/$s --job=JOB/$nj
        run_logged exp/extract/log/merge_$s.log "$avmask" extract --merge --out=feats/$s --nj=$nj
        echo "   feats/$s: $(grep -c . feats/$s/index.tsv) utterances" \
            "($( [ -s feats/$s/extract.err ] && grep -c . feats/$s/extract.err || echo 0) failed, see feats/$s/extract.err)"
    done
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
    step 2 "pretrain audio-visual -> $exp (mpi ranks: $mpi_np)"
    if [ ! -f $exp/.done ]; then
        mpi=(); [ "$mpi_np" -gt 1 ] && mpi=(mpirun -np "$mpi_np")
        $train_cmd JOB=1:1 $exp/log/pretrain.log "${mpi[@]}" "$avmask" pretrain --config="$pretrain_conf" \
            --feats=feats/dev --valid=feats/valid --out=$exp --threads=$threads --seed=$seed --resume
        touch $exp/.done
    fi
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
    step 3 "export the audio branch -> $exp/export"
    [ -f $exp/export/config.json ] ||
        run_logged $exp/log/export.log "$avmask" export --checkpoint=$exp/checkpoint-best.h5 --out=$exp/export
    cat <<EOS
VoxCeleb2 has no transcripts, so this recipe ends here. To fine-tune this encoder with CTC
on LRS3 trainval and score LRS3 test (its stages 2-3 are skipped with --init):
  cd $(cd "$here/../lrs3" && pwd) && ./run.sh --lrs3-root=/path/to/LRS3 --init=$PWD/$exp/export --name=$name
EOS
fi
