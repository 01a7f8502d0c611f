#!/usr/bin/env bash
# Writes every ILGPU kernel of kernels/ as PTX (sm_80, sm_90) and OpenCL C 2.0 to a folder, with no GPU:
#   tools/dump-kernels.sh OUT_DIR
# On a GPU machine, check the PTX with: for f in OUT_DIR/*.sm_80.ptx; do ptxas -arch=sm_80 "$f" -o /dev/null; done
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: tools/dump-kernels.sh OUT_DIR}"
./noisekd kernels --out "$out"
