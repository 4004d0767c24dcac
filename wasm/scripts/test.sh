#!/usr/bin/env bash
# Tests the npm package `ifmatch`: build, TypeScript declarations, Node suite, headless Chromium suite,
# browser example (screenshot in wasm/test-output/), `npm pack` -> fresh project -> use, and the packed
# package in Vite, webpack and esbuild apps (tests/bundlers).
# Assumes the tools from scripts/install-tools.sh (wasm32 target, wasm-bindgen-cli, chromium);
# installs its own npm dev dependencies from package-lock.json. Exits non-zero on any failure.
set -euo pipefail
WASM_DIR="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$WASM_DIR/.." && pwd)"
cd "$WASM_DIR"
step() { printf '\n[wasm-test] == %s\n' "$*"; }

step "npm dev dependencies"
LOCK_SUM=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.ifmatch-lock-sum 2>/dev/null || true)" != "$LOCK_SUM" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$LOCK_SUM" > node_modules/.ifmatch-lock-sum
else
  echo "up to date with package-lock.json"
fi

step "bundler fixture (Vite 8/7/6, webpack 5, esbuild, @arethetypeswrong/cli) from its package-lock.json"
FIXTURE=tests/bundlers/fixture
FIXTURE_SUM=$(sha256sum "$FIXTURE/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$FIXTURE/node_modules/.ifmatch-lock-sum" 2>/dev/null || true)" != "$FIXTURE_SUM" ]; then
  (cd "$FIXTURE" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$FIXTURE_SUM" > "$FIXTURE/node_modules/.ifmatch-lock-sum"
else
  echo "up to date with $FIXTURE/package-lock.json"
fi

step "build the package"
scripts/build.sh

step "TypeScript declarations: strict type-check of a consumer, no 'any'"
node -e '
// The declarations must not use the type `any` (comments may say the word).
const fs = require("fs");
let bad = 0;
for (const file of ["types/index.d.ts", "types/web.d.ts"]) {
  const code = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  for (const line of code.split("\n")) if (/\bany\b/.test(line)) { console.error(`${file}: ${line.trim()}`); bad += 1; }
}
if (bad) { console.error("error: the declarations above use any; name the real type"); process.exit(1); }
'

node_modules/.bin/tsc -p tests/types/tsconfig.json
# Again with TypeScript's own Symbol.dispose (lib esnext): the declarations' copy must agree with it.
node_modules/.bin/tsc -p tests/types/tsconfig.esnext.json

step "reference servers on free loopback ports"
(cd "$ROOT" && cargo build --quiet -p ifmatch-server)
SERVER_BIN="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')/debug/ifmatch-server"
LOG_DIR=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$LOG_DIR"
}
trap cleanup EXIT
# start_server VAR NAME ARGS... : starts one server and sets VAR to its base URL once it has logged it.
start_server() {
  local var=$1 name=$2; shift 2
  "$SERVER_BIN" --addr 127.0.0.1:0 "$@" > "$LOG_DIR/$name.log" 2>&1 &
  local pid=$! url=""
  PIDS+=("$pid")
  for _ in $(seq 1 100); do
    url=$(sed 's/\x1b\[[0-9;]*m//g' "$LOG_DIR/$name.log" | grep -oE 'http://127\.0\.0\.1:[0-9]+' | head -1 || true)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "error: reference server '$name' did not log its URL; its log:" >&2
    cat "$LOG_DIR/$name.log" >&2
    exit 1
  fi
  printf -v "$var" '%s' "$url"
}
start_server IFMATCH_URL strict412
start_server IFMATCH_URL_409 conflict409 --mismatch-status 409
start_server IFMATCH_URL_LIMITED limited --rate-limit 1:1
# Tokens for the conflict tests (clients alice and bob, admin root); one conflict stream at a time,
# so that a test can see whether a subscription is still connected; quick heartbeats, so that a
# closed stream is noticed quickly.
start_server IFMATCH_URL_AUTH auth --client-token alice=alice-token --client-token bob=bob-token \
  --admin-token root=root-token --max-subscribers 1 --sse-heartbeat 200
# CORS for any origin: pages served on another port call it directly (tests/browser/cors-server.test.mjs).
start_server IFMATCH_URL_CORS cors --cors-origin '*'
export IFMATCH_URL IFMATCH_URL_409 IFMATCH_URL_LIMITED IFMATCH_URL_AUTH IFMATCH_URL_CORS
export IFMATCH_CHROMIUM=${IFMATCH_CHROMIUM:-$(command -v chromium)}
export IFMATCH_TEST_OUTPUT="$WASM_DIR/test-output"
mkdir -p "$IFMATCH_TEST_OUTPUT"
echo "412: $IFMATCH_URL  409: $IFMATCH_URL_409  rate-limited: $IFMATCH_URL_LIMITED"

step "Node suite (node --test)"
node --test --test-concurrency=1 tests/node/

step "headless Chromium suite and browser example"
node --test --test-concurrency=1 tests/browser/

step "npm pack -> npm install in a fresh project -> use"
node --test tests/pack/

step "bundlers: the packed package in an app built by Vite 8/7/6, webpack 5, esbuild (iife, esm) and served by Vite 8/7 dev, in Chromium; attw; node10"
node --test --test-concurrency=1 tests/bundlers/

step "import time of the package in Node (import, require)"
node scripts/import-time.mjs . 7

step "examples/node race script"
# The example depends on the package by path (file:../../wasm); npm links it, which is quick.
npm install --prefix "$ROOT/examples/node" --no-audit --no-fund --loglevel=error
node "$ROOT/examples/node/race.mjs" --url "$IFMATCH_URL" --writers 4 --increments 5
node "$ROOT/examples/node/race.mjs" --url "$IFMATCH_URL_409" --writers 4 --increments 5 --strategy merge

step "examples/node lock script"
node "$ROOT/examples/node/lock.mjs" --url "$IFMATCH_URL" --workers 4 --rounds 3

step "examples/node transfer script"
node "$ROOT/examples/node/transfer.mjs" --url "$IFMATCH_URL" --workers 4 --transfers 5

step "examples/node versions and conflicts scripts"
node "$ROOT/examples/node/versions.mjs" --url "$IFMATCH_URL"
node "$ROOT/examples/node/conflicts.mjs" --url "$IFMATCH_URL_AUTH"

step "all wasm / npm checks passed"
