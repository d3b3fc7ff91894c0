#!/usr/bin/env bash
# Self-supervised pretraining (avmask pretrain) of one experiment dir:
#   pretrain.sh [--cmd CMD] [--mpi-np N] [--mpi-launcher mpirun|srun] FEATS VALID_FEATS DIR [options...]
# runs "avmask pretrain --feats=FEATS --valid=VALID_FEATS --out=DIR --resume options..." as one
# job of the launcher (default local.sh); with N > 1 as N data-parallel MPI ranks started by
# "mpirun -np N" (inside a Slurm allocation Open MPI takes its slots from it) or by
# "srun --mpi=pmix -n N" (each rank a task of a Slurm job step). Log DIR/log/pretrain.log. DIR/.done marks it complete (delete it to train further; --resume
# continues from the last checkpoint, also after a killed job).
set -euo pipefail
cmd=local.sh
mpi_np=1
mpi_launcher=mpirun
help_message="usage: $0 [--cmd CMD] [--mpi-np N] [--mpi-launcher mpirun|srun] FEATS VALID_FEATS DIR [avmask pretrain options...]"
. "$(dirname "$0")/../common/parse_options.sh"
. "$(dirname "$0")/../common/path.sh"
[ $# -ge 3 ] || { echo "$help_message" >&2; exit 2; }
feats=$1 valid=$2 dir=$3; shift 3
[ -f "$dir/.done" ] && [ -f "$dir/checkpoint-best.h5" ] && exit 0
case $mpi_launcher in
mpirun) mpi=(mpirun -np "$mpi_np") ;;
srun) mpi=(srun --mpi=pmix -n "$mpi_np") ;;
*) echo "$0: --mpi-launcher must be mpirun or srun, not '$mpi_launcher'" >&2; exit 2 ;;
esac
[ "$mpi_np" -gt 1 ] || mpi=()
run_job "$cmd" "$dir/log/pretrain.log" "${mpi[@]}" "$avmask" pretrain --feats="$feats" --valid="$valid" \
    --out="$dir" "$@" --resume
touch "$dir/.done"
