#!/usr/bin/env bash
# The interop matrix: runs ifmatch-conformance against real, independently written servers
# installed from the package registries (Debian, PyPI, npm), each started on 127.0.0.1 with a
# free port and a temp dir, and compares every verdict with conformance/interop/expected/.
#
# Usage: scripts/interop.sh [--update] [--stress] [SERVER...]
#   SERVER     one or more of: apache nginx wsgidav moto-s3 json-server pouchdb-server azurite
#              (default: all)
#   --update   write the verdicts seen into conformance/interop/expected/<server>.json
#              instead of comparing (read the diff before committing it)
#   --stress   also run `ifmatch-conformance stress` (4 clients x 10 increments) against each server
#              and keep its output in results/<server>.stress.txt (reported, not compared)
# Environment:
#   IFMATCH_INTEROP_HOME     where the PyPI and npm installs and the results go (default target/interop)
#   IFMATCH_CONFORMANCE_BIN  the suite binary (default: target/debug/ifmatch-conformance, built if missing)
# Results: $IFMATCH_INTEROP_HOME/results/<server>.json (the suite's JSON report) and summary.md.
# Exit status: 0 when every verdict is the expected one; 1 otherwise (the differences are printed).
# A server whose verdicts differ is checked once more (some depend on timing) and counts as
# differing only if they differ again.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=$ROOT/conformance/interop

ALL_SERVERS=(apache nginx wsgidav moto-s3 json-server pouchdb-server azurite)
# Pinned so that the expected verdicts stay true; Debian's versions are those of the release.
PIP_PACKAGES=(wsgidav==4.4.0 cheroot==11.1.2 "moto[server]==5.2.1")
NPM_PACKAGES=(json-server@0.17.4 pouchdb-server@4.2.0 azurite@3.35.0)
CHECK_TIMEOUT=150 # seconds for one server's whole check

HOME_DIR=${IFMATCH_INTEROP_HOME:-$ROOT/target/interop}
BIN=${IFMATCH_CONFORMANCE_BIN:-$ROOT/target/debug/ifmatch-conformance}
RESULTS=$HOME_DIR/results

die() { printf 'interop: %s\n' "$*" >&2; exit 2; }
say() { printf '\n--> %s\n' "$*"; }

UPDATE=0
STRESS=0
SERVERS=()
for arg in "$@"; do
  case $arg in
    --update) UPDATE=1 ;;
    --stress) STRESS=1 ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *)
      [[ " ${ALL_SERVERS[*]} " == *" $arg "* ]] ||
        die "unknown server '$arg'; choose from: ${ALL_SERVERS[*]}"
      SERVERS+=("$arg") ;;
  esac
