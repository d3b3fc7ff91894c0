#!/usr/bin/env bash
# timeout: 120
# PyTorch parity (torch 1.13, float64 reference) for one pre-LN encoder layer with padding:
# output, input gradient and every parameter gradient within relative error 1e-4
# (max|c - ref| / max(max|ref|, 1e-6) per tensor; see tests/tools/parity_layer.c).
set -euo pipefail
tools="$AVMASK_BUILD/tools"

mkdir layer
"$tools/parity_layer" write layer
OMP_NUM_THREADS=1 "$PY" "$AVMASK_ROOT/tests/ref/torch_layer.py" layer
"$tools/parity_layer" check layer
