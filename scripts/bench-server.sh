#!/usr/bin/env bash
# Reference server throughput (docs/performance.md, "Reference server throughput"): sequential
# conditional PUTs from one client (no conflicts) on one hot document and round-robin over DOCS
# documents, memory and SQLite storage; writes/s and the server's CPU share, and with
# CALLGRIND=1 the server's instructions per write under callgrind (load-independent).
# Loopback only, bounded counts. Needs only the release build:
#   cargo build --release -p ifmatch-server --bins --examples
#   scripts/bench-server.sh                       # WRITES=20000 DOCS=1000 ROUNDS=3
#   BEFORE=/tmp/old/ifmatch-server scripts/bench-server.sh   # also an older binary, interleaved
#   CALLGRIND=1 scripts/bench-server.sh           # + instructions per write (WRITES_CG=2000)
# With BEFORE set, each cell runs the older binary and then this one, round after round, so
# both see the same machine load. The contended case is scripts/bench-replicas.sh (stress).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
WRITES=${WRITES:-20000}
WRITES_CG=${WRITES_CG:-2000}
DOCS=${DOCS:-1000}
ROUNDS=${ROUNDS:-3}
BEFORE=${BEFORE:-}
CALLGRIND=${CALLGRIND:-0}
load="$BIN/examples/write_load"
servers=("$BIN/ifmatch-server")
names=("this")
if [ -n "$BEFORE" ]; then
  servers=("$BEFORE" "$BIN/ifmatch-server")
  names=("before" "after")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "| storage | documents | binary | writes/s | server CPU share | server CPU µs/write | load |"
echo "|---|---|---|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
  for storage in memory sqlite; do
    for mode in hot distinct; do
      for i in "${!servers[@]}"; do
        "$load" --storage "$storage" --mode "$mode" --writes "$WRITES" --docs "$DOCS" \
          -- "${servers[$i]}" >"$work/run.json"
        python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))
print("| %s | %s | %s | %.0f | %.2f | %.0f | %.1f |" % (r["storage"], r["mode"], sys.argv[2],
  r["writes_per_second"], r["server_cpu_share"], r["server_cpu_us_per_write"], r["load_average_1m"]))' \
          "$work/run.json" "${names[$i]} (round $round)"
      done
    done
  done
done

[ "$CALLGRIND" = 1 ] || exit 0
echo
echo "| storage | documents | binary | instructions per write (callgrind) |"
echo "|---|---|---|---:|"
for storage in memory sqlite; do
  for mode in hot distinct; do
    for i in "${!servers[@]}"; do
      out="$work/cg-$storage-$mode-$i.out"
      "$load" --callgrind --storage "$storage" --mode "$mode" --writes "$WRITES_CG" \
        --docs "$DOCS" -- valgrind --tool=callgrind --callgrind-out-file="$out" \
        "${servers[$i]}" >/dev/null 2>"$work/cg.log"
      # The dump of the measured writes only (counters zeroed after setup).
      total=$(grep -h '^summary:' "$out".* | head -1 | awk '{print $2}')
      echo "| $storage | $mode | ${names[$i]} | $((total / WRITES_CG)) |"
    done
  done
done
