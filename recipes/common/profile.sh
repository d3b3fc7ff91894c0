# Sourced by the recipes on a synthetic corpus (synth_av, slu_synth) after their defaults,
# with the command line in "$@" and $here the recipe's directory: the options, then the
# profile's variables (conf/$profile.sh, which may use $root, the checkout), then the options
# again, so that they override the profile; path.sh ($avmask, $steps, step, run_logged); the
# working dir; the profile's corpus/, feats/ and exp/ (with exp/<profile>/log).
_args=("$@")
root=$(cd "$here/../.." && pwd)   # the checkout: a profile may name its files (docs/results.md)
. "$here/../common/parse_options.sh"
[ -f "$here/conf/$profile.sh" ] || { echo "$0: unknown profile '$profile' (conf/$profile.sh)" >&2; exit 1; }
. "$here/conf/$profile.sh"
set -- "${_args[@]}"
. "$here/../common/parse_options.sh"
unset _args

. "$here/../common/path.sh"
cd "$here" && mkdir -p "$workdir" && cd "$workdir"
corpus=corpus/$profile; feats=feats/$profile; exp=exp/$profile
mkdir -p "$exp/log"
