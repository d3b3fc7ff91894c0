# Sourced by the recipes and steps/: how a stage is announced and how one command is logged.
#   step N "title"            prints "== stage N: title (HH:MM:SS)"
#   run_logged LOG command... runs the command here, its command line and output in LOG;
#                             on failure prints the log's tail and exits (the caller stops)
#   run_job CMD LOG command...  the same through the launcher CMD (local.sh, slurm.sh ...)
#                             as one job (JOB=1:1), for work that may need a cluster node
step() { echo "== stage $1: $2 ($(date +%H:%M:%S))"; }
# Why a tail: a recipe runs many commands; the reason of a failure is usually in its last lines.
log_failed() { echo "$0: failed; see $1" >&2; tail -5 "$1" >&2; exit 1; }
run_logged() {
    local log=$1; shift; mkdir -p "$(dirname "$log")"
    { echo "# $*"; "$@"; } >"$log" 2>&1 || log_failed "$log"
}
run_job() {
    local launcher=$1 log=$2; shift 2
    # unquoted: a launcher may carry its own options ("slurm.sh --partition=cpu")
    $launcher JOB=1:1 "$log" "$@" || log_failed "$log"
}