done
[ ${#SERVERS[@]} -gt 0 ] || SERVERS=("${ALL_SERVERS[@]}")
wants() { [[ " ${SERVERS[*]} " == *" $1 "* ]]; }

# The comparison itself first (a second; python3 only).
python3 "$DIR/test_verdicts.py" -q 2>&1 | tail -n 1 | grep -qx OK ||
  { python3 "$DIR/test_verdicts.py"; die "the tests of conformance/interop/verdicts.py failed"; }

# ---- installs (idempotent) -------------------------------------------------------------------

APT_UPDATED=0
apt_install() { # apt_install PACKAGE EXECUTABLE
  [ -x "$2" ] && return 0
  [ "$(id -u)" = 0 ] ||
    die "$2 is missing: install the Debian package '$1' (apt-get install $1) or run as root"
  say "installing Debian package $1"
  if [ $APT_UPDATED = 0 ]; then
    apt-get update -qq || die "apt-get update failed; check the network and /etc/apt/sources.list"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null ||
    die "could not install the Debian package '$1' (apt-get install $1 failed)"
  [ -x "$2" ] || die "the Debian package '$1' installed, but $2 is not there"
}

VENV=$HOME_DIR/venv
pip_install() {
  local want="${PIP_PACKAGES[*]}"
  [ -f "$VENV/.installed" ] && [ "$(cat "$VENV/.installed")" = "$want" ] && return 0
  command -v python3 >/dev/null || die "python3 is missing: install the Debian package python3"
  say "installing from PyPI into $VENV: $want"
  python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PIP_PACKAGES[@]}" ||
    die "pip could not install ${PIP_PACKAGES[*]}"
  echo "$want" >"$VENV/.installed"
}

NODE_DIR=$HOME_DIR/node
npm_install() {
  local want="${NPM_PACKAGES[*]}"
  [ -f "$NODE_DIR/.installed" ] && [ "$(cat "$NODE_DIR/.installed")" = "$want" ] && return 0
  command -v npm >/dev/null || die "npm is missing: install Node.js and npm (Debian: apt-get install npm)"
  say "installing from npm into $NODE_DIR: $want (pouchdb-server compiles sqlite3 and leveldown: a few minutes once)"
  mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error "${NPM_PACKAGES[@]}" ||
    die "npm could not install ${NPM_PACKAGES[*]}"
  echo "$want" >"$NODE_DIR/.installed"
}

wants apache && apt_install apache2 /usr/sbin/apache2
wants nginx && apt_install nginx-core /usr/sbin/nginx
if wants wsgidav || wants moto-s3; then pip_install; fi
if wants json-server || wants pouchdb-server || wants azurite; then npm_install; fi
command -v curl >/dev/null || apt_install curl /usr/bin/curl

if [ -z "${IFMATCH_CONFORMANCE_BIN:-}" ]; then
  say "cargo build -p ifmatch-conformance"
  cargo build -q -p ifmatch-conformance || die "cargo build -p ifmatch-conformance failed"
fi
[ -x "$BIN" ] || die "no suite binary at $BIN; build it or set IFMATCH_CONFORMANCE_BIN"

# ---- one server at a time --------------------------------------------------------------------

SERVER_PID=
CHECK_PID=
TMP=
stop_server() {
  if [ -n "$CHECK_PID" ]; then kill -TERM "$CHECK_PID" 2>/dev/null || true; CHECK_PID=; fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
  if [ -n "$TMP" ]; then rm -rf "$TMP"; TMP=; fi
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # wait_http URL: until anything answers (bounded, 20 s)
  for _ in $(seq 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)" != 000 ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

fill() { sed -e "s#@DIR@#$TMP#g" -e "s#@PORT@#$PORT#g" "$1" >"$2"; }

INTEROP_AZURE_SAS=$(python3 "$DIR/azure_sas.py") # Azurite's public development key, not a secret
export INTEROP_AZURE_SAS
MOTO_AUTH='Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0'

start_server() { # start_server NAME: sets SERVER_PID and VERSION, prepares the collection
  local name=$1
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/ifmatch-interop-$name.XXXXXX")
  chmod 755 "$TMP"
  PORT=$(free_port)
  BASE=http://127.0.0.1:$PORT
  case $name in
    apache)
      mkdir -p "$TMP/www/items" "$TMP/lock"
      [ "$(id -u)" = 0 ] && chown -R www-data:www-data "$TMP/www" "$TMP/lock"
      fill "$DIR/apache.conf.in" "$TMP/httpd.conf"
      [ "$(id -u)" = 0 ] || sed -i -e '/^User /d' -e '/^Group /d' "$TMP/httpd.conf"
      /usr/sbin/apache2 -f "$TMP/httpd.conf" -DFOREGROUND >"$TMP/server.log" 2>&1 &
      SERVER_PID=$!
      VERSION="$(/usr/sbin/apache2 -v | sed -n 's/^Server version: //p') (Debian apache2 $(dpkg-query -W -f '${Version}' apache2 2>/dev/null || echo '?'))" ;;
    nginx)
      mkdir -p "$TMP/www/items"
      fill "$DIR/nginx.conf.in" "$TMP/nginx.conf"
      /usr/sbin/nginx -c "$TMP/nginx.conf" -e "$TMP/error.log" -p "$TMP" >"$TMP/server.log" 2>&1 &
      SERVER_PID=$!
      VERSION="$(/usr/sbin/nginx -v 2>&1 | sed 's/^nginx version: //') (Debian nginx-core $(dpkg-query -W -f '${Version}' nginx-core 2>/dev/null || echo '?'))" ;;
    wsgidav)
      mkdir -p "$TMP/www/items"
      (cd "$TMP" && exec "$VENV/bin/wsgidav" --host 127.0.0.1 --port "$PORT" --root "$TMP/www" \
        --auth anonymous --no-config -q) >"$TMP/server.log" 2>&1 &
      SERVER_PID=$!
      VERSION="WsgiDAV $("$VENV/bin/python" -c 'import wsgidav; print(wsgidav.__version__)') on cheroot $("$VENV/bin/python" -c 'import cheroot; print(cheroot.__version__)') (PyPI)" ;;
    moto-s3)
      "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$TMP/server.log" 2>&1 &
      SERVER_PID=$!
      VERSION="moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)') S3 server (PyPI moto[server])" ;;
    json-server)
      echo '{ "items": [] }' >"$TMP/db.json"
      (cd "$TMP" && exec "$NODE_DIR/node_modules/.bin/json-server" --host 127.0.0.1 --port "$PORT" \
        db.json) >"$TMP/server.log" 2>&1 &
      SERVER_PID=$!
      VERSION="json-server $(node -p "require('$NODE_DIR/node_modules/json-server/package.json').version") on Node $(node -v) (npm)" ;;
    pouchdb-server)
      (cd "$TMP" && exec "$NODE_DIR/node_modules/.bin/pouchdb-server" --host 127.0.0.1 \
        --port "$PORT" --in-memory) >"$TMP/server.log" 2>&1 &
      SERVER_PID=$!
      VERSION="pouchdb-server $(node -p "require('$NODE_DIR/node_modules/pouchdb-server/package.json').version") on Node $(node -v) (npm)" ;;
    azurite)
      (cd "$TMP" && exec "$NODE_DIR/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 \
        --blobPort "$PORT" --inMemoryPersistence --disableTelemetry --silent) >"$TMP/server.log" 2>&1 &
      SERVER_PID=$!
      VERSION="Azurite $(node -p "require('$NODE_DIR/node_modules/azurite/package.json').version") (Blob service) on Node $(node -v) (npm)" ;;
  esac
  wait_http "$BASE/" || { cat "$TMP/server.log" >&2; die "$name did not start on $BASE (log above)"; }
  case $name in # the collection the suite works in
    moto-s3) curl -sf -o /dev/null -X PUT -H "$MOTO_AUTH" "$BASE/conformance" ||
      die "moto: could not create the bucket /conformance" ;;
    pouchdb-server) curl -sf -o /dev/null -X PUT "$BASE/conformance" ||
      die "pouchdb-server: could not create the database /conformance" ;;
    azurite) curl -sf -o /dev/null -X PUT "$BASE/devstoreaccount1/conformance?restype=container&$INTEROP_AZURE_SAS" ||
      die "azurite: could not create the container /devstoreaccount1/conformance" ;;
  esac
}

