#!/usr/bin/env bash
# Conditional writes per second through the reference server on memory, SQLite and PostgreSQL
# with 1, 2 and 3 replicas (docs/performance.md, "Storage and replicas"). Loopback only, bounded
# counts. Needs release binaries and Debian's postgresql:
#   cargo build --release -p ifmatch-server -p ifmatch-conformance
#   scripts/bench-replicas.sh            # BIN=target/release CLIENTS=8 UPDATES=50 ROUNDS=3
# Hot document: one `stress` run, CLIENTS clients incrementing one counter (reapply), spread over
# the replicas. Distinct documents: CLIENTS `stress` runs at once, one client each on its own
# counter, run i on replica i mod n; writes/s = all acknowledged updates / the longest run.
# PostgreSQL runs with its default durability (fsync and synchronous_commit on); PG_SETTINGS adds
# server settings, e.g. PG_SETTINGS='-c synchronous_commit=off' to see what commit flushes cost.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
CLIENTS=${CLIENTS:-8}
UPDATES=${UPDATES:-50}
ROUNDS=${ROUNDS:-3}
PG_SETTINGS=${PG_SETTINGS:-}

work=$(mktemp -d)
chmod 755 "$work"
pids=()
pg_bin=$(pg_config --bindir)
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
pgdata="$work/pg"
pg_running=0

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$pg_running" = 1 ]; then "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# start_server STORAGE: starts one server on a free port and appends its base URL to `urls`
# (no command substitution: the server's pid must reach `pids` in this shell).
start_server() {
  local log="$work/server-${#pids[@]}.log" url
  "$BIN/ifmatch-server" --addr 127.0.0.1:0 --storage "$1" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -1 || true)
    [ -n "$url" ] && { urls+=("$url"); return; }
    sleep 0.05
  done
  echo "server did not start: $(cat "$log")" >&2
  exit 1
}

stop_servers() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}

# hot URL...: writes/s of one contended counter.
hot() {
  local args=()
  for url in "$@"; do args+=(--base-url "$url"); done
  "$BIN/ifmatch-conformance" stress "${args[@]}" --clients "$CLIENTS" --updates "$UPDATES" \
    --strategy reapply --json |
    python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["lost_updates"]==0 and s["failed"]==0, s; print("%.0f %.2f" % (s["goodput_per_second"], s["attempts_per_update"]))'
}

# distinct URL...: writes/s of CLIENTS uncontended counters.
distinct() {
  local urls=("$@") outs=() runs=()
  for i in $(seq 0 $((CLIENTS - 1))); do
    outs+=("$work/distinct-$i.json")
    "$BIN/ifmatch-conformance" stress --base-url "${urls[$((i % ${#urls[@]}))]}" --clients 1 \
      --updates "$UPDATES" --strategy reapply --json >"$work/distinct-$i.json" &
    runs+=($!)
  done
  for run in "${runs[@]}"; do wait "$run"; done
  python3 -c 'import json,sys
runs=[json.load(open(p)) for p in sys.argv[1:]]
assert all(r["lost_updates"]==0 and r["failed"]==0 for r in runs), runs
print("%.0f" % (sum(r["acknowledged"] for r in runs)/max(r["elapsed_seconds"] for r in runs)))' "${outs[@]}"
}

# measure NAME STORAGE REPLICAS
measure() {
  urls=()
  for _ in $(seq "$3"); do start_server "$2"; done
  local hots=() distincts=()
  for _ in $(seq "$ROUNDS"); do
    hots+=("$(hot "${urls[@]}")")
    distincts+=("$(distinct "${urls[@]}")")
  done
  stop_servers
  printf '| %s | %s | %s |\n' "$1" "$(printf '%s; ' "${hots[@]}")" "$(printf '%s; ' "${distincts[@]}")"
}

echo "clients=$CLIENTS updates=$UPDATES rounds=$ROUNDS pg_settings='$PG_SETTINGS' nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "| storage | hot document: writes/s attempts/update (each round) | distinct documents: writes/s (each round) |"
echo "|---|---|---|"
measure memory memory 1
measure sqlite "sqlite:$work/items.db" 1
mkdir "$pgdata"
[ ${#as_pg[@]} -gt 0 ] && chown postgres:postgres "$pgdata"
"${as_pg[@]}" "$pg_bin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale C --no-instructions >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdata" -l "$pgdata/log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pgdata $PG_SETTINGS" start >/dev/null
pg_running=1
"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres items
pg="postgres://postgres@127.0.0.1:$port/items"
for n in 1 2 3; do measure "postgres, $n replica(s)" "$pg" "$n"; done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
