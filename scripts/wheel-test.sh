#!/usr/bin/env bash
# Builds the `ifmatch-conformance` Python wheel (conformance/pyproject.toml, maturin, the `wheel`
# cargo profile), installs it into a fresh virtualenv under a temporary directory, and smoke-tests
# the command it installs. With --examples it also runs the suite from that wheel, with each
# example's ifmatch-conformance.toml, against the two sample APIs in examples/ci/ (FastAPI +
# SQLite under uvicorn, Express under Node) and requires exit 0 from both, then a short `stress`
# run with the same file against each.
#
# Usage: scripts/wheel-test.sh [--examples] [--wheel FILE]
#   --wheel FILE  test this wheel instead of building one (building needs maturin:
#                 scripts/install-tools.sh installs it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

examples=false
wheel=
while [ $# -gt 0 ]; do
  case $1 in
    --examples) examples=true ;;
    --wheel) wheel=$(realpath "${2:?--wheel needs a file}"); shift ;;
    *) echo "usage: $0 [--examples] [--wheel FILE]" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '[wheel] %s\n' "$*"; }
fail() { printf '[wheel] FAIL: %s\n' "$*" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' Cargo.toml)
if [ -z "$wheel" ]; then
  start=$SECONDS
  python3 -m maturin build --quiet -m conformance/Cargo.toml --out "$tmp/wheels" >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log" >&2; fail "maturin build"; }
  wheel=$(ls "$tmp"/wheels/*.whl)
  say "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KB) in $((SECONDS - start)) s"
fi
case $(basename "$wheel") in
  "ifmatch_conformance-$version-"*) ;;
  *) fail "the wheel's version is not the workspace's $version: $(basename "$wheel")" ;;
esac

python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet "$wheel"
bin=$tmp/venv/bin/ifmatch-conformance
meta=$("$tmp/venv/bin/pip" show ifmatch-conformance)
grep -qx "Version: $version" <<<"$meta" || fail "pip show gives another version than $version: $meta"
[ -x "$bin" ] || fail "the wheel installed no ifmatch-conformance command"

out=$("$bin" --version)
[ "$out" = "ifmatch-conformance $version" ] || fail "--version printed '$out', want 'ifmatch-conformance $version'"
say "--version: $out"

"$bin" rules >"$tmp/rules.txt"
grep -q '^core.if-match.stale-put ' "$tmp/rules.txt" || fail "rules does not list core.if-match.stale-put"
say "rules: $(grep -c '^[a-z]' "$tmp/rules.txt") rules listed"

# The embedded reference server, started by the installed binary itself.
"$bin" check --rule core.if-match >"$tmp/check.txt" 2>&1 || { cat "$tmp/check.txt" >&2; fail "check --rule core.if-match"; }
say "check --rule core.if-match (embedded server): exit 0"

# Every configuration this project shows a CI user must load: the examples' files and the TOML
# blocks of docs/ci.md (a dry run reads and checks the file, and sends nothing).
python3 - "$tmp" <<'PY'
import pathlib, re, sys
blocks = re.findall(r"```toml\n(.*?)```", pathlib.Path("docs/ci.md").read_text(), re.S)
for i, block in enumerate(blocks):
    pathlib.Path(sys.argv[1], f"ci-doc-{i}.toml").write_text(block)
PY
for config in examples/ci/*/ifmatch-conformance.toml "$tmp"/ci-doc-*.toml; do
  "$bin" check --config "$config" --dry-run >"$tmp/dry-run.txt" 2>&1 ||
    { cat "$tmp/dry-run.txt" >&2; fail "check --config $config --dry-run"; }
done
say "configurations load: $(ls examples/ci/*/ifmatch-conformance.toml "$tmp"/ci-doc-*.toml | wc -l) files (examples/ci, docs/ci.md)"

$examples || { say "wheel smoke test passed"; exit 0; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Runs the suite from the wheel against an example app; $1 = example dir, $2 = port.
check_example() {
  local dir=$1 port=$2 code=0
  (cd "$dir" && "$bin" check --config ifmatch-conformance.toml --base-url "http://127.0.0.1:$port" \
    --format text,junit --output "junit=$tmp/$(basename "$dir").xml") >"$tmp/example.txt" 2>&1 || code=$?
  if [ "$code" != 0 ]; then
    cat "$tmp/example.txt"
    fail "the suite exited $code against the correct example $(basename "$dir")"
  fi
  say "$(basename "$dir"): exit 0, $(grep -m1 '^summary:' "$tmp/example.txt")"
  # stress reads the same file: 4 SDK clients x 5 increments, none may be lost or fail.
  code=0
  (cd "$dir" && "$bin" stress --config ifmatch-conformance.toml --base-url "http://127.0.0.1:$port" \
    --clients 4 --updates 5) >"$tmp/stress.txt" 2>&1 || code=$?
  if [ "$code" != 0 ]; then
    cat "$tmp/stress.txt"
    fail "stress exited $code against the correct example $(basename "$dir")"
  fi
  say "$(basename "$dir") stress: exit 0, $(grep -m1 '^lost updates' "$tmp/stress.txt")"
}

say "FastAPI + SQLite example (uvicorn)"
"$tmp/venv/bin/pip" install --quiet -r examples/ci/fastapi-sqlite/requirements.txt
port=$(free_port)
(cd examples/ci/fastapi-sqlite && TODOS_DB="$tmp/todos.db" exec "$tmp/venv/bin/uvicorn" app:app \
  --host 127.0.0.1 --port "$port" --log-level warning) >"$tmp/uvicorn.log" 2>&1 &
pids+=($!)
check_example "$root/examples/ci/fastapi-sqlite" "$port"

say "Express example (Node)"
(cd examples/ci/express && npm ci --no-audit --no-fund --silent)
port=$(free_port)
(cd examples/ci/express && PORT=$port exec node server.js) >"$tmp/express.log" 2>&1 &
pids+=($!)
check_example "$root/examples/ci/express" "$port"

say "wheel smoke test and both examples passed"
