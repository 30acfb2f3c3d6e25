#!/usr/bin/env bash
# GPU check: builds the LibTorch-only part (core, models, revup-cli benchmarks,
# tests) against the LibTorch inside a PyTorch wheel (2.x, CUDA), runs the tests
# on the machine and the memory and 4K benchmarks with --device cuda. Writes
# JSON and logs to ${OUT:-out/gpu}. Budget: under 8 minutes on one GPU.
#
# Needs: python3 with torch (CUDA), cmake, ninja, a C++17 compiler, and the
# header-only CLI11 and nlohmann_json plus GoogleTest; point CMAKE_PREFIX_PATH
# (or REVUP_DEPS_PREFIX) at them if they are not installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
ABI=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
echo "torch $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda)'), cxx11 abi $ABI" | tee "$OUT/env.txt"
nvidia-smi --query-gpu=name,memory.total --format=csv | tee -a "$OUT/env.txt" || true

cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;${REVUP_DEPS_PREFIX:-/usr}" \
  -DREVUP_WITH_OPENCV=OFF -DREVUP_BUILD_TESTS=ON 2>&1 | tee "$OUT/configure.log"
cmake --build build-gpu -j"$(nproc)" 2>&1 | tail -n 50 | tee "$OUT/build.log"

# The suite itself is device-agnostic; it must pass here too (CPU allocator tracking).
ctest --test-dir build-gpu --output-on-failure --timeout 600 2>&1 | tail -n 40 | tee "$OUT/ctest.log"

CLI=build-gpu/bin/revup-cli
$CLI info --json "$OUT/info.json"
timeout 180 $CLI bench memory --device cuda --json "$OUT/bench-memory-cuda.json" 2>&1 | tail -n 30
timeout 120 $CLI bench 4k --device cuda --json "$OUT/bench-4k-cuda.json" 2>&1 | tail -n 10
timeout 90 $CLI bench speed --device cuda --depth 56 --json "$OUT/bench-speed-cuda.json" 2>&1 | tail -n 10
echo "GPU check done: $OUT"
