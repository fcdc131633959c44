#!/usr/bin/env bash
# Measures every SPEC §7 target side by side and writes one results table (see bench/README.md
# and docs/benchmarks.md). It runs its own PostgreSQL cluster (initdb in a temporary folder, a
# free port, durable commits), which every step uses and the exit trap stops and deletes.
# Every load is bounded in time; every wait is bounded.
#
#   bench/run.sh                          # every step (≈ 20 minutes on 2 cores)
#   STEPS="checkin restart" bench/run.sh  # a subset (run in the order below)
#   VM_BIN=/path/to/voter-meetings bench/run.sh
#
# Steps, in order, with the data set each needs (STEP_ORDER, STEP_DATA below):
#   checkin   api       check-in throughput vs pgbench (c=16, 50), capacity checks
#   create    api       meeting creation vs pgbench inserts, double-booking checks
#   latency   api       p50/p99 at half of saturation (oha, constant rate)
#   import    api       rows/s of POST /imports for a province's lists (600 candidates, 2,000 meetings)
#   profile   api       statements per request (server log of this database only)
#   restart   api       database restart / immediate stop / pg_terminate_backend under load
#   national  national  national data set load, attendance roll-up vs bare SQL
#   flood     national  one token floods reports and big pages while another checks in
#   email     national  schedule-email fan-out vs a bare lettre loop
#   crash     national  kill -9 during a fan-out; SMTP sink down then up
# Memory is sampled throughout. A step is a function step_NAME that writes rows with `row`;
# adding one = that function + its name in STEP_ORDER and STEP_DATA (+ a TARGETS entry when it
# measures a target of its own).
set -Eeuo pipefail
export LC_ALL=C.UTF-8

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
WORK=${WORK:-/tmp/vm_bench_run}
DURATION=${DURATION:-15}          # seconds per throughput/latency measurement
CHECKIN_CONC=${CHECKIN_CONC:-"16 50"}
CREATE_CONC=${CREATE_CONC:-"16"}
THREADS=${THREADS:-2}             # wrk threads and pgbench -j
PSS=${PSS:-0}                      # 1: pg_stat_statements; each step's top statements in pss_STEP.txt
KEEP_DBS=${KEEP_DBS:-0}           # 1: keep the cluster's folder (stopped) for inspection
RESTART_DURATION=${RESTART_DURATION:-70}  # restart step: faults at 10, 30 and 50 s
RESTART_RATE=${RESTART_RATE:-200}         # req/s of GETs and of check-ins, each
RESTART_CONC=${RESTART_CONC:-64}
RESTART_DOWN=${RESTART_DOWN:-5}           # seconds between the immediate stop and the start
FLOOD_DURATION=${FLOOD_DURATION:-20}
FLOOD_CHECKIN_RATE=${FLOOD_CHECKIN_RATE:-200}
FLOOD_REPORT_CONC=${FLOOD_REPORT_CONC:-32}
FLOOD_PAGE_CONC=${FLOOD_PAGE_CONC:-500}
read -r -a SVC_EXTRA <<<"${SVC_ENV:-}"    # extra VAR=value settings for the service
[ "$RESTART_DURATION" -ge 60 ] || { echo "RESTART_DURATION must be at least 60 (the last fault is at 50 s)" >&2; exit 2; }

STEP_ORDER=(checkin create latency profile restart import console national flood email crash)
declare -A STEP_DATA=([checkin]=api [create]=api [latency]=api [profile]=api [restart]=api [import]=api
  [console]=demo [national]=national [flood]=national [email]=national [crash]=national)
STEPS=${STEPS:-"${STEP_ORDER[*]}"}
for s in $STEPS; do
  [ -n "${STEP_DATA[$s]:-}" ] || { echo "unknown step '$s' (steps: ${STEP_ORDER[*]})" >&2; exit 2; }
done
has_step() { [[ " $STEPS " == *" $1 "* ]]; }

# The SPEC §7 targets, in the order of the table: key|label|what it takes|step that measures it.
# Every key gets a row; a target no step of this run measured is printed as "not run".
TARGETS=(
  "scale|scale|the national data set loads and is served on one machine|national"
  "checkin|throughput: check-in|≥ 60% of pgbench, same UPDATE, same concurrency|checkin"
  "create|throughput: meeting creation|≥ 40% of pgbench doing the same inserts|create"
  "reports|reports|national roll-up ≤ 1.5× the bare SQL|national"
  "email|email|fan-out ≥ 50% of a bare lettre loop|email"
  "latency|latency|p99 ≤ 5× p50 at half of saturation|latency"
  "mem_idle|memory: idle|< 64 MiB|checkin, create, national"
  "mem_load|memory: saturation|< 256 MiB|checkin, create, flood"
  "capacity|correctness: capacity|0 over-capacity check-ins|checkin, restart"
  "booking|correctness: bookings|0 double-booked candidates or venues|create"
  "mail|correctness: email|0 lost, 0 duplicated emails (kill -9, SMTP outage)|crash"
  "no500|correctness: 500s|0 answers 500 in the whole run|every step"
  "restart|faults: database restart|0 failed requests once it accepts connections; only 503 while down|restart"
  "pooldeath|faults: dead pooled connection|replaced without failing a request|restart"
  "kill9|faults: kill -9 of the service|in-flight emails resume within 60 s|crash"
  "starve|budgets (§4, issue 18)|check-ins unaffected by one token's flood of reports and big pages|flood"
  "console|web console|each page usable < 1 s, < 300 KB, nothing from outside|console"
)

