#!/usr/bin/env bash
# gpu_bench.sh: the GPU training benchmark of issue 4, one prepared run for any machine with an NVIDIA GPU and
# a pip-installed torch (no GLFW, no internet needed). Builds `quantlab` with the native-cuda preset against
# that torch, then measures QAT W4A4 training images/s at batch 128, in the same run:
#   notebook        the class_03 notebook's PyTorch loop (DataLoader, Python quantizer + STE)
#   resident        a GPU-resident PyTorch loop (data on the GPU, fused fake_quantize with tensor scales)
#   resident-graph  the same captured as one CUDA graph (forward + backward + SGD step)
#   quantlab        `quantlab train` (LibTorch C++, data on the GPU, fused fake-quant)
# Usage: scripts/gpu_bench.sh [DATA_DIR]   (default: ../shared/data/cifar-10-batches-bin, else $QUANTLAB_DATA)
# Writes build/gpu_bench.json (and prints the table). A few minutes: ~25 s build, ~1-2 min of loops.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${1:-${QUANTLAB_DATA:-../shared/data/cifar-10-batches-bin}}"
PY="${PYTHON:-python3}"
if [ ! -f "$DATA/data_batch_1.bin" ]; then
  echo "gpu_bench: no CIFAR-10 binary batches in $DATA (pass the folder as the first argument)" >&2
  exit 1
fi
export TORCH_PREFIX="$($PY -c 'import torch;print(torch.utils.cmake_prefix_path)')"
"$PY" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "GPU", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)'
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader || true
# The benchmark needs only the command line: skip the unit tests to keep the build short.
cmake --preset native-cuda -DQUANTLAB_BUILD_TESTS=OFF -DQUANTLAB_BUILD_BENCH=OFF > build/gpu_bench_cmake.log 2>&1 \
  || { tail -30 build/gpu_bench_cmake.log; exit 1; }
cmake --build --preset native-cuda --target quantlab -j "$(nproc)" > build/gpu_bench_build.log 2>&1 \
  || { grep -E "error|Error" build/gpu_bench_build.log | head -40; exit 1; }
Q=build/native-cuda/native/quantlab
# A short correctness smoke test on the GPU first: 50 steps must lower the loss and stay finite.
"$Q" train --data "$DATA" --device cuda --bits 4 --epochs 1 --max-steps 50 --val-every 0 --checkpoint-dir "" --no-final-eval
"$PY" tests/bench/train_bench.py --data "$DATA" --device cuda --quantlab "$Q" --quantlab-steps 2000 \
  --loops notebook,resident,resident-graph,quantlab --iters 300 --warmup 30 --threads "$(nproc)" --json build/gpu_bench.json
