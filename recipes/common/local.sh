#!/usr/bin/env bash
# Runs a command as N parallel jobs on this machine, Kaldi's run.pl interface:
#   local.sh [--max-jobs=M] JOB=1:N log/name.JOB.log command args...
# Every "JOB" in the log name and in the command is replaced by the job number.
# Each job's output goes to its log (with the command line and exit status). Exits
# non-zero, naming the failed logs, if any job failed.
set -u
max_jobs=$(nproc 2>/dev/null || echo 2)
while [[ $# -gt 0 && $1 == --* ]]; do
    case "$1" in
    --max-jobs=*) max_jobs=${1#*=} ;;
    --*) ;;   # Slurm-only options (--partition=..., --mem=...) are accepted and ignored
    esac
    shift
done
if [[ $# -lt 3 || ! $1 =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
    echo "usage: local.sh [--max-jobs=M] JOB=1:N log/x.JOB.log command..." >&2; exit 2
fi
first=${BASH_REMATCH[1]}; last=${BASH_REMATCH[2]}; log=$2; shift 2
mkdir -p "$(dirname "$log")"
pids=(); logs=()
for ((j = first; j <= last; j++)); do
    args=(); for a in "$@"; do args+=("${a//JOB/$j}"); done
    lj=${log//JOB/$j}
    while (( $(jobs -rp | wc -l) >= max_jobs )); do wait -n 2>/dev/null || true; done
    (
        echo "# ${args[*]}"; echo "# started at $(date)"
        "${args[@]}"; rc=$?
        echo "# ended (exit $rc) at $(date)"; exit $rc
    ) >"$lj" 2>&1 &
    pids+=($!); logs+=("$lj")
done
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${logs[$i]}"); done
if ((${#failed[@]})); then
    echo "local.sh: ${#failed[@]} of ${#pids[@]} jobs failed; see ${failed[*]}" >&2; exit 1
fi
