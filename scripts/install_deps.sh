#!/bin/sh
# Installs the Debian packages avmask needs, only those missing ("--test": also those only
# the test suite needs; "fuzz": those only make fuzz needs). fortunes-min and wordnet-base
# are the general English text of the text encoder (recipes/steps/text_corpus.sh). Runs as root
# (or tells the user the one apt-get line to run). Nothing else is downloaded.
# "install_deps.sh fuzz" (make fuzz): also clang and its libFuzzer/sanitizer runtimes, which
# nothing else needs (make test replays the fuzz corpus with gcc).
set -e
PKGS="pkg-config libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libswscale-dev
ffmpeg libhdf5-dev libopenblas-openmp-dev libopenmpi-dev openmpi-bin libespeak-ng-dev
espeak-ng-data flite1-dev gnuplot-nox python3-torch python3-torchaudio python3-h5py python3-numpy python3-sklearn
pocketsphinx-testdata fortunes-min wordnet-base"
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang libclang-rt-14-dev"
# make test (--test) also starts a one-node Slurm: tests/recipes/test_slurm_real.sh runs the
# recipes' Slurm launcher against real daemons (started and stopped by the test)
[ "${1:-}" = --test ] && PKGS="$PKGS slurm-wlm munge"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "avmask: installing missing packages:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "avmask: not root; run: apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends $missing >/tmp/avmask-apt.log 2>&1 || {
    tail -20 /tmp/avmask-apt.log >&2
    echo "avmask: apt-get install failed (full log: /tmp/avmask-apt.log)" >&2
    exit 1
}
echo "avmask: packages installed"