check_server() { # check_server NAME: start it, run the suite, stop it
  local name=$1 rc=0 started
  say "$name"
  start_server "$name"
  sed -i "/^$name	/d" "$RESULTS/versions.txt"
  printf '%s\t%s\n' "$name" "$VERSION" >>"$RESULTS/versions.txt"
  echo "$VERSION on $BASE"
  started=$(date +%s)
  rm -f "$RESULTS/$name.json"
  # In the background and waited for, so that a signal to this script runs its trap at once.
  INTEROP_BASE_URL=$BASE timeout "$CHECK_TIMEOUT" "$BIN" check --config "$DIR/$name.toml" \
    --format json --output "$RESULTS/$name.json" 2>"$RESULTS/$name.stderr" &
  CHECK_PID=$!
  wait "$CHECK_PID" || rc=$?
  CHECK_PID=
  echo "check exited $rc after $(($(date +%s) - started)) s"
  if [ $rc -gt 1 ]; then
    cat "$RESULTS/$name.stderr" >&2
    [ $rc = 124 ] && echo "interop: $name: the check took longer than $CHECK_TIMEOUT s" >&2
    rm -f "$RESULTS/$name.json" # the comparison reports it as missing
  fi
  if [ $STRESS = 1 ]; then
    rc=0
    INTEROP_BASE_URL=$BASE timeout "$CHECK_TIMEOUT" "$BIN" stress --config "$DIR/$name.toml" \
      --clients 4 --updates 10 >"$RESULTS/$name.stress.txt" 2>&1 &
    CHECK_PID=$!
    wait "$CHECK_PID" || rc=$?
    CHECK_PID=
    echo "stress exited $rc: $(grep -m1 '^lost updates' "$RESULTS/$name.stress.txt" || echo 'no result, see' "$RESULTS/$name.stress.txt")"
  fi
  stop_server
}

compare() { # compare SERVER...: exit status of the comparison; differing servers in differs.txt
  say "verdicts"
  local update=()
  [ $UPDATE = 0 ] || update=(--update)
  python3 "$DIR/verdicts.py" --results "$RESULTS" --expected "$DIR/expected" "${update[@]}" "$@"
}

mkdir -p "$RESULTS"
: >"$RESULTS/versions.txt"
for name in "${SERVERS[@]}"; do check_server "$name"; done
compare "${SERVERS[@]}" && exit 0
[ $UPDATE = 0 ] || exit 1

# Some verdicts depend on timing (races, whole-second ETags). A server whose verdicts differ is
# checked once more; it fails only if they differ again, so a regression still fails every time.
mapfile -t AGAIN <"$RESULTS/differs.txt"
[ ${#AGAIN[@]} -gt 0 ] || exit 1
say "checking once more, in case of timing: ${AGAIN[*]}"
for name in "${AGAIN[@]}"; do check_server "$name"; done
compare "${SERVERS[@]}"
