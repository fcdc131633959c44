#!/usr/bin/env bash
# The national attendance roll-up on one PostgreSQL server and on the Citus cluster of
# ../shared/citus/cluster (a coordinator and two workers), same machine, same data set
# (bench/national.sql: 100,021 meetings, ~8 million attendances), same binary. For
# docs/scaling.md; nothing here is a test.
#
#   cargo build --release && bench/citus.sh        # as root (the cluster script needs it)
#
# Knobs: VM_BIN (default $CARGO_TARGET_DIR or target, /release/voter-meetings),
# PLAIN (default postgres://postgres@127.0.0.1:5432/vm_nat_plain, on the local server),
# CITUS_DB (default vm_nat_citus, on the coordinator :9700), RUNS (10), RELOAD=1 (load the
# data sets again even when they are there). Prints one Markdown table.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BIN=${VM_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/voter-meetings}
PLAIN=${PLAIN:-postgres://postgres@127.0.0.1:5432/vm_nat_plain}
CITUS_DB=${CITUS_DB:-vm_nat_citus}
CITUS=postgres://postgres@127.0.0.1:9700/$CITUS_DB
RUNS=${RUNS:-10}
WORK=${WORK:-/tmp/vm_bench_citus}
mkdir -p "$WORK"
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)" >&2; exit 1; }
for tool in hyperfine pgbench jq curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

log() { printf '[citus-bench %s] %s\n' "$(date +%T)" "$*" >&2; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
meetings() { psql -X -At -d "$1" -c "SELECT count(*) FROM meetings" 2>/dev/null || echo 0; }

load() { # URL KIND
  local url=$1 kind=$2 start
  if [ "${RELOAD:-0}" != 1 ] && [ "$(meetings "$url")" -gt 100000 ]; then
    log "$kind: data set already loaded"
    return
  fi
  local name=${url##*/}
  if [ "$kind" = citus ]; then
    "$ROOT/../shared/citus/cluster" all >/dev/null 2>&1
    for port in 9700 9701 9702; do
      psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"
    done
    "$ROOT/../shared/citus/cluster" db "$name" >/dev/null 2>&1
  else
    psql -X -q -d "${url%/*}/postgres" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
  fi
  DATABASE_URL=$url "$BIN" migrate >/dev/null
  [ "$kind" = citus ] && DATABASE_URL=$url "$BIN" citus distribute
  start=$(date +%s)
  psql -X -q -v ON_ERROR_STOP=1 -d "$url" -f "$HERE/national.sql" >"$WORK/load_$kind.txt"
  echo "$(($(date +%s) - start))" >"$WORK/load_$kind.seconds"
  log "$kind: loaded in $(cat "$WORK/load_$kind.seconds") s"
}

measure() { # URL KIND -> one table row
  local url=$1 kind=$2 port token election pid rollup sql
  token=$(DATABASE_URL=$url RUST_LOG=error "$BIN" token create --role admin --name "bench $kind" | tail -n 1)
  election=$(psql -X -At -d "$url" -c "SELECT id FROM elections ORDER BY created_at DESC LIMIT 1")
  port=$(free_port)
  DATABASE_URL=$url LISTEN_ADDR=127.0.0.1:$port RUST_LOG=warn "$BIN" serve >"$WORK/serve_$kind.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 1; done
  local report="http://127.0.0.1:$port/api/v1/reports/attendance?election_id=$election&group_by=region"
  curl -sf -H "Authorization: Bearer $token" "$report" >"$WORK/report_$kind.json"
  hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$WORK/rollup_$kind.json" \
    "curl -sf -o /dev/null -H 'Authorization: Bearer $token' '$report'" >/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 "$HERE/report_sql.py" "$election" >"$WORK/report_$kind.sql"
  pgbench -n -t 2 -f "$WORK/report_$kind.sql" "$url" >/dev/null 2>&1
  pgbench -n -t "$RUNS" -f "$WORK/report_$kind.sql" "$url" >"$WORK/pgbench_$kind.txt" 2>&1
  rollup=$(jq '.results[0].mean * 1000' "$WORK/rollup_$kind.json")
  sql=$(awk '/^latency average/ {print $4}' "$WORK/pgbench_$kind.txt")
  printf '| %s | %s s | %.0f ± %.0f ms | %.0f ms | %s rows, %s attendances |\n' "$kind" \
    "$(cat "$WORK/load_$kind.seconds" 2>/dev/null || echo '?')" "$rollup" \
    "$(jq '.results[0].stddev * 1000' "$WORK/rollup_$kind.json")" "$sql" \
    "$(jq '.rows | length' "$WORK/report_$kind.json")" "$(jq '.totals.attendees' "$WORK/report_$kind.json")"
}

load "$PLAIN" plain
load "$CITUS" citus
echo "| database | load (national.sql) | GET /reports/attendance?group_by=region, warm ($RUNS runs) | the same 3 statements, bare SQL (pgbench) | answer |"
echo "| --- | --- | --- | --- | --- |"
measure "$PLAIN" plain
measure "$CITUS" citus
