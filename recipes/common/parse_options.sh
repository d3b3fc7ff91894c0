# Sourced by recipes after they set their default variables (Kaldi's convention):
#   stage=0; nj=2; . ../common/parse_options.sh
# Turns --some-key=value (or --some-key value) into some_key=value for a variable that
# the recipe already defines; an unknown option or a missing value is an error.
# --config=FILE sources FILE first (shell assignments). --help prints $help_message.
# What is left (positional arguments) stays in "$@".
while [ $# -gt 0 ]; do
    case "$1" in
    --help|-h)
        printf '%s\n' "${help_message:-no help available}"
        exit 0 ;;
    --config=*)
        . "${1#--config=}" || { echo "$0: cannot read ${1#--config=}" >&2; exit 1; }
        shift ;;
    --*=*)
        _key=${1%%=*}; _key=${_key#--}; _key=${_key//-/_}
        eval "[ -n \"\${$_key+x}\" ]" || { echo "$0: unknown option --${_key//_/-}" >&2; exit 1; }
        printf -v "$_key" '%s' "${1#*=}"
        shift ;;
    --*)
        _key=${1#--}; _key=${_key//-/_}
        eval "[ -n \"\${$_key+x}\" ]" || { echo "$0: unknown option --${_key//_/-}" >&2; exit 1; }
        [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
        printf -v "$_key" '%s' "$2"
        shift 2 ;;
    *) break ;;
    esac
done
unset _key
