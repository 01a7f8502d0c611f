#!/usr/bin/env bash
# A/B of the CPU vector paths on one machine: the same `noisekd bench` runs with NOISEKD_CPU_VECTOR=avx2 and
# =auto (512-bit where the CPU has AVX-512), alternating, ROUNDS rounds, one JSON line per run (each names
# its path in "cpu_vector"). On a CPU without AVX-512 both sides run the 256-bit path.
#   benchmarks/vector_ab.sh [ROUNDS] [STEPS]      (from the repository root; builds through ./noisekd)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
steps="${2:-7}"
runs=(
  "--gemm 1024"
  "--gemm 2048"
  "--arch resnet18 --batch-size 64 --input 3x32x32"
  "--arch resnet18 --width 0.25 --batch-size 256 --input 1x28x28 --mode distill --teacher-arch resnet34"
  "--arch resnet18 --width 0.25 --batch-size 256 --input 1x28x28 --mode infer"
  "--arch resnet18 --width 0.25 --batch-size 1 --input 1x28x28 --mode infer"
)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for run in "${runs[@]}"; do
    for path in avx2 auto; do
      # shellcheck disable=SC2086 # each run is a list of options
      echo "round $round: $(NOISEKD_CPU_VECTOR=$path ./noisekd bench $run --steps "$steps")"
    done
  done
done