mkdir -p "$WORK"
rm -rf "$WORK"/mail "$WORK"/flood "$WORK"/*.txt "$WORK"/*.log "$WORK"/*.md "$WORK"/*.json "$WORK"/*.db "$WORK"/*.err 2>/dev/null || true
mkdir -p "$WORK/mail"
RESULTS=$WORK/results.md
ROWS=$WORK/rows.tsv
: >"$ROWS"
LOG=$WORK/run.log
exec > >(tee -a "$LOG") 2>&1
RUN_T0=$SECONDS

SVC_PID=""
SINK_PID=""
SAMPLER_PID=""
BG_PIDS=()
PGD=""

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# row KEY MEASUREMENT SERVICE BASELINE RATIO TARGET VERDICT NOTES — one line of the table;
# rows are printed grouped by target, in the order of TARGETS, then in the order written.
ROW_SEQ=0
row() {
  local key=$1 i order=99 label=$1 out a
  for i in "${!TARGETS[@]}"; do
    [ "${TARGETS[$i]%%|*}" = "$key" ] && { order=$i; label=$(cut -d'|' -f2 <<<"${TARGETS[$i]}"); }
  done
  out="| $label |"
  for a in "${@:2}"; do out+=" ${a//|//} |"; done
  ROW_SEQ=$((ROW_SEQ + 1))
  printf '%s\t%s\t%s\t%s\n' "$order" "$ROW_SEQ" "$key" "$out" >>"$ROWS"
}
# verdicts
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && a + 0 >= b + 0) ? "met" : "**missed**" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && a + 0 <= b + 0) ? "met" : "**missed**" }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && a + 0 < b + 0) ? "met" : "**missed**" }'; }
pctn() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else print "" }'; }
pct() { local p; p=$(pctn "$1" "$2"); [ -n "$p" ] && echo "$p%" || echo "n/a"; }
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" "${@:2}"; }

# --- the private PostgreSQL cluster ---------------------------------------------------------
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-512MB}
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-200}
PG_MAX_WAL_SIZE=${PG_MAX_WAL_SIZE:-2GB}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
unset PGDATABASE PGSERVICE PGSERVICEFILE PGPASSWORD PGHOSTADDR PGSSLMODE
PGHOST=127.0.0.1
PGPORT=${PG_PORT:-$(free_port)}
PGUSER=postgres
[ "$PGPORT" != 5432 ] || { echo "PG_PORT=5432 is the shared server: the bench never uses it" >&2; exit 2; }
export PGHOST PGPORT PGUSER
export PGOPTIONS="-c client_min_messages=warning"
PORT=${PORT:-$(free_port)}
SMTP_PORT=${SMTP_PORT:-$(free_port)}
DB=vm_bench
NDB=vm_bench_national
CDB=vm_bench_console

pgctl() { # pg_ctl as the postgres user, always with the log file (or it keeps our output pipe open)
  (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGD" -l "$PGD/log" -o "-p $PGPORT -k $PGD" "$@")
}
cluster_init() {
  PGD=$(mktemp -d "${PG_TMP:-/tmp}/vm_bench_pg.XXXXXX")
  chown postgres:postgres "$PGD"
  chmod 700 "$PGD"
  (cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$PGD" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8) >"$WORK/initdb.log" 2>&1
  cat >>"$PGD/postgresql.conf" <<CONF

# bench/run.sh: durable commits, sized for the national data set
listen_addresses = '127.0.0.1'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = '$PG_SHARED_BUFFERS'
max_connections = $PG_MAX_CONNECTIONS
max_wal_size = '$PG_MAX_WAL_SIZE'
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
${PG_EXTRA_CONF:-}
CONF
  if [ "$PSS" = 1 ]; then
    printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\npg_stat_statements.track_planning = on\n" >>"$PGD/postgresql.conf"
  fi
  pgctl -w -t 120 start >>"$WORK/pgctl.log" 2>&1
  [ "$PSS" = 1 ] && psql_db postgres -c "CREATE EXTENSION pg_stat_statements" >/dev/null
  log "PostgreSQL cluster $PGD on 127.0.0.1:$PGPORT"
}
cluster_stop() {
  [ -n "$PGD" ] || return 0
  pgctl -m fast -w -t 60 stop >>"$WORK/pgctl.log" 2>&1 || pgctl -m immediate -w -t 30 stop >>"$WORK/pgctl.log" 2>&1 || true
  if [ "$KEEP_DBS" = 1 ]; then
    echo "cluster kept (stopped): runuser -u postgres -- $PG_BIN/pg_ctl -D $PGD -l $PGD/log -o \"-p $PGPORT -k $PGD\" start" >&2
  else
    rm -rf "$PGD"
  fi
  PGD=""
}

cleanup() {
  local p
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_service || true
  stop_sink || true
  cluster_stop || true
}
trap 'echo "FAILED at line $LINENO (step ${CURRENT_STEP:-setup}): $BASH_COMMAND" >&2' ERR

# --- the binary: VM_BIN, or this work tree's release build (built when older than the sources,
# BUILD=auto); copied, so a rebuild by someone else mid-run changes nothing ---------------------
BUILD=${BUILD:-auto}               # auto: build when src/ etc. are newer; 1: always; 0: never
if [ -n "${VM_BIN:-}" ]; then
  REL=$VM_BIN
  BIN_NOTE="$VM_BIN (VM_BIN)"
else
  REL=${CARGO_TARGET_DIR:-$ROOT/target}/release/voter-meetings
  stale() { [ ! -x "$REL" ] || [ -n "$(find "$ROOT/src" "$ROOT/migrations" "$ROOT/templates" "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" -newer "$REL" -print -quit 2>/dev/null)" ]; }
  if [ "$BUILD" = 1 ] || { [ "$BUILD" = auto ] && stale; }; then
    echo "building: cargo build --release" >&2
    (cd "$ROOT" && cargo build --release) >&2
  fi
  BIN_NOTE="$REL (this work tree's release build)"
  if stale; then echo "WARNING: $REL is older than the sources (BUILD=0)" >&2; BIN_NOTE+=" — OLDER THAN THE SOURCES"; fi
fi
[ -x "$REL" ] || { echo "no binary at $REL: cargo build --release, or set VM_BIN" >&2; exit 1; }
cp "$REL" "$WORK/voter-meetings"
BIN=$WORK/voter-meetings
VM_CWD=${VM_CWD:-$ROOT}            # the service runs here and reads config/ from here
for tool in psql pgbench wrk hyperfine curl jq python3 runuser "$PG_BIN/initdb" "$PG_BIN/pg_ctl" pg_isready; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
OHA=${OHA:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}
for s in latency flood; do
  if has_step $s && [ ! -x "$OHA" ]; then echo "step $s needs oha (cargo install oha --locked, or OHA=path)" >&2; exit 1; fi
done

# Throughput steps drive one token far past any sane per-token budget: it is lifted here
# (SVC_ENV can set a real one, e.g. for the flood step).
BUDGET=(RATE_LIMIT__REQUESTS_PER_SECOND=1000000000 RATE_LIMIT__BURST=1000000000)
svc_env() { # DATABASE_URL [VAR=value…] CMD…
  env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$1" LISTEN_ADDR="127.0.0.1:$PORT" RUST_LOG=warn \
    MAIL_DIR="$WORK/mail" "${BUDGET[@]}" "${SVC_EXTRA[@]}" "${@:2}"
}
db_url() { echo "postgres://$PGUSER@127.0.0.1:$PGPORT/$1"; }

start_service() { # DATABASE_URL [VAR=value…]
  # exec all the way down: $! is the service's own pid (for /proc, kill -9)
  (cd "$VM_CWD" && exec env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$1" LISTEN_ADDR="127.0.0.1:$PORT" \
     RUST_LOG=warn MAIL_DIR="$WORK/mail" "${BUDGET[@]}" "${SVC_EXTRA[@]}" "${@:2}" "$BIN" serve >>"$WORK/service.log" 2>&1) &
  SVC_PID=$!
  for _ in $(seq 1 120); do
    if curl -sf -m 2 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
      log "service up (pid $SVC_PID)"
      return 0
    fi
    sleep 0.5
  done
  echo "service did not start; see $WORK/service.log" >&2
  return 1
}

stop_service() {
  [ -n "$SVC_PID" ] || return 0
  kill -TERM "$SVC_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$SVC_PID" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$SVC_PID" 2>/dev/null || true
  wait "$SVC_PID" 2>/dev/null || true
  SVC_PID=""
}

start_sink() { # LOGFILE
  python3 "$BENCH/smtp_sink.py" --port "$SMTP_PORT" --log "$1" --max-seconds 3600 >>"$WORK/sink.out" 2>&1 &
  SINK_PID=$!
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "SMTP sink did not start" >&2
  return 1
}

stop_sink() {
  [ -n "$SINK_PID" ] || return 0
  kill -TERM "$SINK_PID" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$SINK_PID" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$SINK_PID" 2>/dev/null || true
  SINK_PID=""
}

drain_outbox() { # DB — wait (≤ 300 s) until the outbox worker has sent everything due, so
  # its sending does not share the CPU with the next measurement; echoes the seconds waited.
  # With the worker off (SVC_ENV="OUTBOX__ENABLED=false", to bound its cost) nothing will send.
  local t0=$SECONDS
  [[ " ${SVC_ENV:-} " == *" OUTBOX__ENABLED=false "* ]] && { echo 0; return 0; }
  for _ in $(seq 1 300); do
    [ "$(psql_db "$1" -c "SELECT count(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= now() + interval '5 seconds'")" = 0 ] && break
    sleep 1
  done
  echo $((SECONDS - t0))
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

start_sampler() { # OUTFILE — VmRSS of the service every 0.5 s, at most 10 minutes
  local out=$1 pid=$SVC_PID
  (for _ in $(seq 1 1200); do rss_kib "$pid"; sleep 0.5; done) >"$out" &
  SAMPLER_PID=$!
}
stop_sampler() { # OUTFILE → prints max KiB
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=""
  sort -n "$1" | tail -1
}

token() { # DATABASE_URL [ROLE NAME [REGION]] → the token
  local args=(token create --role "${2:-admin}" --name "${3:-bench}")
  [ -n "${4:-}" ] && args+=(--region "$4")
  (cd "$VM_CWD" && svc_env "$1" "$BIN" "${args[@]}" | tail -n 1)
}

wrk_run() { # NAME CONNS DURATION SCRIPT ARGS… → $WORK/wrk_NAME.txt (+ _cpu: client CPU s); echoes rps
  local name=$1 conns=$2 dur=$3 script=$4
  shift 4
  local TIMEFORMAT='%U %S'
  { time timeout $((dur + 30)) wrk -t"$THREADS" -c"$conns" -d"${dur}s" --latency -s "$script" \
      "http://127.0.0.1:$PORT" -- "$@" >"$WORK/wrk_$name.txt" 2>&1 ; } 2>"$WORK/wrk_${name}_time.txt" || true
  awk '{print $1 + $2}' "$WORK/wrk_${name}_time.txt" >"$WORK/wrk_${name}_cpu.txt"
  awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk_$name.txt"
}
wrk_requests() { awk '/requests in/ {print $1}' "$WORK/wrk_$1.txt"; }
wrk_status() { grep '^STATUS' "$WORK/wrk_$1.txt" | cut -d' ' -f2- ; }
wrk_non2xx() { awk '/Non-2xx or 3xx responses:/ {print $NF; f=1} END {if (!f) print 0}' "$WORK/wrk_$1.txt"; }
wrk_lat() { grep '^LATENCY' "$WORK/wrk_$1.txt" | cut -d' ' -f2- ; }

# oha JSON summaries: "p50_ms p99_ms ok total failed rps statuses errors"; requests oha cut off at
# the end of its -z window ("aborted due to deadline") are listed in errors, not counted as sent
oha_summary() {
  jq -r '(.statusCodeDistribution // {}) as $s | (.errorDistribution // {}) as $e |
         ([$e | to_entries[] | select(.key != "aborted due to deadline") | .value] | add // 0) as $failed_no_answer |
         [(.latencyPercentiles.p50 // 0) * 1000, (.latencyPercentiles.p99 // 0) * 1000,
          ([$s | to_entries[] | select(.key | startswith("2")) | .value] | add // 0),
          ([$s[]] | add // 0) + $failed_no_answer,
          ([$s | to_entries[] | select(.key | startswith("2") | not) | .value] | add // 0) + $failed_no_answer,
          (.summary.requestsPerSec // 0 | floor),
          ([$s | to_entries[] | "\(.key)=\(.value)"] | join(",")),
          ([$e | to_entries[] | "\(.key)=\(.value)"] | join(", ") | if . == "" then "-" else . end)] | @tsv' "$1" 2>/dev/null \
    || printf '0\t0\t0\t0\t0\t0\t-\t-\n'
}

pgbench_run() { # NAME DB CONNS DURATION MODE SCRIPT → $WORK/pgbench_NAME.txt (+ _cpu); echoes tps
  local name=$1 db=$2 conns=$3 dur=$4 mode=$5 script=$6
  local TIMEFORMAT='%U %S'
  pg_cpu_begin
  { time timeout $((dur + 60)) pgbench -n -M "$mode" -c "$conns" -j "$THREADS" -T "$dur" -f "$script" "$db" \
      >"$WORK/pgbench_$name.txt" 2>&1 ; } 2>"$WORK/pgbench_${name}_time.txt" || true
  local n
  n=$(awk '/^number of transactions actually processed/ {print $NF}' "$WORK/pgbench_$name.txt")
  pg_cpu_end "${n:-0}" "$(awk '{print $1 + $2}' "$WORK/pgbench_${name}_time.txt")" >"$WORK/pgbench_${name}_cpu.txt"
  awk '/^tps = / {print $3; exit}' "$WORK/pgbench_$name.txt"
}

# --- where the CPU goes: ticks of the service, of its PostgreSQL backends, of the load
# generator, and of the whole machine, per request --------------------------------------
HZ=$(getconf CLK_TCK)
ticks_of() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat; }
svc_backends() { psql_db "$DB" -c "SELECT coalesce(string_agg(pid::text, ' '), '') FROM pg_stat_activity WHERE datname = '$DB'
    AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT IN ('pgbench', 'psql')"; }
cpu_begin() { # snapshot before a run of the service
  CPU_BACKENDS=$(svc_backends)
  # shellcheck disable=SC2086
  CPU_SVC0=$(ticks_of "$SVC_PID"); CPU_PG0=$(ticks_of $CPU_BACKENDS)
  read -r CPU_BUSY0 CPU_IDLE0 < <(machine_ticks)
}
cpu_end() { # REQUESTS CLIENT_SECONDS → "service X µs/req, …"
  local n=$1 client=$2 svc pg busy idle
  # shellcheck disable=SC2086
  svc=$(( $(ticks_of "$SVC_PID") - CPU_SVC0 )); pg=$(( $(ticks_of $CPU_BACKENDS) - CPU_PG0 ))
  read -r busy idle < <(machine_ticks)
  awk -v n="$n" -v s="$svc" -v p="$pg" -v c="$client" -v b=$((busy - CPU_BUSY0)) -v i=$((idle - CPU_IDLE0)) -v hz="$HZ" 'BEGIN {
    if (n <= 0) n = 1
    printf "CPU per request: service %.0f µs, its PG backends %.0f µs, load generator %.0f µs, whole machine %.0f µs (busy %.0f%%)",
      s / hz * 1e6 / n, p / hz * 1e6 / n, c * 1e6 / n, b / hz * 1e6 / n, 100 * b / (b + i) }'
}
pg_cpu_begin() { read -r CPU_BUSY0 CPU_IDLE0 < <(machine_ticks); }
pg_cpu_end() { # TRANSACTIONS CLIENT_SECONDS
  local n=$1 client=$2 busy idle
  read -r busy idle < <(machine_ticks)
  awk -v n="$n" -v c="$client" -v b=$((busy - CPU_BUSY0)) -v i=$((idle - CPU_IDLE0)) -v hz="$HZ" 'BEGIN {
    if (n <= 0) n = 1
    printf "CPU per transaction: pgbench %.0f µs, whole machine %.0f µs (busy %.0f%%)", c * 1e6 / n, b / hz * 1e6 / n, 100 * b / (b + i) }'
}

# ==========================================================================================
# data sets: dataset_up_NAME / dataset_down_NAME, switched between steps by use_data
RSS_PEAK=0
RSS_PEAK_FROM=""
note_peak() { # KIB WHERE
  if [ "${1:-0}" -gt "$RSS_PEAK" ]; then RSS_PEAK=$1; RSS_PEAK_FROM=$2; fi
}

dataset_up_api() {
  log "data set api: fresh database $DB"
  dropdb --if-exists "$DB"
  URL=$(db_url "$DB")
  (cd "$VM_CWD" && svc_env "$URL" "$BIN" migrate) >/dev/null
  TOKEN=$(token "$URL")
  start_service "$URL"
  sleep 2
  RSS_IDLE_START=$(rss_kib "$SVC_PID")
  log "RSS idle after start: $(mib "$RSS_IDLE_START") MiB"
  python3 "$BENCH/setup_api.py" --api "http://127.0.0.1:$PORT/api/v1" --token "$TOKEN" --out "$WORK"
  # shellcheck disable=SC1091
  source "$WORK/ids.env"
  psql_db "$DB" <<SQL
CREATE TABLE vm_bench_checkin_in (meeting_id uuid, site_id uuid);
CREATE TABLE vm_bench_pairs_in (unit_id uuid, venue_id uuid);
\copy vm_bench_checkin_in FROM '$WORK/checkin_targets.txt' WITH (DELIMITER ' ')
\copy vm_bench_pairs_in FROM '$WORK/create_pairs.txt' WITH (DELIMITER ' ')
SQL
  psql_db "$DB" -v base_epoch="$CREATE_BASE_EPOCH" -f "$BENCH/pgbench/setup_pgbench.sql" >/dev/null
  drain_outbox "$DB" >/dev/null
  # statistics, as autovacuum would have them on a database in use: without them the planner
  # takes the tables setup_api.py just filled for empty, and a step run alone measures that
  psql_db "$DB" -c "VACUUM ANALYZE"
  sleep 3
  RSS_IDLE_DATA=$(rss_kib "$SVC_PID")
  log "RSS idle after the data set: $(mib "$RSS_IDLE_DATA") MiB"
}

dataset_down_api() {
  local idle=$RSS_IDLE_DATA
  [ "$RSS_IDLE_START" -gt "$idle" ] && idle=$RSS_IDLE_START
  row mem_idle "VmRSS idle: after start / with the check-in data set" "$(mib "$RSS_IDLE_START") / $(mib "$RSS_IDLE_DATA") MiB" "" "" "< 64 MiB" "$(lt "$(mib "$idle")" 64)" ""
  stop_service
  [ "$KEEP_DBS" = 1 ] || dropdb --if-exists "$DB"
}

dataset_up_national() {
  log "data set national: $NDB"
  dropdb --if-exists "$NDB"
  NURL=$(db_url "$NDB")
  local t0 t1 t2
  t0=$(date +%s.%N)
  (cd "$VM_CWD" && svc_env "$NURL" "$BIN" migrate) >/dev/null
  t1=$(date +%s.%N)
  psql -X -v ON_ERROR_STOP=1 -d "$NDB" -f "$BENCH/national.sql" >"$WORK/national_load.txt" 2>&1
  t2=$(date +%s.%N)
  NCOUNTS=$(psql_db "$NDB" -F ', ' -c "SELECT (SELECT count(*) FROM regions WHERE level = 'province'),
      (SELECT count(*) FROM regions WHERE level = 'district'), (SELECT count(*) FROM regions WHERE level = 'commune'),
      (SELECT count(*) FROM electoral_units), (SELECT count(*) FROM candidates), (SELECT count(*) FROM venues),
      (SELECT count(*) FROM meetings), (SELECT count(*) FROM meeting_candidates), (SELECT count(*) FROM meeting_sites),
      (SELECT count(*) FROM attendance_reports), (SELECT sum(reported_attendees) FROM meetings)")
  NLOAD_S=$(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.0f", b - a}')
  NSIZE=$(psql_db "$NDB" -c "SELECT pg_size_pretty(pg_database_size('$NDB'))")
  log "national load: ${NLOAD_S}s, $NCOUNTS"
  NTOKEN=$(token "$NURL")
  NELECTION=$(psql_db "$NDB" -c "SELECT id FROM elections ORDER BY created_at, id LIMIT 1")
  mkdir -p "$WORK/sink"
  start_sink "$WORK/sink_fanout.log"
  start_service "$NURL" SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
  sleep 2
  RSS_N_IDLE=$(rss_kib "$SVC_PID")
}

dataset_down_national() {
  local r
  r=$(rss_kib "$SVC_PID")
  row mem_idle "VmRSS idle on the national data set (after start)" "$(mib "$RSS_N_IDLE") MiB" "" "" "< 64 MiB" "$(lt "$(mib "$RSS_N_IDLE")" 64)" ""
  row mem_load "VmRSS at the end of the national steps ($(has_step flood && echo 'after the flood, ')report, fan-outs)" "$(mib "$r") MiB" "" "" "(info)" "(info)" "what the service keeps after the load"
  stop_service
  stop_sink
  [ "$KEEP_DBS" = 1 ] || dropdb --if-exists "$NDB"
}

# the demo province (`voter-meetings demo`: Hà Tĩnh mid-campaign, through the use cases)
dataset_up_demo() {
  log "data set demo: $CDB"
  dropdb --if-exists "$CDB"
  CURL_DB=$(db_url "$CDB")
  (cd "$VM_CWD" && svc_env "$CURL_DB" "$BIN" migrate) >/dev/null
  local t0=$SECONDS
  (cd "$VM_CWD" && svc_env "$CURL_DB" OUTBOX__ENABLED=false "$BIN" demo) >"$WORK/demo.txt"
  DEMO_S=$((SECONDS - t0))
  CTOKEN=$(token "$CURL_DB" admin bench-console)
  start_service "$CURL_DB" OUTBOX__ENABLED=false
}

dataset_down_demo() {
  stop_service
  [ "$KEEP_DBS" = 1 ] || dropdb --if-exists "$CDB"
}

# the statements of the step just run, by server time (execution + planning), with calls
pss_dump() {
  psql -X -q -d postgres -c "SELECT d.datname AS db, calls, round(total_exec_time::numeric) AS exec_ms,
      round(total_plan_time::numeric) AS plan_ms, plans, round((1000 * total_exec_time / nullif(calls, 0))::numeric) AS exec_us_per_call,
      left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
   ORDER BY total_exec_time + total_plan_time DESC LIMIT 60"
}

CURRENT_DATA=""
use_data() { # NAME
  [ "$CURRENT_DATA" = "$1" ] && return 0
  [ -z "$CURRENT_DATA" ] || "dataset_down_$CURRENT_DATA"
  CURRENT_DATA=$1
  "dataset_up_$1"
}

# ==========================================================================================
step_checkin() {
  wrk_run warmup 50 3 "$BENCH/wrk/checkin.lua" "$TOKEN" "$WORK/checkin_targets.txt" >/dev/null
  local c W P WCPU R first_c S E1 E2 E3 OVER TOTAL
  for c in $CHECKIN_CONC; do
    start_sampler "$WORK/rss_checkin_c$c.txt"
    cpu_begin
    W=$(wrk_run "checkin_c$c" "$c" "$DURATION" "$BENCH/wrk/checkin.lua" "$TOKEN" "$WORK/checkin_targets.txt")
    WCPU=$(cpu_end "$(wrk_requests "checkin_c$c")" "$(cat "$WORK/wrk_checkin_c${c}_cpu.txt")")
    R=$(stop_sampler "$WORK/rss_checkin_c$c.txt")
    note_peak "${R:-0}" "check-ins c=$c"
    P=$(pgbench_run "checkin_c$c" "$DB" "$c" "$DURATION" prepared "$BENCH/pgbench/checkin.sql")
    log "check-in c=$c: wrk $W req/s, pgbench $P tps, statuses $(wrk_status "checkin_c$c"), peak RSS $(mib "$R") MiB"
    eval "CHECKIN_RPS_$c=$W"
    row checkin "check-in, c=$c (req/s vs tx/s)" "$W" "$P (pgbench -M prepared)" "$(pct "$W" "$P")" "≥ 60%" "$(ge "$(pctn "$W" "$P")" 60)" \
      "statuses: $(wrk_status "checkin_c$c"); non-2xx $(wrk_non2xx "checkin_c$c"); wrk $(wrk_lat "checkin_c$c"). $WCPU. pgbench: $(cat "$WORK/pgbench_checkin_c${c}_cpu.txt")"
  done
  first_c=${CHECKIN_CONC%% *}
  W=$(eval echo "\$CHECKIN_RPS_$first_c")
  S=$(pgbench_run "checkin_simple_c$first_c" "$DB" "$first_c" "$DURATION" simple "$BENCH/pgbench/checkin.sql")
  row checkin "check-in, c=$first_c, vs pgbench simple protocol" "$W" "$S (pgbench -M simple)" "$(pct "$W" "$S")" "(info)" "(info)" ""
  E1=$(pgbench_run "checkin_svcsql_extended_c$first_c" "$DB" "$first_c" "$DURATION" extended "$BENCH/pgbench/checkin_service_sql.sql")
  E2=$(pgbench_run "checkin_svcsql_prepared_c$first_c" "$DB" "$first_c" "$DURATION" prepared "$BENCH/pgbench/checkin_service_sql.sql")
  psql_db "$DB" -f "$BENCH/pgbench/checkin_function_setup.sql" >/dev/null
  E3=$(pgbench_run "checkin_function_c$first_c" "$DB" "$first_c" "$DURATION" prepared "$BENCH/pgbench/checkin_function.sql")
  row checkin "check-in, c=$first_c: pgbench running the service's own check-in SQL" "$W" "$E1 (unprepared, as diesel sends it) / $E2 (prepared) / $E3 (in a PL/pgSQL function, prepared SELECT)" "$(pct "$W" "$E1") / $(pct "$W" "$E2") / $(pct "$W" "$E3")" "(info)" "(info)" "the database's share of the gap. $(cat "$WORK/pgbench_checkin_svcsql_extended_c${first_c}_cpu.txt") / $(cat "$WORK/pgbench_checkin_svcsql_prepared_c${first_c}_cpu.txt") / $(cat "$WORK/pgbench_checkin_function_c${first_c}_cpu.txt")"
  OVER=$(psql_db "$DB" -c "SELECT count(*) FROM meeting_sites WHERE present > effective_capacity OR present < 0")
  TOTAL=$(psql_db "$DB" -c "SELECT sum(present) FROM meeting_sites s JOIN vm_bench_checkin_in i ON i.site_id = s.id")
  row capacity "sites with present > effective_capacity after the runs" "$OVER" "" "" "0" "$(le "$OVER" 0)" "sum(present) over the 100 sites = $TOTAL (API + pgbench)"

  # exact capacity under concurrency: a capacity-50 site, 16 clients for 3 s
  local SMALL_M SMALL_S SMALL_PRESENT ST V
  wrk_run small_site 16 3 "$BENCH/wrk/checkin.lua" "$TOKEN" "$WORK/small_target.txt" >/dev/null
  read -r SMALL_M SMALL_S <"$WORK/small_target.txt"
  SMALL_PRESENT=$(psql_db "$DB" -c "SELECT present || '/' || effective_capacity FROM meeting_sites WHERE id = '$SMALL_S'")
  ST=$(wrk_status small_site)
  V="**missed**"
  [[ " $ST " == *" 200=50 "* ]] && [ "$SMALL_PRESENT" = "50/50" ] && V=met
  row capacity "exact capacity: 16 clients × 3 s on a capacity-50 site (meeting $SMALL_M)" "statuses $ST" "" "" "exactly 50 × 200, rest 409" "$V" "present/capacity after: $SMALL_PRESENT"
}

step_create() {
  drain_outbox "$DB" >/dev/null
  local TITLE='Hội nghị tiếp xúc cử tri (bench)' c FIRST_SLOT BEFORE AFTER W WCPU R P PF ST V DOUBLE_C DOUBLE_V
  for c in $CREATE_CONC; do
    FIRST_SLOT=$(psql_db "$DB" -c "SELECT coalesce(max(floor((extract(epoch FROM starts_at) - $CREATE_BASE_EPOCH) / 7200))::int, -1) + 1 FROM meetings WHERE title = '$TITLE'")
    BEFORE=$(psql_db "$DB" -c "SELECT count(*) FROM meetings WHERE title = '$TITLE'")
    start_sampler "$WORK/rss_create_c$c.txt"
    cpu_begin
    W=$(wrk_run "create_c$c" "$c" "$DURATION" "$BENCH/wrk/create_meeting.lua" "$TOKEN" "$WORK/create_pairs.txt" \
      "$ELECTION_ID" "$CREATE_BASE_EPOCH" "$FIRST_SLOT" "$THREADS")
    WCPU=$(cpu_end "$(wrk_requests "create_c$c")" "$(cat "$WORK/wrk_create_c${c}_cpu.txt")")
    R=$(stop_sampler "$WORK/rss_create_c$c.txt")
    note_peak "${R:-0}" "creations c=$c"
    AFTER=$(psql_db "$DB" -c "SELECT count(*) FROM meetings WHERE title = '$TITLE'")
    # the change notices the run queued are sent before pgbench runs, not during
    log "waited $(drain_outbox "$DB") s for the outbox worker to send the run's change notices"
    # payload of the rows the API wrote besides the meeting (for create_meeting_full.sql)
    psql_db "$DB" -c "DROP TABLE IF EXISTS vm_bench_payload; CREATE TABLE vm_bench_payload AS
      SELECT (SELECT after FROM audit_log WHERE action = 'create' AND entity_type = 'meeting' ORDER BY id DESC LIMIT 1) AS audit_after,
             o.subject, o.body_text, o.body_html, o.ics
        FROM outbox o WHERE o.kind = 'meeting_change' ORDER BY o.id DESC LIMIT 1"
    P=$(pgbench_run "create_c$c" "$DB" "$c" "$DURATION" prepared "$BENCH/pgbench/create_meeting.sql")
    PF=$(pgbench_run "create_full_c$c" "$DB" "$c" "$DURATION" prepared "$BENCH/pgbench/create_meeting_full.sql")
    log "create c=$c: wrk $W req/s ($((AFTER - BEFORE)) meetings), pgbench $P tps, full $PF tps; statuses $(wrk_status "create_c$c")"
    row create "meeting creation, c=$c (req/s vs tx/s)" "$W" "$P (4 tables)" "$(pct "$W" "$P")" "≥ 40%" "$(ge "$(pctn "$W" "$P")" 40)" \
      "$((AFTER - BEFORE)) meetings created; statuses: $(wrk_status "create_c$c"); wrk $(wrk_lat "create_c$c"). $WCPU (includes the outbox worker writing the change notices). pgbench: $(cat "$WORK/pgbench_create_c${c}_cpu.txt")"
    row create "meeting creation, c=$c, vs pgbench incl. audit + outbox rows" "$W" "$PF (6 tables)" "$(pct "$W" "$PF")" "(info)" "(info)" ""
  done
  # the same candidate, venue and time from 16 clients at once: one 201, the rest 409
  wrk_run same_slot 16 3 "$BENCH/wrk/same_slot.lua" "$TOKEN" "$WORK/conflict_pair.txt" "$ELECTION_ID" "$CREATE_BASE_EPOCH" >/dev/null
  ST=$(wrk_status same_slot)
  V=met
  { [[ " $ST " == *" 201=1 "* ]] && ! grep -qE ' 5[0-9]{2}=' <<<" $ST"; } || V="**missed**"
  row booking "same slot from 16 clients × 3 s" "statuses $ST" "" "" "one 201, rest 409, no 5xx" "$V" ""
  DOUBLE_C=$(psql_db "$DB" -c "SELECT count(*) FROM meeting_candidates a JOIN meeting_candidates b
      ON a.province_id = b.province_id AND a.candidate_id = b.candidate_id AND a.meeting_id < b.meeting_id
     AND a.busy && b.busy WHERE a.active AND b.active")
  DOUBLE_V=$(psql_db "$DB" -c "SELECT count(*) FROM meeting_sites a JOIN meeting_sites b
      ON a.province_id = b.province_id AND a.venue_id = b.venue_id AND a.id < b.id
     AND a.during && b.during WHERE a.active AND b.active")
  row booking "double bookings after the runs (candidates / venues)" "$DOUBLE_C / $DOUBLE_V" "" "" "0 / 0" "$(le $((DOUBLE_C + DOUBLE_V)) 0)" "SQL self-joins on busy/during &&"
}

step_latency() {
  log "waited $(drain_outbox "$DB") s for the outbox worker to send the creation step's change notices"
  local GET_SAT CI_SAT M S CP kind sat div rate P50 P99 OK TOT ACH ST ERR RATIO target V
  # saturation of GET, measured here; of check-ins, from the checkin step (or measured now)
  GET_SAT=$(wrk_run get_sat 16 10 "$BENCH/wrk/get_meeting.lua" "$TOKEN" "$WORK/checkin_targets.txt")
  CI_SAT=${CHECKIN_RPS_16:-$(wrk_run checkin_sat 16 10 "$BENCH/wrk/checkin.lua" "$TOKEN" "$WORK/checkin_targets.txt")}
  read -r M S <"$WORK/checkin_targets.txt"
  CP=$(cat "$WORK/cp_meeting.txt")
  for kind in get checkin get_quarter healthz_quarter; do
    if [ $kind = checkin ]; then sat=$CI_SAT; else sat=$GET_SAT; fi
    if [ $kind = get_quarter ] || [ $kind = healthz_quarter ]; then div=4; else div=2; fi
    rate=$(awk -v s="$sat" -v d="$div" 'BEGIN {printf "%d", s / d}')
    if [ $kind = healthz_quarter ]; then
      # no database, no auth: the HTTP stack and the machine alone, at the same rate
      timeout $((DURATION + 30)) "$OHA" --no-tui --output-format json --latency-correction -z "${DURATION}s" -q "$rate" -c 16 \
        "http://127.0.0.1:$PORT/healthz" >"$WORK/oha_$kind.json" 2>"$WORK/oha_$kind.err" || true
    elif [ $kind != checkin ]; then
      timeout $((DURATION + 30)) "$OHA" --no-tui --output-format json --latency-correction -z "${DURATION}s" -q "$rate" -c 16 \
        -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/meetings/$M" >"$WORK/oha_$kind.json" 2>"$WORK/oha_$kind.err" || true
    else
      # one online meeting with 100 connection points: fixed URL, one body per site (-Z)
      timeout $((DURATION + 30)) "$OHA" --no-tui --output-format json --latency-correction -z "${DURATION}s" -q "$rate" -c 16 -m POST \
        -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -Z "$WORK/cp_bodies.txt" \
        "http://127.0.0.1:$PORT/api/v1/meetings/$CP/checkins" >"$WORK/oha_$kind.json" 2>"$WORK/oha_$kind.err" || true
    fi
    IFS=$'\t' read -r P50 P99 OK TOT _ ACH ST ERR <<<"$(oha_summary "$WORK/oha_$kind.json")"
    RATIO=$(awk -v a="$P99" -v b="$P50" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "" }')
    if [ $div = 2 ]; then target="p99 ≤ 5× p50"; V=$(le "$RATIO" 5); else target="(info)"; V="(info)"; fi
    row latency "$kind at $rate req/s (1/$div of saturation $sat)" "p50 $(printf '%.2f' "$P50") ms, p99 $(printf '%.2f' "$P99") ms" "" "${RATIO:-n/a}×" "$target" "$V" \
      "oha -q $rate -c 16 -z ${DURATION}s --latency-correction; achieved $ACH req/s; $OK of $TOT answered 2xx; statuses $ST; errors $ERR"
  done
  sched_delays "$(awk -v s="$GET_SAT" 'BEGIN {printf "%d", s / 2}')" "$M"
}

# Where the tail comes from: the GET run at half of saturation once more, with the kernel's
# scheduler events recorded for 5 s in its middle (perf sched): how long each thread that
# became runnable waited for a CPU, overall and by process (sched_by_process.txt). A request
# passes through a dozen or more wake-ups (the load generator, the service's threads, a
# backend per statement), so waits that strike a few wake-ups in a thousand reach the p99.
# The share of requests printed assumes independent waits: one wait of an actix thread delays
# every request queued on its connections. perf perturbs this repeat, so it is (info) only.
sched_delays() { # RATE MEETING
  local rate=$1 m=$2 data=$WORK/sched.data ctx0 ctx1 busy0 idle0 busy1 idle1 rps oha P50 P99 ACH SCHED SNOTE
  if ! command -v perf >/dev/null || ! perf sched record -o "$WORK/sched_probe.data" -- true >/dev/null 2>&1; then
    row latency "scheduler delays during GET at $rate req/s" "not measured: perf sched unavailable" "" "" "(info)" "(info)" ""
    return 0
  fi
  timeout $((DURATION + 30)) "$OHA" --no-tui --output-format json --latency-correction -z "${DURATION}s" -q "$rate" -c 16 \
    -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/meetings/$m" >"$WORK/oha_get_sched.json" 2>"$WORK/oha_get_sched.err" &
  oha=$!
  sleep $((DURATION / 2 - 2))
  ctx0=$(awk '/^ctxt/ {print $2}' /proc/stat); read -r busy0 idle0 < <(machine_ticks)
  perf sched record -o "$data" -- sleep 5 >"$WORK/sched_record.txt" 2>&1 || true
  ctx1=$(awk '/^ctxt/ {print $2}' /proc/stat); read -r busy1 idle1 < <(machine_ticks)
  wait "$oha" || true
  perf sched timehist -i "$data" >"$WORK/sched_timehist.txt" 2>/dev/null || true
  IFS=$'\t' read -r P50 P99 _ _ _ ACH _ _ <<<"$(oha_summary "$WORK/oha_get_sched.json")"
  rps=${ACH:-$rate}
  awk -v ctx=$((ctx1 - ctx0)) -v rps="$rps" -v busy=$((busy1 - busy0)) -v idle=$((idle1 - idle0)) \
    -v p50="$P50" -v p99="$P99" '
    NR > 3 && $5 ~ /^[0-9.]+$/ { n++; d = $5 + 0; if (d > 1) a++; if (d > 2) b++; if (d > 5) c++ }
    END {
      if (n == 0) { print "n/a\tno switch-ins read"; exit }
      per = ctx / (5 * rps); p = b / n
      printf "%.3f%% / %.3f%% / %.3f%% of %d switch-ins waited > 1 / 2 / 5 ms\t", 100 * a / n, 100 * p, 100 * c / n, n
      printf "machine %.0f%% busy; %.1f context switches per request, so %.1f%% of requests meet a wait > 2 ms (1 - (1 - p)^k); ", \
        100 * busy / (busy + idle), per, 100 * (1 - (1 - p) ^ per)
      printf "this repeat (perturbed by perf): p50 %.2f ms, p99 %.2f ms\n", p50, p99
    }' "$WORK/sched_timehist.txt" >"$WORK/sched_summary.txt"
  # by process: the service's blocking threads and oha's workers share the name tokio-rt-worker
  awk -v svc="$SVC_PID" 'NR > 3 && $5 ~ /^[0-9.]+$/ && $3 !~ /^<idle>/ {
      split($3, t, "["); pid = $3; sub(/.*\//, "", pid); sub(/\].*/, "", pid)
      k = t[1] (pid == svc ? " (service)" : t[1] == "postgres" ? "" : " (pid " pid ")")
      n[k]++; if ($5 > 1) a[k]++; if ($5 > 2) b[k]++ }
    END { for (k in n) if (n[k] >= 500) printf "%d\t%-36s switch-ins %7d  waited > 1 ms %5d  > 2 ms %4d\n", a[k], k, n[k], a[k], b[k] }' \
    "$WORK/sched_timehist.txt" | sort -nr | cut -f2- >"$WORK/sched_by_process.txt"
  IFS=$'\t' read -r SCHED SNOTE <"$WORK/sched_summary.txt"
  row latency "scheduler delays during GET at $rate req/s (perf sched, 5 s)" "$SCHED" "" "" "(info)" "(info)" "$SNOTE; by process in sched_by_process.txt"
  rm -f "$data" "$WORK/sched_probe.data"
}

