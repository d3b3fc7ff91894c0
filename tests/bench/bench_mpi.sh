# `mpirun -np 2 avmask pretrain --threads=1` vs one `avmask pretrain --threads=2`, the same
# global batch (tests/bench/bench_mpi.py drives both; prints a RESULT line for
# tests/bench/run.sh). Features: 64 synthetic utterances of exactly 100 tokens per modality
# (32x32 video, as the base config's), so every global batch is B=8 x T=100, the shape of
# bench_model. MODEL (base), NP (2 ranks), REPEATS, STEPS: timed steps per run.
set -eu
command -v mpirun > /dev/null || { echo "mpirun not installed (openmpi-bin): skipped"; exit 0; }
"$AVMASK_BUILD/tools/train_mkfeats" --out=pf --n=64 --min-tokens=100 --max-tokens=100 --height=32 --width=32 > /dev/null
"$PY" "$AVMASK_ROOT/tests/bench/bench_mpi.py" --feats=pf --model="${MODEL:-base}" --np="${NP:-2}"
