# Sourced by every recipe and step: where the avmask binary and the shared tools are.
# $AVMASK (the binary) overrides the default bin/avmask of this checkout.
avmask_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
avmask=${AVMASK:-$avmask_root/bin/avmask}
export AVMASK=$avmask      # the steps/ a recipe calls use the same binary
utils=$avmask_root/recipes/common
steps=$avmask_root/recipes/steps
export PATH=$utils:$PATH   # so that --cmd="slurm.sh --partition=cpu" or --cmd=local.sh work by name
export LC_ALL=C
[ -x "$avmask" ] || { echo "$0: $avmask not built; run 'make' in $avmask_root (or set AVMASK)" >&2; exit 1; }
. "$utils/log.sh"
