#!/usr/bin/env bash
# Same interface as local.sh, submitted to Slurm as one array job and waited for:
#   slurm.sh [--partition=P] [--time=T] [--mem=M] [--cpus-per-task=C] [--max-jobs=M] \
#            JOB=1:N log/name.JOB.log command args...
# Every --key=value before JOB= is passed to sbatch (except --max-jobs, which becomes the
# array's %M throttle). "JOB" is replaced by $SLURM_ARRAY_TASK_ID at run time. sbatch --wait
# blocks until all tasks end and fails if any task failed.
set -u
sbatch_opts=(); throttle=""
while [[ $# -gt 0 && $1 == --* ]]; do
    case "$1" in
    --max-jobs=*) throttle="%${1#*=}" ;;
    *) sbatch_opts+=("$1") ;;
    esac
    shift
done
if [[ $# -lt 3 || ! $1 =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
    echo "usage: slurm.sh [sbatch options] JOB=1:N log/x.JOB.log command..." >&2; exit 2
fi
first=${BASH_REMATCH[1]}; last=${BASH_REMATCH[2]}; log=$2; shift 2
command -v sbatch >/dev/null || { echo "slurm.sh: sbatch not found (is this a Slurm cluster?)" >&2; exit 1; }
logdir=$(dirname "$log"); mkdir -p "$logdir"
script="$logdir/$(basename "${log//.JOB/}" .log).sbatch"
{
    echo "#!/usr/bin/env bash"
    echo "cd $(printf '%q' "$PWD")"
    printf 'log=%q\n' "$log"
    echo 'log=${log//JOB/$SLURM_ARRAY_TASK_ID}'
    printf 'cmd=('; printf '%q ' "$@"; echo ')'
    echo 'args=(); for a in "${cmd[@]}"; do args+=("${a//JOB/$SLURM_ARRAY_TASK_ID}"); done'
    echo '{ echo "# ${args[*]}"; echo "# started at $(date) on $(hostname)"; "${args[@]}"; rc=$?;'
    echo '  echo "# ended (exit $rc) at $(date)"; exit $rc; } >"$log" 2>&1'
} >"$script"
sbatch --wait --parsable --array="$first-$last$throttle" --output=/dev/null \
    --job-name="avmask-$(basename "${log%%.*}")" "${sbatch_opts[@]}" "$script" >/dev/null || {
    echo "slurm.sh: array job failed; see ${log//JOB/*}" >&2; exit 1; }