step_profile() {
  log "profile: statements per request (log_min_duration_statement=0 on $DB only)"
  local PGLOG=$PGD/log M S U V kind OFF i st key
  stop_service
  drain_outbox "$DB" >/dev/null
  psql_db "$DB" -c "ALTER DATABASE $DB SET log_min_duration_statement = 0"
  start_service "$URL"
  read -r M S <"$WORK/checkin_targets.txt"
  read -r U V <"$WORK/conflict_pair.txt"
  # warm: token cache and the pool's first connection
  curl -s -m 120 -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/meetings/$M"
  sleep 1
  for kind in checkin get create; do
    OFF=$(stat -c %s "$PGLOG")
    for i in $(seq 1 20); do
      case $kind in
        checkin) curl -s -m 120 -o /dev/null -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
                   -d "{\"site_id\":\"$S\",\"count\":1}" "http://127.0.0.1:$PORT/api/v1/meetings/$M/checkins" ;;
        get) curl -s -m 120 -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/meetings/$M" ;;
        create) st=$((CREATE_BASE_EPOCH + 86400 * 5 + i * 7200))
                curl -s -m 120 -o /dev/null -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
                  -d "{\"election_id\":\"$ELECTION_ID\",\"electoral_unit_ids\":[\"$U\"],\"format\":\"in_person\",\"starts_at\":\"$(date -u -d @$st +%FT%TZ)\",\"ends_at\":\"$(date -u -d @$((st + 3600)) +%FT%TZ)\",\"sites\":[{\"venue_id\":\"$V\",\"expected_attendees\":5}]}" \
                  "http://127.0.0.1:$PORT/api/v1/meetings" ;;
      esac
    done
    sleep 1
    tail -c +"$((OFF + 1))" "$PGLOG" | grep -a "@$DB " >"$WORK/profile_$kind.log" || true
    python3 "$BENCH/pglog_profile.py" "$WORK/profile_$kind.log" 20 >"$WORK/profile_$kind.txt"
    case $kind in get) key=latency ;; *) key=$kind ;; esac
    row "$key" "profile: one $kind request (20 sequential, server log)" "$(head -1 "$WORK/profile_$kind.txt" | sed 's/^per request: //')" "" "" "(info)" "(info)" "top statements in profile_$kind.txt; includes the outbox worker's polls$([ $kind = create ] && echo ' and the sending of the change notices')"
  done
  psql_db "$DB" -c "ALTER DATABASE $DB RESET log_min_duration_statement"
}

