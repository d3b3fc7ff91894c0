#!/usr/bin/env bash
# timeout: 60
# The BLAS kernel check (models/blas_kernel.h): `avmask --system` and the log of pretrain
# name the CPU, its ISA, the BLAS kernel and the thread count; unless the user set
# OPENBLAS_CORETYPE, the kernel in use is at least as wide as the CPU's ISA (on a CPU that
# Debian's OpenBLAS does not know, it would run Prescott); a user's own OPENBLAS_CORETYPE is
# kept, and one below the CPU (Prescott given as if detected) is reported with a warning.
# Where the machine's environment sets OPENBLAS_CORETYPE itself (some CI hosts do), that
# setting is the user's: it is checked to be kept, and never changed by this test.
set -euo pipefail
unset AVMASK_BLAS_DETECTED
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
if has avx512f && has avx512bw && has avx512dq && has avx512vl; then isa=AVX-512; best=SkylakeX
elif has avx2 && has fma; then isa=AVX2; best=Haswell
elif has avx; then isa=AVX; best=Sandybridge
else isa=SSE; best=; fi
rank() {
    case $1 in
        SkylakeX|Cooperlake|SapphireRapids) echo 4 ;; Haswell|Zen|Excavator) echo 3 ;;
        Sandybridge|Bulldozer|Piledriver|Steamroller) echo 2 ;; *) echo 1 ;;
    esac
}
line=$("$AVMASK" --system)
echo "$line"
[[ $line == *"CPU "*", $isa, BLAS OpenBLAS "*" kernel "*", "[0-9]*" thread(s)"* ]]
kernel=$(sed 's/.* kernel \([A-Za-z0-9]*\).*/\1/' <<<"$line")
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
    [[ $line == *"(OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE)"* ]]
else
    [ -z "$best" ] || [ "$(rank "$kernel")" -ge "$(rank "$best")" ]
    [[ $line != *warning* ]]
    # what OpenBLAS picked by itself is named when avmask overrode it
    if [[ $line == *"chosen by avmask"* ]]; then [[ $line == *"OpenBLAS picked "* ]]; fi
fi

# the user's own choice is kept, and named (Sandybridge: any AVX machine runs it)
if [ -n "$best" ]; then
    line=$(OPENBLAS_CORETYPE=Sandybridge "$AVMASK" --system)
    echo "$line"
    [[ $line == *"kernel Sandybridge (OPENBLAS_CORETYPE=Sandybridge)"* ]]
fi
# an old kernel below the CPU is reported (on an AVX machine or better)
line=$(OPENBLAS_CORETYPE=Prescott "$AVMASK" --system)
echo "$line"
[[ $line == *"kernel Prescott"* ]]
if [ -n "$best" ]; then [[ $line == *"warning: kernel Prescott is below this CPU's $isa (set OPENBLAS_CORETYPE=$best"* ]]; fi

# pretrain logs the same line (and re-executes itself at most once: one start line); a
# preset OPENBLAS_CORETYPE of the environment stays as it is
"$AVMASK_BUILD/tools/train_mkfeats" --out=tr --n=4 --max-tokens=20
OPENBLAS_CORETYPE=Prescott "$AVMASK" pretrain --feats=tr --out=pt --model=tiny --d=32 --ffn=64 --heads=2 \
    --max-steps=1 --threads=1 2>err || { cat err; exit 1; }
grep -q "pretrain: CPU .*kernel Prescott (OPENBLAS_CORETYPE=Prescott), 1 thread(s)" pt/train.log
"$AVMASK" pretrain --feats=tr --out=pt2 --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=1 --threads=1 2>err
[ "$(grep -c 'starting at step 0' err)" = 1 ]
grep -q "pretrain: CPU .*kernel $kernel" pt2/train.log
echo "test_blas_kernel: ok"
