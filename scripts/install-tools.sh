#!/usr/bin/env bash
# Installs everything the test suite needs, idempotently: fast when all is already there.
# Tools come only from the package registries (crates.io, Debian, npm); nothing downloads prebuilt binaries.
set -euo pipefail

# Versions the build depends on exactly; keep in step with the root Cargo.toml.
CARGO_DENY_VERSION=0.20.2
# Builds the ifmatch-conformance Python wheel (conformance/pyproject.toml).
MATURIN_VERSION=1.16.0
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' "$(dirname "$0")/../Cargo.toml")

say() { printf '[install-tools] %s\n' "$*"; }

rustup component add rustfmt clippy >/dev/null 2>&1 || true
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

installed_version() { "$1" --version 2>/dev/null | awk '{print $2}'; }

if [ "$(installed_version cargo-deny)" != "$CARGO_DENY_VERSION" ]; then
  say "installing cargo-deny $CARGO_DENY_VERSION (a few minutes, once)"
  cargo install cargo-deny --version "$CARGO_DENY_VERSION"
fi

# wasm-bindgen-cli must equal the wasm-bindgen crate version exactly. `--locked` fails against this registry.
if [ "$(installed_version wasm-bindgen)" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# maturin, from PyPI, for the Python wheel of the conformance CLI (scripts/wheel-test.sh).
# Run as `python3 -m maturin`, so a missing pyenv shim or PATH entry does not matter.
if [ "$(python3 -m maturin --version 2>/dev/null | awk '{print $2}')" != "$MATURIN_VERSION" ]; then
  say "installing maturin $MATURIN_VERSION from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi

# Debian's Chromium and its driver for the browser tests.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  say "installing chromium and chromium-driver from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
# Debian's PostgreSQL server for the PostgreSQL storage tests (they start throwaway clusters
# themselves with initdb; no service is started or enabled here).
if ! command -v pg_config >/dev/null || [ ! -x "$(pg_config --bindir 2>/dev/null)/initdb" ]; then
  say "installing postgresql from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
say "tools ready: $(cargo-deny --version), $(wasm-bindgen --version), $(python3 -m maturin --version), $(chromium --version 2>/dev/null | head -1), PostgreSQL $(pg_config --version | awk '{print $2}')"
