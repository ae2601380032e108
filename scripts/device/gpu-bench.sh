#!/bin/bash
# Runs ON THE GPU MACHINE (the device tool), from the repository root, after scripts/device/pack-gpu-bench.sh filled
# .gpu here: device tool `run` with carry [".gpu"], command `bash scripts/device/gpu-bench.sh`, timeout_s 600.
# Everything it measures lands in $OUT (at most 8 files come back):
#   ae-conv.json, ae-dense.json   `bench ae --json` on webgpu (fused step and tfjs's kernels) beside PyTorch CUDA
#   ae.log                        the two benches' tables and --profile counts (stderr)
#   experiments.log               the study's three experiments end to end on webgpu, with wall times
#   gpu.txt                       nvidia-smi and the WebGPU adapter Dawn picked
# Budget: one device command may run 600 s (and a session has 15 minutes of device time, the machine's start
# included), so everything here ends by BUDGET seconds (default 560) after the start: each bench gets at most 150 s,
# the experiments what is left; a step cut off says so in its log.
set -uo pipefail
DEADLINE=$(( $(date +%s) + ${BUDGET:-560} ))
left() { local l=$(( DEADLINE - $(date +%s) )); [ "$l" -lt "$1" ] && echo "$l" || echo "$1"; }
OUT=${OUT:-/tmp/gpu-bench-out}
mkdir -p "$OUT"
G=$PWD/.gpu
[ -f "$G/app.tar.xz" ] || { echo "no .gpu/app.tar.xz: run scripts/device/pack-gpu-bench.sh here first and carry .gpu" >&2; exit 2; }

# node, the Vulkan loader and glvnd (../shared/device/README.md); the app and Dawn under /tmp/gpuapp; the data
bash "$G/setup.sh" >/dev/null 2>&1
export PATH=/tmp/nodebin:$PATH
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}
A=/tmp/gpuapp/app
mkdir -p /tmp/gpuapp && xz -dc "$G/app.tar.xz" | tar -xf - -C /tmp/gpuapp
mkdir -p "$A/node_modules/webgpu/dist/linux-x64"
xz -dc "$G/dawn.node.xz" > "$A/node_modules/webgpu/dist/linux-x64/dawn.node"
DATA=/tmp/fmnist
mkdir -p "$DATA" && cp "$G"/data/*.gz "$DATA/"
xz -dc "$G/data/train-images-idx3-ubyte.xz" | gzip -1 > "$DATA/train-images-idx3-ubyte.gz"
# Dawn on Vulkan only (no OpenGL fallback to a software adapter); PyTorch is the image's python3, not Debian's
export CLUSTERBENCH_DAWN_FLAGS=backend=vulkan
export CLUSTERBENCH_PYTHON=$(command -v python3)
export CLUSTERBENCH_HOME=/tmp/clusterbench-home CLUSTERBENCH_DB=/tmp/clusterbench-home/runs.db

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  (cd "$A" && node --input-type=module -e "import('webgpu').then(async (w) => { const a = await w.create(['backend=vulkan']).requestAdapter({ powerPreference: 'high-performance' }); console.log('adapter:', a ? JSON.stringify({ vendor: a.info.vendor, device: a.info.device, description: a.info.description }) : 'none'); process.exit(0); })" 2>&1 | tail -1)
  node --version
  "$CLUSTERBENCH_PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
} > "$OUT/gpu.txt" 2>&1

# 1. the autoencoder benches: webgpu (fused, then tfjs's kernels) beside PyTorch CUDA, with the dispatch profile
for model in conv dense; do
  echo "== bench ae --model $model" >> "$OUT/ae.log"
  timeout "$(left 150)" node "$A/ae.mjs" --model "$model" --backends webgpu --n 10000 --epochs 2 --data "$DATA" --json --profile \
    > "$OUT/ae-$model.json" 2>> "$OUT/ae.log"
  echo "exit $?" >> "$OUT/ae.log"
done

# 2. the study's three experiments on webgpu, full data (60k images), timed end to end
{
  start=$(date +%s)
  for args in "--task kmeans" "--task ae-kmeans" "--task ae-gmm --reuse-encoder 2"; do
    t0=$(date +%s)
    echo "== clusterbench run $args --backend webgpu"
    [ "$(left 600)" -gt 5 ] || { echo "no time left"; break; }
    timeout "$(left 600)" node "$A/cli.mjs" --data "$DATA" run $args --backend webgpu 2>&1 | grep -v '^Warning: max'
    echo "exit ${PIPESTATUS[0]} after $(( $(date +%s) - t0 )) s"
  done
  echo "all experiments: $(( $(date +%s) - start )) s"
} > "$OUT/experiments.log" 2>&1
echo "done: $(ls "$OUT")"