# -- restart: faults of the database under a constant load of GETs and check-ins -------------
event() { echo "$EPOCHREALTIME $*" >>"$WORK/restart_events.txt"; }
sleep_until() { # EPOCH
  local d
  d=$(awk -v t="$1" -v n="$EPOCHREALTIME" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')
  sleep "$d"
}
step_restart() {
  local dur=$RESTART_DURATION M S CP T0 L_PID PROBE_PID N END line
  : >"$WORK/restart_events.txt"
  read -r M S <"$WORK/checkin_targets.txt"
  CP=$(cat "$WORK/cp_meeting.txt")
  # when the server accepts connections: pg_isready every 50 ms (0 = accepting)
  (end=$((SECONDS + dur + 20))
   while [ $SECONDS -lt $end ]; do
     if pg_isready -q -h 127.0.0.1 -p "$PGPORT" -t 1; then r=0; else r=$?; fi
     echo "$EPOCHREALTIME $r"
     sleep 0.05
   done) >"$WORK/restart_probe.txt" &
  PROBE_PID=$!
  BG_PIDS+=("$PROBE_PID")
  T0=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + 1 }')  # the load's schedule starts here
  timeout $((dur + 60)) python3 "$BENCH/loadgen.py" --start "$T0" --duration "$dur" --out "$WORK/restart_requests.csv" \
    --header "Authorization: Bearer $TOKEN" \
    --target GET GET "http://127.0.0.1:$PORT/api/v1/meetings/$M" "$RESTART_RATE" "$RESTART_CONC" \
    --target check-in POST "http://127.0.0.1:$PORT/api/v1/meetings/$CP/checkins" "$RESTART_RATE" "$RESTART_CONC" "$WORK/cp_bodies.txt" \
    >"$WORK/restart_loadgen.txt" 2>&1 &
  L_PID=$!
  BG_PIDS+=("$L_PID")
  echo "$T0 load.start" >>"$WORK/restart_events.txt"

  sleep_until "$(awk -v t="$T0" 'BEGIN { printf "%.3f", t + 10 }')"
  log "restart: pg_ctl restart -m fast"
  event fast.stop
  pgctl -m fast -w -t 60 restart >>"$WORK/pgctl.log" 2>&1
  event fast.ctl_done

  sleep_until "$(awk -v t="$T0" 'BEGIN { printf "%.3f", t + 30 }')"
  log "restart: pg_ctl stop -m immediate, ${RESTART_DOWN} s down, start"
  event immediate.stop
  pgctl -m immediate -w -t 60 stop >>"$WORK/pgctl.log" 2>&1
  sleep "$RESTART_DOWN"
  event immediate.start
  pgctl -w -t 120 start >>"$WORK/pgctl.log" 2>&1
  event immediate.ctl_done

  sleep_until "$(awk -v t="$T0" 'BEGIN { printf "%.3f", t + 50 }')"
  event terminate.stop
  N=$(psql_db "$DB" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$DB'
        AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT IN ('psql', 'pgbench')")
  event terminate.count "$N"
  log "restart: pg_terminate_backend of the service's $N connections"

  wait "$L_PID" || true
  END=$EPOCHREALTIME
  kill "$PROBE_PID" 2>/dev/null || true
  wait "$PROBE_PID" 2>/dev/null || true
  python3 "$BENCH/faults.py" --events "$WORK/restart_events.txt" --probe "$WORK/restart_probe.txt" --end "$END" \
    --requests "$WORK/restart_requests.csv" --timeline "$WORK/restart_timeline.md" >"$WORK/restart_faults.txt"
  cat "$WORK/restart_loadgen.txt" "$WORK/restart_faults.txt"

  local fault run down dt df ds af at as fa la summary after_fail during_bad V label target key
  kv() { local k; for k in $1; do [ "${k%%=*}" = "$2" ] && { echo "${k#*=}"; return 0; }; done; echo 0; }
  for fault in fast immediate terminate; do
    summary="" after_fail=0 during_bad=0 down=""
    while read -r line; do
      [ "$(kv "$line" fault)" = "$fault" ] || continue
      run=$(kv "$line" run) down=$(kv "$line" down_s) dt=$(kv "$line" during_total) df=$(kv "$line" during_fail)
      ds=$(kv "$line" during_status) at=$(kv "$line" after_total) af=$(kv "$line" after_fail) as=$(kv "$line" after_status)
      fa=$(kv "$line" first_after_s) la=$(kv "$line" last_after_s)
      after_fail=$((after_fail + af))
      # the server never went down: a request in flight at the kill found a dead connection too
      [ "$fault" != terminate ] || after_fail=$((after_fail + df))
      # while down only 503 is allowed
      [ -z "$(sed -E 's/(^|,)503:[0-9]+//g; s/^-$//' <<<"$ds")" ] || during_bad=$((during_bad + 1))
      if [ "$fault" = terminate ]; then
        summary+="$run: $af of $at failed after the kill ($as; first +${fa} s, last +${la} s), $df of $dt in flight failed ($ds). "
      else
        summary+="$run: $af of $at failed after up ($as; first +${fa} s, last +${la} s), $df of $dt failed while down ($ds). "
      fi
    done <"$WORK/restart_faults.txt"
    V=met
    [ "$after_fail" = 0 ] && [ "$during_bad" = 0 ] || V="**missed**"
    case $fault in
      fast) key=restart label="pg_ctl restart -m fast"; target="0 after up; 503 only while down" ;;
      immediate) key=restart label="pg_ctl stop -m immediate, ${RESTART_DOWN} s, start (crash recovery)"; target="0 after up; 503 only while down" ;;
      terminate) key=pooldeath label="pg_terminate_backend of the service's $N connections"; target="0 failed (in flight at the kill or after it)" ;;
    esac
    row "$key" "$label, under ${RESTART_RATE} GET/s + ${RESTART_RATE} check-ins/s (c=$RESTART_CONC each)" \
      "$after_fail failed $([ $fault = terminate ] && echo 'in flight at the kill or after it' || echo 'after up')" "" "down ${down:-?} s" "$target" "$V" \
      "${summary}Timeline: restart_timeline.md"
  done
  row restart "all requests of the restart step (bench/loadgen.py, constant rate)" "$(paste -sd';' "$WORK/restart_loadgen.txt" | sed 's/;/; /g')" "" "" "(info)" "(info)" \
    "faults at 10 s (restart -m fast), 30 s (stop -m immediate, start after ${RESTART_DOWN} s), 50 s (pg_terminate_backend) of ${dur} s"
  local OVER
  OVER=$(psql_db "$DB" -c "SELECT count(*) FROM meeting_sites WHERE present > effective_capacity OR present < 0")
  row capacity "sites with present > effective_capacity after the restart step" "$OVER" "" "" "0" "$(le "$OVER" 0)" ""
}

