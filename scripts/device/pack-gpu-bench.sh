#!/bin/bash
# Run HERE (not on the GPU machine), from the repository root: fills .gpu/ (git-ignored) with what
# scripts/device/gpu-bench.sh needs on the GPU machine, which has no node, no npm and no network
# (../shared/device/README.md):
#   .gpu/node.xz, dawn.node.xz, debs/, setup.sh   node, Dawn, the Vulkan loader and glvnd (../shared/device/pack.sh)
#   .gpu/app.tar.xz   app/ae.mjs, app/cli.mjs, app/engineWorker.js: `bench ae`, the CLI and its engine worker
#                     bundled by esbuild (no tsx, no node_modules);
#                     app/reference/: the PyTorch reference scripts the bench runs; app/node_modules/: what the
#                     bundles load at run time (tfjs-backend-wasm's wasm files, webgpu's JS — Dawn is unpacked there
#                     by gpu-bench.sh —, better-sqlite3 for the run history, resvg for figures)
#   .gpu/data/        Fashion-MNIST (the training images as .xz: gzip's copy would not fit)
# Then call the device tool with carry [".gpu"] and the command: bash scripts/device/gpu-bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu
data=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
../shared/device/pack.sh "$out" >/dev/null
rm -rf "$out/app" "$out/data"
mkdir -p "$out/app/node_modules" "$out/data"
# Bundles: everything but native modules and Dawn; tfjs-backend-wasm is bundled, its wasm files are copied below
common=(--bundle --platform=node --format=esm --target=node20 --log-level=warning
  --external:webgpu --external:better-sqlite3 --external:electron --external:@tensorflow/tfjs-node-gpu --external:@tensorflow/tfjs-node --external:@resvg/resvg-js
  "--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);")
# bench/ae.ts runs itself when it is the entry point (bench/index.ts would run every bench's own entry check)
npx esbuild bench/ae.ts "${common[@]}" --outfile="$out/app/ae.mjs"
npx esbuild src-main/cli/bin.ts "${common[@]}" --outfile="$out/app/cli.mjs"
# the CLI runs experiments in a worker thread, found beside it as engineWorker.js (an ES module: package.json)
npx esbuild src-main/service/worker/engine-worker.ts "${common[@]}" --outfile="$out/app/engineWorker.js"
echo '{ "type": "module" }' > "$out/app/package.json"
cp -r bench/reference "$out/app/reference"
copy() { mkdir -p "$out/app/node_modules/$(dirname "$1")" && cp -rL "node_modules/$1" "$out/app/node_modules/$1"; }
for f in package.json dist/tfjs-backend-wasm.wasm dist/tfjs-backend-wasm-simd.wasm dist/tfjs-backend-wasm-threaded-simd.wasm wasm-out; do
  copy "@tensorflow/tfjs-backend-wasm/$f"
done
mkdir -p "$out/app/node_modules/webgpu"
cp -L node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/app/node_modules/webgpu/"
for f in package.json lib build/Release/better_sqlite3.node; do copy "better-sqlite3/$f"; done
for p in bindings file-uri-to-path @resvg/resvg-js @resvg/resvg-js-linux-x64-gnu; do copy "$p"; done
# under the 64 MiB the device tool carries: the app as one tar.xz, the training images recompressed with xz
tar -cf - -C "$out" app | xz -T2 -6 > "$out/app.tar.xz"
rm -rf "$out/app"
cp "$data"/t10k-*-ubyte.gz "$data"/train-labels-idx1-ubyte.gz "$out/data/"
gzip -dc "$data/train-images-idx3-ubyte.gz" | xz -T2 -6 > "$out/data/train-images-idx3-ubyte.xz"
du -sh "$out" "$out"/* | sort -h
echo "carry .gpu (limit 64 MiB); command: bash scripts/device/gpu-bench.sh"
