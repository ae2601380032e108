#!/usr/bin/env bash
# Seed-for-seed check of a refactor (issues 12, 20): runs experiment 1 (k-means) on the full data, experiments 2-3
# (conv autoencoder, k-means, GMM) on a 5k/1k subset with 3 epochs and N2D (dense autoencoder 1 epoch, UMAP, GMM) on
# the same subset, seed 0, wasm, writing each run's `--json` and the stored history (`runs list --json`) into OUT. Run it on the commit before
# and after, then compare: python3 scripts/compare-seed-check.py BEFORE_OUT AFTER_OUT
#   scripts/seed-check.sh OUT [CLI command, default: npx tsx src-main/cli/bin.ts]
set -euo pipefail
out=$1
cli=${2:-npx tsx "$(dirname "$0")/../src-main/cli/bin.ts"}
mkdir -p "$out"
db=$out/runs.sqlite
rm -rf "$db" "$db"-* "$db".artifacts
common=(--seed 0 --backend wasm --json --db "$db")
$cli run --task kmeans "${common[@]}" > "$out/exp1.json"
$cli run --task ae-kmeans --train-limit 5000 --test-limit 1000 --epochs 3 "${common[@]}" > "$out/exp2.json"
$cli run --task ae-gmm --train-limit 5000 --test-limit 1000 --reuse-encoder 2 "${common[@]}" > "$out/exp3.json"
$cli run --task n2d --train-limit 5000 --test-limit 1000 --epochs 1 "${common[@]}" > "$out/exp4.json"
$cli runs list --json --db "$db" > "$out/runs.json"
echo "wrote $out/exp1.json … exp4.json, runs.json"
