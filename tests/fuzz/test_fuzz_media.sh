# timeout: 180
# The media mutation harness (tests/fuzz/media_mutate.py) on a small scale: 16 mutated
# copies of short mp4/mkv/webm/avi/wav clips extracted together with the clean clips
# (--nj=2), then 8 more cut by a segments file and cropped (--nj=1): each bad utterance is
# reported in one line, the clean clips' features are bit-identical to a clean run, no
# sanitizer report (SAN build). Larger runs: tests/fuzz/README.md.
set -eu
"$PY" "$AVMASK_ROOT/tests/fuzz/media_mutate.py" "$AVMASK" mm --mutations=16 --seed=7 --nj=2
"$PY" "$AVMASK_ROOT/tests/fuzz/media_mutate.py" "$AVMASK" mms --mutations=8 --seed=8 --nj=1 --segments --crops