step_import() {
  local out=$WORK/import_rate.txt kind rows secs rate
  timeout 1200 python3 "$BENCH/import_rate.py" --api "http://127.0.0.1:$PORT/api/v1" --token "$TOKEN" >"$out"
  while read -r kind rows secs rate; do
    row import "import: $kind ($rows rows, all or none, every row through its use case)" "$rate rows/s" "" "" "(info)" "(info)" "${secs} s"
  done <"$out"
}

step_console() {
  local out=$WORK/console.txt name bytes t360 t1280 outside kb worst V
  log "demo loaded in $DEMO_S s; pages in headless Chromium (median of 5 loads, 360 px and 1280 px)"
  timeout 900 python3 "$BENCH/console.py" --base "http://127.0.0.1:$PORT" --token "$CTOKEN" >"$out"
  # | page | bytes | load 360 | load 1280 | requests outside |
  while IFS='|' read -r _ name bytes t360 t1280 outside _; do
    name=$(xargs <<<"$name"); bytes=${bytes//[, ]/}; t360=${t360// /}; t1280=${t1280// /}; outside=${outside// /}
    kb=$(awk -v b="$bytes" 'BEGIN {printf "%.0f", b / 1024}')
    worst=$(( t360 > t1280 ? t360 : t1280 ))
    V=met
    [ "$(lt "$worst" 1000)" = met ] && [ "$(lt "$kb" 300)" = met ] && [ "$outside" = 0 ] || V="**missed**"
    row console "page $name (demo data)" "$kb KB; load $t360 ms (360 px) / $t1280 ms (1280 px); $outside requests outside" "" "" "< 1 s, < 300 KB, 0 outside" "$V" \
      "HTML + every asset, load event, median of 5 loads in $(chromium --version 2>/dev/null | head -1)"
  done < <(grep -E '^\| ' "$out" | grep -vE '^\| (page|---) ')
}

step_national() {
  local REPORT_URL ROWS_N API_ATT API_MS API_SD SQL_MS ROWS_MS PSQL_MS RATIO CODE
  REPORT_URL="http://127.0.0.1:$PORT/api/v1/reports/attendance?election_id=$NELECTION&group_by=region"
  curl -s -m 120 -o "$WORK/report.json" -w '%{http_code} %{size_download} %{time_total}\n' -H "Authorization: Bearer $NTOKEN" "$REPORT_URL" >"$WORK/report_first.txt"
  CODE=$(cut -d' ' -f1 "$WORK/report_first.txt")
  ROWS_N=$(jq '.rows | length' "$WORK/report.json" 2>/dev/null || echo 0)
  API_ATT=$(jq '.totals.attendees' "$WORK/report.json" 2>/dev/null || echo "?")
  row scale "national data set: load (SQL generate_series) + VACUUM ANALYZE, then served" "${NLOAD_S} s; roll-up answered $CODE" "" "" "loads and is served on 1 machine" \
    "$([ "$CODE" = 200 ] && [ "$ROWS_N" -gt 0 ] && echo met || echo '**missed**')" "$NSIZE; provinces, districts, communes, units, candidates, venues, meetings, candidate links, sites, reports, attendances = $NCOUNTS"
  python3 "$BENCH/report_sql.py" "$NELECTION" >"$WORK/report_bare.sql"
  python3 "$BENCH/report_sql.py" "$NELECTION" --only rows >"$WORK/report_rows.sql"
  python3 "$BENCH/report_sql.py" "$NELECTION" --explain >"$WORK/report_explain.sql"
  psql -X -d "$NDB" -f "$WORK/report_explain.sql" >"$WORK/report_explain.txt" 2>&1
  hyperfine -N --warmup 2 --runs 10 --export-json "$WORK/hyperfine_report.json" \
    "curl -sf -m 120 -o /dev/null -H 'Authorization: Bearer $NTOKEN' '$REPORT_URL'" >"$WORK/hyperfine_report.txt" 2>&1 || true
  API_MS=$(jq '.results[0].mean * 1000' "$WORK/hyperfine_report.json")
  API_SD=$(jq '.results[0].stddev * 1000' "$WORK/hyperfine_report.json")
  pgbench -n -t 2 -f "$WORK/report_bare.sql" "$NDB" >/dev/null 2>&1 || true
  pgbench -n -t 10 -f "$WORK/report_bare.sql" "$NDB" >"$WORK/pgbench_report.txt" 2>&1 || true
  SQL_MS=$(awk '/^latency average/ {print $4}' "$WORK/pgbench_report.txt")
  pgbench -n -t 10 -f "$WORK/report_rows.sql" "$NDB" >"$WORK/pgbench_report_rows.txt" 2>&1 || true
  ROWS_MS=$(awk '/^latency average/ {print $4}' "$WORK/pgbench_report_rows.txt")
  hyperfine -N --warmup 2 --runs 10 --export-json "$WORK/hyperfine_psql.json" \
    "psql -X -q -o /dev/null -d $NDB -f $WORK/report_bare.sql" >/dev/null 2>&1 || true
  PSQL_MS=$(jq '.results[0].mean * 1000' "$WORK/hyperfine_psql.json")
  RATIO=$(awk -v a="$API_MS" -v b="$SQL_MS" 'BEGIN {printf "%.2f", a / b}')
  row reports "national attendance roll-up, group_by=region (ms, warm)" "$(printf '%.0f ± %.0f' "$API_MS" "$API_SD") (hyperfine, curl)" "$(printf '%.0f' "$SQL_MS") (pgbench -t 10: rows + totals + by_body)" "${RATIO}×" "≤ 1.5×" "$(le "$RATIO" 1.5)" \
    "$ROWS_N rows, totals.attendees=$API_ATT; rows query alone $(printf '%.0f' "$ROWS_MS") ms; same 3 statements via psql (incl. connect) $(printf '%.0f' "$PSQL_MS") ms"
  log "report: API ${API_MS} ms vs SQL ${SQL_MS} ms"
}

# -- flood: one observer token floods reports and big pages; an organizer checks in at a fixed rate
oha_checkins() { # NAME TOKEN MEETING BODIES
  timeout $((FLOOD_DURATION + 40)) "$OHA" --no-tui --output-format json --latency-correction -z "${FLOOD_DURATION}s" -w \
    -q "$FLOOD_CHECKIN_RATE" -c 16 -t 30s -m POST -H "Authorization: Bearer $2" -H "Content-Type: application/json" \
    -Z "$4" "http://127.0.0.1:$PORT/api/v1/meetings/$3/checkins" >"$WORK/oha_$1.json" 2>"$WORK/oha_$1.err" || true
}
step_flood() {
  local dir=$WORK/flood FPROV ORG OBS CP REPORT_URL PAGE_URL R_ID P_ID PEAK AFTER V
  local B50 B99 BTOT BFAIL BRPS BST F50 F99 FTOT FFAIL FRPS FST FERR
  local R50 ROK RTOT RRPS RST RERR G50 GOK GTOT GRPS GST GERR
  mkdir -p "$dir"
  python3 "$BENCH/setup_api.py" --api "http://127.0.0.1:$PORT/api/v1" --token "$NTOKEN" --out "$dir" --tag flood --only-online
  FPROV=$(. "$dir/ids.env" && echo "$PROVINCE_ID")
  ORG=$(token "$NURL" organizer bench-door "$FPROV")
  OBS=$(token "$NURL" observer bench-flood)
  CP=$(cat "$dir/cp_meeting.txt")
  REPORT_URL="http://127.0.0.1:$PORT/api/v1/reports/attendance?election_id=$NELECTION&group_by=region"
  PAGE_URL="http://127.0.0.1:$PORT/api/v1/meetings?limit=500"
  curl -s -m 120 -o /dev/null -H "Authorization: Bearer $OBS" "$PAGE_URL"
  log "flood: check-ins alone, $FLOOD_CHECKIN_RATE/s for ${FLOOD_DURATION}s"
  oha_checkins flood_checkin_alone "$ORG" "$CP" "$dir/cp_bodies.txt"
  log "flood: reports (c=$FLOOD_REPORT_CONC) and limit=500 pages (c=$FLOOD_PAGE_CONC) from one observer token, check-ins again"
  start_sampler "$WORK/rss_flood.txt"
  timeout $((FLOOD_DURATION + 50)) "$OHA" --no-tui --output-format json -z "$((FLOOD_DURATION + 10))s" -c "$FLOOD_REPORT_CONC" -t 30s \
    -H "Authorization: Bearer $OBS" "$REPORT_URL" >"$WORK/oha_flood_reports.json" 2>"$WORK/oha_flood_reports.err" &
  R_ID=$!
  timeout $((FLOOD_DURATION + 50)) "$OHA" --no-tui --output-format json -z "$((FLOOD_DURATION + 10))s" -c "$FLOOD_PAGE_CONC" -t 30s \
    -H "Authorization: Bearer $OBS" "$PAGE_URL" >"$WORK/oha_flood_pages.json" 2>"$WORK/oha_flood_pages.err" &
  P_ID=$!
  BG_PIDS+=("$R_ID" "$P_ID")
  sleep 5
  oha_checkins flood_checkin_flooded "$ORG" "$CP" "$dir/cp_bodies.txt"
  wait "$R_ID" "$P_ID" || true
  PEAK=$(stop_sampler "$WORK/rss_flood.txt")
  note_peak "${PEAK:-0}" "flood"
  sleep 10
  AFTER=$(rss_kib "$SVC_PID")
  IFS=$'\t' read -r B50 B99 _ BTOT BFAIL BRPS BST _ <<<"$(oha_summary "$WORK/oha_flood_checkin_alone.json")"
  IFS=$'\t' read -r F50 F99 _ FTOT FFAIL FRPS FST FERR <<<"$(oha_summary "$WORK/oha_flood_checkin_flooded.json")"
  IFS=$'\t' read -r R50 _ ROK RTOT _ RRPS RST RERR <<<"$(oha_summary "$WORK/oha_flood_reports.json")"
  IFS=$'\t' read -r G50 _ GOK GTOT _ GRPS GST GERR <<<"$(oha_summary "$WORK/oha_flood_pages.json")"
  V=$(le "$(awk -v f="$F99" -v b="$B99" 'BEGIN { if (b > 0) printf "%.2f", f / b }')" 5)
  [ "$FFAIL" = 0 ] || V="**missed**"
  row starve "organizer check-ins at $FLOOD_CHECKIN_RATE/s (c=16): alone vs during the flood" \
    "flooded: p50 $(printf '%.2f' "$F50") ms, p99 $(printf '%.2f' "$F99") ms, $FFAIL of $FTOT failed ($FST; errors $FERR), achieved $FRPS/s" \
    "alone: p50 $(printf '%.2f' "$B50") ms, p99 $(printf '%.2f' "$B99") ms, $BFAIL of $BTOT failed ($BST), achieved $BRPS/s" \
    "p99 $(awk -v f="$F99" -v b="$B99" 'BEGIN { if (b > 0) printf "%.1f×", f / b; else print "n/a" }')" \
    "0 failed, p99 ≤ 5× alone" "$V" "the flood (below) starts 5 s before the check-ins and ends after them; same machine: the flood's clients take CPU too"
  row starve "the flood: one national observer token, closed loop, $((FLOOD_DURATION + 10)) s" \
    "reports: $RRPS/s, $ROK of $RTOT 2xx ($RST; errors $RERR), p50 $(printf '%.0f' "$R50") ms; pages: $GRPS/s, $GOK of $GTOT 2xx ($GST; errors $GERR), p50 $(printf '%.0f' "$G50") ms" \
    "" "" "(info)" "(info)" "GET /api/v1/reports/attendance?election_id=…&group_by=region c=$FLOOD_REPORT_CONC; GET /api/v1/meetings?limit=500 c=$FLOOD_PAGE_CONC"
  row mem_load "VmRSS peak during the flood / 10 s after it" "$(mib "${PEAK:-0}") / $(mib "$AFTER") MiB" "" "" "< 256 MiB" "$(lt "$(mib "${PEAK:-0}")" 256)" "sampled every 0.5 s"
}

step_email() {
  local PROV T FAN QUEUED left CHECK SVC_RATE AVG_BYTES LL L1 L2 L3 L4 L5
  # the province with the most active candidates
  PROV=$(psql_db "$NDB" -c "SELECT c.province_id FROM candidates c WHERE c.status = 'active' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
  T=$(psql_db "$NDB" -c "SELECT now()")
  FAN=$(curl -s -m 120 -o "$WORK/fanout1.json" -w '%{http_code} %{time_total}' -X POST -H "Authorization: Bearer $NTOKEN" \
    "http://127.0.0.1:$PORT/api/v1/elections/$NELECTION/schedule-emails?region_id=$PROV")
  QUEUED=$(jq .queued "$WORK/fanout1.json")
  psql_db "$NDB" -c "SELECT id FROM outbox WHERE kind = 'schedule' AND created_at >= '$T'" >"$WORK/fanout1_ids.txt"
  for _ in $(seq 1 300); do
    left=$(psql_db "$NDB" -c "SELECT count(*) FROM outbox WHERE kind = 'schedule' AND created_at >= '$T' AND status <> 'sent'")
    [ "$left" = 0 ] && break
    sleep 1
  done
  sleep 1
  CHECK=$(python3 "$BENCH/email_check.py" "$WORK/sink_fanout.log" "$WORK/fanout1_ids.txt" || true)
  SVC_RATE=$(sed -E 's/.*rate_per_s=([0-9.]+).*/\1/' <<<"$CHECK")
  AVG_BYTES=$(sed -E 's/.*avg_bytes=([0-9]+).*/\1/' <<<"$CHECK")
  log "fan-out: POST $FAN, $CHECK"
  # the bare loop: same sink, same count, same message size
  (cd "$BENCH/lettre-loop" && CARGO_TARGET_DIR="${LETTRE_TARGET:-$WORK/lettre-target}" cargo build --release -q) >"$WORK/lettre_build.txt" 2>&1
  LL=${LETTRE_TARGET:-$WORK/lettre-target}/release/lettre-loop
  L1=$(timeout 300 "$LL" --port "$SMTP_PORT" --count "$QUEUED" --size "$AVG_BYTES" --concurrency 1)
  L2=$(timeout 300 "$LL" --port "$SMTP_PORT" --count "$QUEUED" --size "$AVG_BYTES" --concurrency 1 --no-pool)
  L3=$(timeout 300 "$LL" --port "$SMTP_PORT" --count "$QUEUED" --size "$AVG_BYTES" --concurrency 8 --no-pool)
  L4=$(timeout 300 "$LL" --port "$SMTP_PORT" --count "$QUEUED" --size "$AVG_BYTES" --concurrency 1 --nodelay)
  L5=$(timeout 300 "$LL" --port "$SMTP_PORT" --count "$QUEUED" --size "$AVG_BYTES" --concurrency 8 --nodelay)
  rate() { sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$1"; }
  row email "fan-out of one province (msgs/s at the sink)" "$SVC_RATE" "$(rate "$L1") (lettre loop, sequential, pooled connection)" "$(pct "$SVC_RATE" "$(rate "$L1")")" "≥ 50%" "$(ge "$(pctn "$SVC_RATE" "$(rate "$L1")")" 50)" "$QUEUED emails of ~$AVG_BYTES bytes; POST answered $FAN s; $CHECK"
  row email "lettre loop, same shape as the service (8 in flight, new connection each)" "$SVC_RATE" "$(rate "$L3")" "$(pct "$SVC_RATE" "$(rate "$L3")")" "(info)" "(info)" "sequential with a new connection per message: $(rate "$L2")/s"
  row email "lettre loop with TCP_NODELAY (new connection each), sequential / 8 in flight" "" "$(rate "$L4") / $(rate "$L5")" "" "(info)" "(info)" "lettre writes the body and the final CRLF.CRLF separately: without TCP_NODELAY the second write waits for the sink's delayed ACK (~40 ms)"
}

step_crash() {
  local PROVS P2 P3 T N2 got claimed AT_KILL KILL_T KILLED_AT UP_AT left RECOVER_S CHECK2 INFLIGHT_N INFLIGHT_S V
  local N3 RETRIED DRAIN_S CHECK3 FAILED miss dup
  log "crash: kill -9 during a fan-out"
  PROVS=$(psql_db "$NDB" -c "SELECT c.province_id FROM candidates c WHERE c.status = 'active' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 3 OFFSET 1")
  P2=$(sed -n 1p <<<"$PROVS"); P3=$(sed -n 2p <<<"$PROVS")
  T=$(psql_db "$NDB" -c "SELECT now()")
  curl -s -m 120 -o "$WORK/fanout2.json" -X POST -H "Authorization: Bearer $NTOKEN" \
    "http://127.0.0.1:$PORT/api/v1/elections/$NELECTION/schedule-emails?region_id=$P2"
  N2=$(jq .queued "$WORK/fanout2.json")
  psql_db "$NDB" -c "SELECT id FROM outbox WHERE kind = 'schedule' AND created_at >= '$T'" >"$WORK/fanout2_ids.txt"
  # kill once about a fifth has arrived and while the worker holds a claim (a lease), so that
  # what the kill leaves in flight is there to be measured
  for _ in $(seq 1 600); do
    got=$(python3 "$BENCH/email_check.py" "$WORK/sink_fanout.log" "$WORK/fanout2_ids.txt" | sed -E 's/.*distinct=([0-9]+).*/\1/' || true)
    if [ "${got:-0}" -ge $((N2 / 5)) ]; then
      claimed=$(psql_db "$NDB" -c "SELECT count(*) FROM outbox WHERE kind = 'schedule' AND created_at >= '$T'
          AND status = 'pending' AND next_attempt_at > now() + interval '10 seconds'")
      [ "${claimed:-0}" -gt 0 ] && break
    fi
    sleep 0.05
  done
  KILL_T=$EPOCHREALTIME
  kill -9 "$SVC_PID"
  wait "$SVC_PID" 2>/dev/null || true
  SVC_PID=""
  AT_KILL=$(python3 "$BENCH/email_check.py" "$WORK/sink_fanout.log" "$WORK/fanout2_ids.txt" | sed -E 's/.*distinct=([0-9]+).*/\1/' || true)
  KILLED_AT=$(date +%s)
  # in flight = claimed by the killed worker: pending with a lease well ahead
  psql_db "$NDB" -c "SELECT id FROM outbox WHERE kind = 'schedule' AND created_at >= '$T' AND status = 'pending'
      AND next_attempt_at > now() + interval '10 seconds'" >"$WORK/crash_inflight_ids.txt"
  INFLIGHT_N=$(grep -c . "$WORK/crash_inflight_ids.txt" || true)
  start_service "$(db_url "$NDB")" SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
  UP_AT=$EPOCHREALTIME
  # claimed rows come due again when their lease ends
  for _ in $(seq 1 480); do
    left=$(psql_db "$NDB" -c "SELECT count(*) FROM outbox WHERE kind = 'schedule' AND created_at >= '$T' AND status <> 'sent'")
    [ "$left" = 0 ] && break
    sleep 1
  done
  RECOVER_S=$(( $(date +%s) - KILLED_AT ))
  sleep 1
  INFLIGHT_S=$(psql_db "$NDB" -c "SELECT CASE WHEN count(*) = count(sent_at) THEN round((extract(epoch FROM max(sent_at)) - $UP_AT)::numeric, 1)::text ELSE 'never' END
      FROM outbox WHERE id IN (SELECT unnest(string_to_array('$(paste -sd, "$WORK/crash_inflight_ids.txt")', ','))::uuid)")
  [ "$INFLIGHT_N" = 0 ] && INFLIGHT_S="n/a (nothing was in flight)"
  CHECK2=$(python3 "$BENCH/email_check.py" "$WORK/sink_fanout.log" "$WORK/fanout2_ids.txt" "$KILL_T" || true)
  miss=$(sed -E 's/.*missing=([0-9]+).*/\1/' <<<"$CHECK2"); dup=$(sed -E 's/.*duplicates=([0-9]+).*/\1/' <<<"$CHECK2")
  V=met; [ "$miss" = 0 ] && [ "$dup" = 0 ] || V="**missed**"
  row mail "kill -9 of the service during a fan-out of $N2 emails" "$(sed -E 's/.*(distinct=[0-9]+ missing=[0-9]+ duplicates=[0-9]+).*/\1/' <<<"$CHECK2")" "" "" "0 missing, 0 duplicates" "$V" \
    "killed after $AT_KILL had arrived; all rows sent ${RECOVER_S} s after the kill (unsent: $left); a resend carries the same Message-ID; duplicates the sink logged only after the kill (from bytes already in its socket): $(sed -E 's/.*dup_logged_after_kill=([0-9]+).*/\1/' <<<"$CHECK2")"
  row kill9 "emails in flight at the kill -9 (claimed by the dead worker): sent after the restart" "$INFLIGHT_N in flight; the last sent ${INFLIGHT_S} s after the restart" "" "" "≤ 60 s" \
    "$(le "$(grep -oE '^[0-9.]+' <<<"$INFLIGHT_S" || echo '')" 60)" "in flight = pending with next_attempt_at (the lease) > now() + 10 s right after the kill"
  log "kill -9: $CHECK2; recovered in ${RECOVER_S}s, in flight ($INFLIGHT_N) sent ${INFLIGHT_S}s after the restart"

  log "crash: SMTP sink down, then up"
  stop_sink
  T=$(psql_db "$NDB" -c "SELECT now()")
  curl -s -m 120 -o "$WORK/fanout3.json" -X POST -H "Authorization: Bearer $NTOKEN" \
    "http://127.0.0.1:$PORT/api/v1/elections/$NELECTION/schedule-emails?region_id=$P3"
  N3=$(jq .queued "$WORK/fanout3.json")
  psql_db "$NDB" -c "SELECT id FROM outbox WHERE kind = 'schedule' AND created_at >= '$T'" >"$WORK/fanout3_ids.txt"
  sleep 20
  RETRIED=$(psql_db "$NDB" -c "SELECT count(*) FROM outbox WHERE kind = 'schedule' AND created_at >= '$T' AND attempts > 0 AND status = 'pending'")
  UP_AT=$(date +%s)
  start_sink "$WORK/sink_outage.log"
  for _ in $(seq 1 300); do
    left=$(psql_db "$NDB" -c "SELECT count(*) FROM outbox WHERE kind = 'schedule' AND created_at >= '$T' AND status <> 'sent'")
    [ "$left" = 0 ] && break
    sleep 1
  done
  DRAIN_S=$(( $(date +%s) - UP_AT ))
  sleep 1
  CHECK3=$(python3 "$BENCH/email_check.py" "$WORK/sink_outage.log" "$WORK/fanout3_ids.txt" || true)
  FAILED=$(psql_db "$NDB" -c "SELECT count(*) FROM outbox WHERE status = 'failed'")
  miss=$(sed -E 's/.*missing=([0-9]+).*/\1/' <<<"$CHECK3"); dup=$(sed -E 's/.*duplicates=([0-9]+).*/\1/' <<<"$CHECK3")
  V=met; [ "$miss" = 0 ] && [ "$dup" = 0 ] || V="**missed**"
  row mail "SMTP sink down 20 s, then up, fan-out of $N3 emails" "$(sed -E 's/.*(distinct=[0-9]+ missing=[0-9]+ duplicates=[0-9]+).*/\1/' <<<"$CHECK3")" "" "" "0 missing, 0 duplicates" "$V" \
    "$RETRIED rows waiting for a retry during the outage; all sent ${DRAIN_S} s after the sink came back (unsent: $left); failed rows: $FAILED"
  log "outage: $CHECK3; drained in ${DRAIN_S}s"
}

# ==========================================================================================
trap cleanup EXIT
cluster_init
GIT_REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(cd "$ROOT" && git status --porcelain -- src migrations Cargo.toml 2>/dev/null | wc -l)
PG_SETTINGS=$(psql_db postgres -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
  WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections',
                 'work_mem', 'max_wal_size', 'checkpoint_timeout', 'effective_cache_size', 'jit')")
HEADER="# bench results — $(date -u +%Y-%m-%dT%H:%MZ)

Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr). Load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared).
PostgreSQL: $(psql_db postgres -c 'select version()' | cut -d' ' -f1,2), the bench's own cluster (initdb in $PGD, 127.0.0.1:$PGPORT): $PG_SETTINGS.
Binary: $BIN_NOTE, built $(date -u -r "$REL" +%Y-%m-%dT%H:%MZ), sha256 $(sha256sum "$REL" | cut -c1-12); work tree commit $GIT_REV ($GIT_DIRTY changed files under src/ migrations/ Cargo.toml)${SVC_ENV:+; service settings: $SVC_ENV}.
Command: STEPS=\"$STEPS\" DURATION=$DURATION CHECKIN_CONC=\"$CHECKIN_CONC\" CREATE_CONC=\"$CREATE_CONC\" THREADS=$THREADS bench/run.sh; wrk $( (wrk -v 2>&1 || true) | head -1 | cut -d' ' -f2), $("$OHA" --version 2>/dev/null || echo 'no oha'), $(pgbench --version)."
echo "$HEADER" >"$RESULTS"

declare -A STEP_TIME=()
for CURRENT_STEP in "${STEP_ORDER[@]}"; do
  has_step "$CURRENT_STEP" || continue
  use_data "${STEP_DATA[$CURRENT_STEP]}"
  echo "=== $(date -u +%FT%TZ) step $CURRENT_STEP" >>"$WORK/service.log"
  log "step $CURRENT_STEP"
  t=$SECONDS
  [ "$PSS" = 1 ] && psql_db postgres -c "SELECT pg_stat_statements_reset()" >/dev/null
  "step_$CURRENT_STEP"
  [ "$PSS" = 1 ] && pss_dump >"$WORK/pss_$CURRENT_STEP.txt"
  STEP_TIME[$CURRENT_STEP]="$((SECONDS - t)) s (load $(cut -d' ' -f1 /proc/loadavg))"
done
CURRENT_STEP=teardown
[ -z "$CURRENT_DATA" ] || "dataset_down_$CURRENT_DATA"
if [ "$RSS_PEAK" -gt 0 ]; then
  row mem_load "VmRSS peak under load (the highest of: check-in runs, creation runs, flood)" "$(mib "$RSS_PEAK") MiB ($RSS_PEAK_FROM)" "" "" "< 256 MiB" "$(lt "$(mib "$RSS_PEAK")" 256)" "sampled every 0.5 s"
fi

# 500s: every answer the load tools counted, and the service's own log
FIVE_LOAD=0
FIVE_WHERE=""
for f in "$WORK"/wrk_*.txt; do
  [ -e "$f" ] || continue
  n=$(awk '/^STATUS/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == 500) s += kv[2] } } END { print s + 0 }' "$f")
  if [ "$n" -gt 0 ]; then FIVE_LOAD=$((FIVE_LOAD + n)); FIVE_WHERE+=" $(basename "$f" .txt)=$n"; fi
done
for f in "$WORK"/oha_*.json; do
  [ -e "$f" ] || continue
  n=$(jq -r '.statusCodeDistribution["500"] // 0' "$f" 2>/dev/null || echo 0)
  if [ "$n" -gt 0 ]; then FIVE_LOAD=$((FIVE_LOAD + n)); FIVE_WHERE+=" $(basename "$f" .json)=$n"; fi
done
FIVE_LOG=$(grep -c 'internal error' "$WORK/service.log" 2>/dev/null || true)
POOL_LOG=$(grep -c 'pool exhausted' "$WORK/service.log" 2>/dev/null || true)
V=met; [ "$FIVE_LOAD" = 0 ] && [ "${FIVE_LOG:-0}" = 0 ] || V="**missed**"
row no500 "500 answers seen by the load tools (wrk, oha) / 'internal error' lines in the service log" "$FIVE_LOAD / ${FIVE_LOG:-0}" "" "" "0" "$V" \
  "${FIVE_WHERE:+by run:$FIVE_WHERE; }'database pool exhausted' log lines: ${POOL_LOG:-0} (service stderr, RUST_LOG=warn; the log marks each step)"

# every target gets a row; those no step of this run measured say so
for t in "${TARGETS[@]}"; do
  IFS='|' read -r key label target by <<<"$t"
  cut -f3 "$ROWS" | grep -qx "$key" || row "$key" "not measured in this run" "" "" "" "$target" "not run" "measured by: $by"
done

{
  echo
  echo "| §7 target | measurement | service | baseline | ratio | target | verdict | notes |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  sort -t$'\t' -k1,1n -k2,2n "$ROWS" | cut -f4
  echo
  echo "Verdicts: $(grep -c '| met |' "$ROWS" || true) met, $(grep -c '| \*\*missed\*\* |' "$ROWS" || true) missed, $(grep -c '| not run |' "$ROWS" || true) not run."
  echo "Run took $(( (SECONDS - RUN_T0) / 60 )) min $(( (SECONDS - RUN_T0) % 60 )) s (steps: $(for s in "${STEP_ORDER[@]}"; do if [ -n "${STEP_TIME[$s]:-}" ]; then printf '%s %s, ' "$s" "${STEP_TIME[$s]}"; fi; done | sed 's/, $//')). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Raw outputs: $WORK."
  if [ -s "$WORK/restart_timeline.md" ]; then
    echo
    echo "## restart step: failed requests against the times the database went down and came back"
    echo
    echo "Times in seconds from the start of the load; \"up\" = the first pg_isready that accepted after the fault. Events: $(awk 'NR == 1 { t0 = $1 } { printf "%s%s %+.2f s", (NR > 1 ? ", " : ""), $2, $1 - t0 }' "$WORK/restart_events.txt")."
    echo
    cat "$WORK/restart_timeline.md"
  fi
} >>"$RESULTS"
log "done: $RESULTS"
cat "$RESULTS"
