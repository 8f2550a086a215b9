#!/usr/bin/env bash
# Installs the real VS Code used by `npm start` and the tests: code-server 4.100.3 (VS Code 1.100.3) and playwright-core,
# into .vscode-test/ (ignored by git). Idempotent; Debian's chromium and ripgrep come from .ci/run or the README.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR="$ROOT/.vscode-test"
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
if [ -x "$DIR/node_modules/.bin/code-server" ] && [ -d "$DIR/node_modules/playwright-core" ] \
  && grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$DIR/node_modules/code-server/package.json"; then
  exit 0
fi
for tool in rg chromium; do
  command -v "$tool" >/dev/null || { echo "setup-vscode-test: $tool is missing (apt-get install ripgrep chromium)" >&2; exit 1; }
done
mkdir -p "$DIR"
cd "$DIR"
# @vscode/ripgrep's postinstall downloads rg from GitHub: feed it Debian's rg through its download cache ($TMPDIR).
export TMPDIR="$DIR/tmp"
RG_CACHE="$TMPDIR/vscode-ripgrep-cache-1.15.11"
mkdir -p "$RG_CACHE" "$DIR/rgtar"
cp "$(command -v rg)" "$DIR/rgtar/rg"
tar czf "$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$DIR/rgtar" rg
[ -f package.json ] || echo '{"name":"attentive-vscode-test","private":true}' > package.json
# unsafe_perm: code-server's postinstall refuses root without it; yes: node-pty's postinstall runs `npx node-gyp`.
npm_config_unsafe_perm=true npm_config_yes=true npm install --no-audit --no-fund --no-save \
  "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
XDG_CONFIG_HOME="$DIR/xdg/config" XDG_DATA_HOME="$DIR/xdg/data" "$DIR/node_modules/.bin/code-server" --version
