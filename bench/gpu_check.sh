#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The GPU path in one command, for a machine with an NVIDIA GPU (within 8 minutes on one GPU, 16 cores):
#   1. finds a CUDA LibTorch: $TORCH_PREFIX, else the one inside Python's torch
#      (python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'), else Debian's (CPU only);
#   2. configures and builds the nn-only tree (-DDETLAB_NN_ONLY=ON -DDETLAB_GPU_TESTS=ON: src/nn, test_nn, the
#      bench/nn benchmarks; LibTorch alone, no OpenCV) in $BUILD (default build-gpu);
#   3. runs every [gpu] test (CUDA against CPU results; they fail, not pass, without CUDA), then
#   4. bench_device_throughput: inference and a training step of SSDlite, RetinaNet-R50-FPN and Faster
#      R-CNN-R50-FPN at batch 1 and 8, on the CPU and the GPU, with the GPU's speed-up.
# Everything it prints also goes to $BUILD/gpu_check.log (and to $OUT/gpu_check.log when OUT is set).
#
#   bench/gpu_check.sh              the whole check (needs CUDA)
#   bench/gpu_check.sh --cpu-only   steps 1-2 against Debian's LibTorch, then a smoke run of the benchmark on
#                                   the CPU: the part CI runs, so the nn-only tree keeps building
set -euo pipefail
cd "$(dirname "$0")/.."

cpu_only=0
[[ "${1:-}" == "--cpu-only" ]] && cpu_only=1
BUILD=${BUILD:-build-gpu}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$BUILD"
log="$BUILD/gpu_check.log"
: > "$log"
say() { echo "$@" | tee -a "$log"; }
step() {  # step NAME LIMIT_SECONDS COMMAND...: runs it with a time limit, logs it, says how long it took
  local name=$1 limit=$2; shift 2
  say "== $name ($*)"
  local start=$SECONDS rc=0
  timeout "$limit" "$@" 2>&1 | tee -a "$log" || rc=${PIPESTATUS[0]}
  say "== $name: exit $rc in $((SECONDS - start)) s"
  return "$rc"
}
finish() {
  local rc=$?
  [[ -n "${OUT:-}" ]] && cp "$log" "$OUT/gpu_check.log" 2>/dev/null || true
  say "gpu_check: $([[ $rc == 0 ]] && echo passed || echo "FAILED (exit $rc)") in $SECONDS s"
}
trap finish EXIT

prefix=${TORCH_PREFIX:-}
if [[ -z "$prefix" && $cpu_only == 0 ]]; then
  prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)
fi
say "gpu_check: $(date -u +%FT%TZ) on $(hostname), $(nproc) cores; commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
say "LibTorch: ${prefix:-Debian's (find_package default)}"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$log"
elif [[ $cpu_only == 0 ]]; then
  say "gpu_check: nvidia-smi not found; the [gpu] tests will fail if this LibTorch sees no CUDA device"
fi

cmake_args=(-S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDETLAB_NN_ONLY=ON -DDETLAB_GPU_TESTS=ON)
[[ -n "$prefix" ]] && cmake_args+=("-DCMAKE_PREFIX_PATH=$prefix")
step configure 120 cmake "${cmake_args[@]}"
step build 420 cmake --build "$BUILD" -j "$JOBS" --target test_nn bench_device_throughput

if [[ $cpu_only == 1 ]]; then
  step smoke 120 "$BUILD/bench/bench_device_throughput" --smoke --devices cpu
  exit 0
fi
step gpu_tests 180 "$BUILD/tests/test_nn" "[gpu]"
step throughput 300 "$BUILD/bench/bench_device_throughput" --devices cpu,cuda --batches 1,8 --size 512 --reps 3
