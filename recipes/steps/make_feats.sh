#!/usr/bin/env bash
# Extracts the features of one data dir (avmask extract), Kaldi's make_fbank.sh:
#   make_feats.sh [--cmd CMD] [--nj N] [--config FILE] DATA FEATS LOGDIR
# With a launcher (--cmd, default local.sh) the set is cut into N jobs (--job=K/N, shards are
# the unit) run as one array of jobs, logs LOGDIR/extract_<set>.K.log, then merged (merge_<set>.log).
# With --cmd "" one avmask process runs its own N jobs on this machine (LOGDIR/extract_<set>.log).
# <set> is the data dir's name. A feature dir with index.tsv and cmvn.h5 is complete and skipped.
set -euo pipefail
cmd=local.sh
nj=4
config=     # avmask extract options (conf/extract.conf)
help_message="usage: $0 [--cmd CMD] [--nj N] [--config FILE] DATA FEATS LOGDIR"
. "$(dirname "$0")/../common/parse_options.sh"
. "$(dirname "$0")/../common/path.sh"
[ $# = 3 ] || { echo "$help_message" >&2; exit 2; }
data=$1 feats=$2 logdir=$3 name=$(basename "$1")   # the set's name, in the log names
[ -f "$feats/index.tsv" ] && [ -f "$feats/cmvn.h5" ] && exit 0
opts=(--data="$data" --out="$feats"); [ -z "$config" ] || opts=(--config="$config" "${opts[@]}")
if [ -n "$cmd" ]; then
    $cmd JOB=1:$nj "$logdir/extract_$name.JOB.log" "$avmask" extract "${opts[@]}" --job=JOB/$nj
    run_logged "$logdir/merge_$name.log" "$avmask" extract --merge --out="$feats" --nj=$nj
else
    run_logged "$logdir/extract_$name.log" "$avmask" extract "${opts[@]}" --nj=$nj
fi
echo "   $feats: $(grep -c . "$feats/index.tsv") utterances" \
    "($( [ -s "$feats/extract.err" ] && grep -c . "$feats/extract.err" || echo 0) failed, see $feats/extract.err)"
