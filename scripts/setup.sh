#!/usr/bin/env bash
# Brings a fresh machine of this kind (Debian 12, root, Rust via rustup, Node >= 20) to a state
# where the demo, the tests and the benchmarks run. Idempotent, and fast when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen = "=..."` pin in crates/web/Cargo.toml
WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1     # built from the crates registry (the npm package downloads at install)

log() { printf '[setup] %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

grep -q "wasm-bindgen = \"=$WASM_BINDGEN_VERSION\"" crates/web/Cargo.toml \
  || { echo "setup.sh pins wasm-bindgen $WASM_BINDGEN_VERSION but crates/web/Cargo.toml differs" >&2; exit 1; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# 1. Node >= 20 (the machine image ships it; Debian's is the fallback).
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  log "installing nodejs"
  apt_install nodejs npm
fi

# 2. The wasm32 target: rustup, or Debian's matched toolchain that builds std from source.
if rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  :
elif rustup target add wasm32-unknown-unknown; then
  log "added wasm32-unknown-unknown with rustup"
else
  log "rustup could not fetch wasm32; using Debian rustc-web + build-std (see docs)"
  apt_install rustc-web cargo-web rust-web-src lld-22
  cat > .cargo/env-wasm-fallback <<'ENV'
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
ENV
fi

# 3. wasm-bindgen CLI pinned to the crate's version (wasm-pack uses it from PATH), and wasm-pack.
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes)"
  cargo install --quiet --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  log "installing wasm-pack $WASM_PACK_VERSION (a few minutes)"
  cargo install --quiet --force wasm-pack --version "$WASM_PACK_VERSION"
fi

# 4. Debian Chromium + driver for browser tests and benchmarks (never a downloaded browser).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  log "installing chromium and chromium-driver"
  apt_install chromium chromium-driver
fi

# 4b. Debian Firefox ESR + geckodriver built with cargo, for the same browser tests in Firefox.
if ! command -v firefox-esr >/dev/null; then
  log "installing firefox-esr"
  apt_install firefox-esr
fi
if [ "$(geckodriver --version 2>/dev/null | awk 'NR==1 {print $2}')" != "$GECKODRIVER_VERSION" ]; then
  log "installing geckodriver $GECKODRIVER_VERSION (a few minutes)"
  cargo install --quiet --force --locked geckodriver --version "$GECKODRIVER_VERSION"
fi

# 5. Node dev dependencies (binaryen's wasm-opt/wasm-dis, playwright-core, workerd, typescript,
#    benchmark peers, miniflare 3.x pinned: the local R2 simulation of the R2 tests; 4.x needs
#    Node >= 22; selenium-webdriver: the WebDriver BiDi client that drives Firefox).
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -x node_modules/.bin/workerd ] \
  || [ ! -f node_modules/miniflare/package.json ] || [ ! -f node_modules/selenium-webdriver/package.json ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 5b. The apps matrix (tests/apps/package.json pins Vite, webpack, esbuild, Next.js + React, @langchain/core, wrangler 3).
if [ ! -x tests/apps/node_modules/.bin/vite ] || [ tests/apps/package-lock.json -nt tests/apps/node_modules/.package-lock.json ]; then
  log "npm ci (tests/apps)"
  npm ci --prefix tests/apps --no-audit --no-fund --loglevel=error
fi

# 6. Components rustfmt/clippy for the lint step.
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt


# 7. The S3-compatible test server for the edge tests (PyPI ministack, pinned) in a venv.
MINISTACK_VERSION=1.5.33
if [ "$(.venv-s3/bin/python -c 'import importlib.metadata as m; print(m.version("ministack"))' 2>/dev/null)" != "$MINISTACK_VERSION" ] \
  || ! .venv-s3/bin/python -c 'import boto3' 2>/dev/null; then
  log "installing ministack $MINISTACK_VERSION + boto3 in .venv-s3"
  command -v python3 >/dev/null || apt_install python3
  python3 -m venv .venv-s3 2>/dev/null || { apt_install python3-venv; python3 -m venv .venv-s3; }
  .venv-s3/bin/pip install --quiet --disable-pip-version-check "ministack==$MINISTACK_VERSION" boto3
fi
command -v curl >/dev/null || apt_install curl

log "ready: $(rustc --version), node $(node --version), $(wasm-bindgen --version), $(wasm-pack --version), $(geckodriver --version | head -n 1)"
