#!/usr/bin/env bash
# Every performance figure of issue #14 (docs/performance.md) in one run: one JSON document and
# a summary table. Each timing is a ratio against a baseline measured in the same run; counts and
# durations are bounded, and everything talks to 127.0.0.1 only. A few minutes on 2 cores, after
# the release builds.
#
#   scripts/bench.sh                # ROUNDS=3; writes target/bench/bench.json, prints the tables
#   ROUNDS=5 scripts/bench.sh       # more rounds of the contention runs
#   WASM=0 scripts/bench.sh         # without the npm package's figures (they need
#                                   # scripts/install-tools.sh: wasm-bindgen-cli, node, npm)
#   QUICK=1 scripts/bench.sh        # tiny counts, no cargo bench and no wasm: checks that every
#                                   # part runs and the JSON is whole (CI runs this); not figures
#   OUT=/tmp/b.json scripts/bench.sh
#
# Parts (JSON member: what, command):
#   contention   N clients increment one document of N slots: goodput while all ran (`steady`)
#                and over the whole run, as ratios to 1 client writing a document of as many
#                slots in the same round (`--slots N`), for the default `contended` schedule, the
#                client-go baseline, and N tasks sharing one SDK client (`--shared-client`), at 8
#                and 16 (item 1). `stress --json`.
#   pacing       429 pacing against a 200 requests/s bucket, adaptive pacing off and on (item 2).
#                `pace --json`.
#   suite        `check` with every profile against the embedded server: its own elapsed_ms and
#                the verdict counts (item 7).
#   server       conditional writes/s of the reference server, memory and SQLite storage, one hot
#                document and many (item 6). `server/examples/write_load.rs`.
#   sdk          `cargo bench -p ifmatch` (overhead: cached reads, update; merge: linear merge by
#                size), items 4 and 5, each as a ratio to its own baseline.
#   wasm         the npm package's wasm size (item 3) and its run time against the native SDK
#                (`wasm/scripts/build.sh`, `node wasm/scripts/bench.mjs --json`).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[bench] %s\n' "$*" >&2; }

QUICK=${QUICK:-0}
ROUNDS=${ROUNDS:-3}
WASM=${WASM:-1}
OUT=${OUT:-target/bench/bench.json}
if [ "$QUICK" = 1 ]; then
  ROUNDS=1
  WASM=0
fi
BIN=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$(dirname "$OUT")" "$work/contention" "$work/server"

say "cargo build --release (ifmatch-conformance, ifmatch-server and its write_load example)"
cargo build --quiet --release -p ifmatch-conformance -p ifmatch-server --bins --examples
cli="$BIN/ifmatch-conformance"

# Item 1: contention. A time-bound run keeps every client busy until the limit, so `steady` (until
# the first client stopped) measures N contending clients; QUICK uses small fixed counts.
say "contention: $ROUNDS round(s) × {8, 16} clients × {1-client baseline, contended, client-go, shared client}"
if [ "$QUICK" = 1 ]; then
  run=(--updates 20)
else
  run=(--updates 10000 --max-duration 1)
fi
# One stress run into $work/contention/<round>-<mode>-<clients>.json: mode `base` is 1 client on
# a counter of <clients> slots, the document the <clients>-client runs write. Exit status 1 means
# an update failed: expected of client-go, which gives up after 5 writes (counted as give-ups).
# 2 is a usage or connection error.
contend() {
  local round=$1 mode=$2 clients=$3 status=0
  local flags=(--clients "$clients" --retry "$mode")
  case "$mode" in
    base) flags=(--clients 1 --slots "$clients") ;;
    shared) flags=(--clients "$clients" --retry contended --shared-client) ;;
  esac
  "$cli" stress "${flags[@]}" "${run[@]}" --json \
    >"$work/contention/$round-$mode-$clients.json" || status=$?
  if [ "$status" -gt 1 ]; then
    echo "error: stress ${flags[*]} exited $status" >&2
    exit 1
  fi
}
for round in $(seq "$ROUNDS"); do
  for clients in 8 16; do
    for mode in base contended client-go shared; do contend "$round" "$mode" "$clients"; done
  done
done

# Item 2: 429 pacing.
say "pacing: rate limit 200/s, adaptive pacing off and on"
if [ "$QUICK" = 1 ]; then
  "$cli" pace --rate-limit 200:20 --clients 4 --seconds 1 --json >"$work/pacing.json"
else
  "$cli" pace --rate-limit 200:20 --clients 4,8 --seconds 5 --json >"$work/pacing.json"
fi

# Item 7: the suite's own time with every profile.
say "suite: check with every profile against the embedded server"
"$cli" check --format json \
  --profile core,errors,require-preconditions,locking,transactions,versions,notifications,rate-limit \
  >"$work/suite.json"

# Item 6: reference server throughput.
writes=20000
[ "$QUICK" = 1 ] && writes=300
say "server: $writes conditional writes per cell, memory and SQLite, hot and distinct"
for storage in memory sqlite; do
  for mode in hot distinct; do
    "$BIN/examples/write_load" --storage "$storage" --mode "$mode" --writes "$writes" --docs 1000 \
      -- "$BIN/ifmatch-server" >"$work/server/$storage-$mode.json"
  done
done

# Items 4 and 5: the SDK's own benchmarks (a bench build of the SDK: a few minutes the first time).
if [ "$QUICK" = 1 ]; then
  say "sdk: skipped (QUICK)"
else
  say "sdk: cargo bench -p ifmatch (overhead, merge)"
  BENCH_JSON=1 cargo bench --quiet -p ifmatch --bench overhead -- --json >"$work/sdk-overhead.json"
  BENCH_JSON=1 cargo bench --quiet -p ifmatch --bench merge -- --json >"$work/sdk-merge.json"
fi

# Item 3 and the package's run time.
if [ "$WASM" = 1 ]; then
  say "wasm: wasm/scripts/build.sh, then node wasm/scripts/bench.mjs --json"
  wasm/scripts/build.sh >&2
  cp wasm/pkg/size.json "$work/wasm-size.json"
  node wasm/scripts/bench.mjs --json >"$work/wasm-bench.json"
else
  say "wasm: skipped (WASM=0)"
fi

python3 scripts/bench_report.py "$work" "$OUT" "$QUICK"
say "wrote $OUT"
