#!/usr/bin/env bash
# The web console on the demo data (SPEC §7): loads `voter-meetings demo` into a database of
# its own on the local server, serves it, and measures every page with bench/console.py in
# headless Chromium. Usage: VM_BIN=target/release/voter-meetings bench/console.sh [--finished]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${VM_BIN:-$ROOT/target/release/voter-meetings}
SERVER=${TEST_DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB="vm_bench_console_$$"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WORK=$(mktemp -d /tmp/vm_console.XXXX)
export DATABASE_URL="$SERVER/$DB" LISTEN_ADDR="127.0.0.1:$PORT" MAIL_DIR="$WORK/mail"
export OUTBOX__ENABLED=false RATE_LIMIT__REQUESTS_PER_SECOND=100000 RATE_LIMIT__BURST=100000
cleanup() {
  [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  psql -q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
echo "demo $* into $DB ($BIN)" >&2
/usr/bin/time -f "demo: %e s" "$BIN" demo "$@" >"$WORK/demo.txt"
TOKEN=$("$BIN" token create --role admin --name bench-console | tail -n 1)
"$BIN" serve >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.2
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 "$ROOT/bench/console.py" --base "http://127.0.0.1:$PORT" --token "$TOKEN"
