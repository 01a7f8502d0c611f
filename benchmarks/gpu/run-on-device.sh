#!/usr/bin/env bash
# The CUDA checks and timings of our ILGPU kernels (kernels/, through ILGPU's PTX backend) on a GPU machine
# that has no .NET: run from the repository root after unpacking the self-contained build that
# ../shared/tools/device-publish packs:
#
#   ../shared/tools/device-publish                                   # here: writes .device/noisekd.tar.xz
#   # optional, for quickstart (30 MiB; build + data must stay under the 64 MiB a device call carries):
#   mkdir -p .device/datasets && cp -r /usr/share/datasets/fashion-mnist .device/datasets/
#   # device call, carry [".device"]:
#   mkdir -p /tmp/nk && tar xJf .device/noisekd.tar.xz -C /tmp/nk && benchmarks/gpu/run-on-device.sh
#
# Writes under $OUT (default ./gpu-out): one log per step, summary.txt with every step's exit code,
# nvidia-smi.txt, and the quickstart run in $OUT/qs. A failing step is recorded and the next one runs.
# Environment: NK (the program, default /tmp/nk/noisekd), NK_DATA_ROOT (folder holding fashion-mnist/),
# STEPS (timed steps, default 20).
set -uo pipefail
NK=${NK:-/tmp/nk/noisekd}
OUT=${OUT:-./gpu-out}
STEPS=${STEPS:-20}
mkdir -p "$OUT"
summary="$OUT/summary.txt"
: > "$summary"

[ -x "$NK" ] || { echo "run-on-device: $NK is not there; unpack .device/noisekd.tar.xz to /tmp/nk first" >&2; exit 2; }

# step NAME COMMAND...: runs one step, its output in $OUT/NAME.log, its exit code in summary.txt.
step() {
    local name=$1; shift
    echo "== $name: $*"
    local start=$SECONDS
    "$@" > "$OUT/$name.log" 2>&1
    local code=$?
    echo "$name: exit $code ($((SECONDS - start)) s): $*" | tee -a "$summary"
    tail -n 3 "$OUT/$name.log"
}

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || echo "no nvidia-smi" > "$OUT/nvidia-smi.txt"
step devices "$NK" devices

# Every kernel as PTX, written by the program itself (no GPU needed for that), then assembled by ptxas for
# sm_80 and sm_90 where a toolkit is there.
kernels_dir=/tmp/noisekd-kernels
step kernels "$NK" kernels --out "$kernels_dir"
if command -v ptxas >/dev/null 2>&1; then
    step ptxas bash -c 'failed=0; for f in "$1"/*.sm_*.ptx; do arch=${f##*.sm_}; arch=sm_${arch%.ptx};
        ptxas -arch="$arch" -v "$f" -o /dev/null 2>&1 | sed "s|^|$(basename "$f"): |" || failed=1; done; exit $failed' _ "$kernels_dir"
else
    echo "ptxas: skipped (no ptxas on PATH)" | tee -a "$summary"
fi
step check "$NK" check --device cuda
step gemm-2048 "$NK" bench --device cuda --gemm 2048 --steps "$STEPS"
step gemm-4096 "$NK" bench --device cuda --gemm 4096 --steps "$STEPS"
step bench-resnet18 "$NK" bench --device cuda --arch resnet18 --batch-size 128 --input 3x32x32 --steps "$STEPS"
step bench-noise-kd "$NK" bench --device cuda --mode distill --arch resnet18 --teacher-arch resnet34 --batch-size 128 \
    --input 3x32x32 --steps "$STEPS"

data_root=${NK_DATA_ROOT:-}
for candidate in "$data_root" /usr/share/datasets .device/datasets; do
    if [ -n "$candidate" ] && [ -d "$candidate/fashion-mnist" ]; then data_root=$candidate; break; fi
done
if [ -n "$data_root" ] && [ -d "$data_root/fashion-mnist" ]; then
    step quickstart "$NK" quickstart --device cuda --data-root "$data_root" --out "$OUT/qs"
else
    echo "quickstart: skipped (no fashion-mnist/ under NK_DATA_ROOT, /usr/share/datasets or .device/datasets)" | tee -a "$summary"
fi

# PyTorch + cuDNN on the same configurations (and ours again, side by side).
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    step torch-compare python3 benchmarks/compare_torch.py --device cuda --noisekd "$NK" --steps "$STEPS"
else
    echo "torch-compare: skipped (no PyTorch with CUDA in python3)" | tee -a "$summary"
fi
echo "logs in $OUT"
