#!/usr/bin/env bash
# Runs every test and check of the project. Installs what the tests need first (idempotent).
# Usage: scripts/test.sh            (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "install tools"
scripts/install-tools.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (native, all targets)"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo clippy (wasm32: sdk and wasm adapter)"
cargo clippy -p ifmatch -p ifmatch-wasm --target wasm32-unknown-unknown -- -D warnings

step "cargo clippy (wasm32: the SDK's optional transports build there too)"
cargo clippy -p ifmatch --target wasm32-unknown-unknown --features wasm-reqwest,reqwest-middleware,tower -- -D warnings

step "cargo doc (SDK, every feature; broken links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -p ifmatch --no-deps --features test-util,tower,reqwest-middleware,prometheus

step "cargo deny check licenses bans sources"
cargo deny --log-level error check licenses bans sources

step "cargo build -p ifmatch --target wasm32-unknown-unknown"
cargo build -p ifmatch --target wasm32-unknown-unknown

step "cargo test --workspace"
cargo test --workspace

step "scripts/bench.sh with QUICK=1: every benchmark part runs and its JSON is whole (tiny counts, no figures)"
QUICK=1 OUT=target/bench/quick.json scripts/bench.sh >/dev/null

step "ifmatch-conformance as a Python wheel: build, install in a fresh virtualenv, smoke-test, check examples/ci"
scripts/wheel-test.sh --examples

if [ -x wasm/scripts/test.sh ]; then
  step "wasm / npm package: Node, headless Chromium, npm pack, browser example"
  wasm/scripts/test.sh
fi

step "interop matrix: the suite against real servers from Debian, PyPI and npm (scripts/interop.sh)"
scripts/interop.sh

step "all checks passed"
