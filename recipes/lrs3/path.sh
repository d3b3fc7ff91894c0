# Sourced by run.sh: where the avmask binary and the shared recipe tools (launchers) are.
# $AVMASK (the binary) overrides the default bin/avmask of this checkout.
avmask_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
avmask=${AVMASK:-$avmask_root/bin/avmask}
utils=$avmask_root/recipes/common
export PATH=$utils:$PATH   # so that --cmd="slurm.sh --partition=cpu" or --cmd=local.sh work by name
export LC_ALL=C
[ -x "$avmask" ] || { echo "path.sh: $avmask not built; run 'make' in $avmask_root (or set AVMASK)" >&2; exit 1; }
