#!/usr/bin/env bash
# Runs the SPEC §7 benchmarks side by side and writes a results table.
# See bench/README.md. Every load is bounded in time; every wait is bounded.
#
#   bench/run.sh                 # everything (≈ 25 minutes on a 2-core machine)
#   STEPS="checkin create" bench/run.sh
#
# Steps (STEPS, space-separated; default all, in this order):
#   checkin   1. check-in throughput vs pgbench (c=16, 50), capacity checks
#   create    2. meeting creation vs pgbench inserts, double-booking checks
#   latency   5. p50/p99 at half of saturation (oha, constant rate)
#   profile      statements per request (server log of this database only)
#   national  3. national data set load time, attendance roll-up vs bare SQL
#   email     4. schedule-email fan-out vs a bare lettre loop
#   crash     7. kill -9 during a fan-out; SMTP sink down then up
# Memory (6) is sampled throughout. Needs: target/release/voter-meetings, psql, pgbench,
# wrk, hyperfine, oha, python3 with aiosmtpd, cargo (for bench/lettre-loop).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
WORK=${WORK:-/tmp/vm_bench_run}
DURATION=${DURATION:-15}          # seconds per throughput measurement
CHECKIN_CONC=${CHECKIN_CONC:-"16 50"}
CREATE_CONC=${CREATE_CONC:-"16"}
THREADS=${THREADS:-2}             # wrk threads and pgbench -j
PORT=${PORT:-18080}
SMTP_PORT=${SMTP_PORT:-18025}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
export PGOPTIONS="${PGOPTIONS:--c client_min_messages=warning}"
DB=vm_bench
NDB=vm_bench_national
STEPS=${STEPS:-"checkin create latency profile national email crash"}
KEEP_DBS=${KEEP_DBS:-0}           # 1: leave vm_bench* databases for inspection

mkdir -p "$WORK"
rm -rf "$WORK"/mail "$WORK"/*.txt "$WORK"/*.log "$WORK"/*.md 2>/dev/null || true
mkdir -p "$WORK/mail"
RESULTS=$WORK/results.md
LOG=$WORK/run.log
exec > >(tee -a "$LOG") 2>&1

SVC_PID=""
SINK_PID=""
SAMPLER_PID=""

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
row() { local out="|" a; for a in "$@"; do out+=" ${a//|//} |"; done; echo "$out" >>"$RESULTS"; }
has_step() { [[ " $STEPS " == *" $1 "* ]]; }
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" "${@:2}"; }

cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  stop_service || true
  stop_sink || true
  if [ "$KEEP_DBS" != 1 ]; then
    dropdb --if-exists "$DB" 2>/dev/null || true
    dropdb --if-exists "$NDB" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# --- the binary: built from the work tree if older than it (BUILD=auto), then copied, so a
# rebuild by someone else mid-run changes nothing ------------------------------------------
BUILD=${BUILD:-auto}               # auto: build when src/ etc. are newer; 1: always; 0: never
REL=$ROOT/target/release/voter-meetings
stale() { [ ! -x "$REL" ] || [ -n "$(find "$ROOT/src" "$ROOT/migrations" "$ROOT/templates" "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" -newer "$REL" -print -quit 2>/dev/null)" ]; }
if [ "$BUILD" = 1 ] || { [ "$BUILD" = auto ] && stale; }; then
  echo "building: cargo build --release" >&2
  (cd "$ROOT" && cargo build --release) >&2
fi
[ -x "$REL" ] || { echo "build first: cargo build --release" >&2; exit 1; }
if stale; then echo "WARNING: $REL is older than the sources (BUILD=0)" >&2; BIN_STALE=" — OLDER THAN THE SOURCES"; fi
cp "$REL" "$WORK/voter-meetings"
BIN=$WORK/voter-meetings
for tool in psql pgbench wrk hyperfine curl jq python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
OHA=$(command -v oha || echo "$HOME/.cargo/bin/oha")

svc_env() { # DATABASE_URL [VAR=value…]
  env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$1" LISTEN_ADDR="127.0.0.1:$PORT" RUST_LOG=warn \
    MAIL_DIR="$WORK/mail" "${@:2}"
}

start_service() { # DATABASE_URL [VAR=value…]
  # exec all the way down: $! is the service's own pid (for /proc, kill -9)
  (cd "$ROOT" && exec env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$1" LISTEN_ADDR="127.0.0.1:$PORT" \
     RUST_LOG=warn MAIL_DIR="$WORK/mail" "${@:2}" "$BIN" serve >>"$WORK/service.log" 2>&1) &
  SVC_PID=$!
  for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
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
  SVC_PID=""
}

start_sink() { # LOGFILE
  python3 "$BENCH/smtp_sink.py" --port "$SMTP_PORT" --log "$1" --max-seconds 3600 >>"$WORK/sink.out" 2>&1 &
  SINK_PID=$!
  for _ in $(seq 1 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT) 2>/dev/null && return 0
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
  # its sending does not share the CPU with the next measurement; echoes the seconds waited
  local t0=$SECONDS
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

token() { # DATABASE_URL
  (cd "$ROOT" && svc_env "$1" "$BIN" token create --role admin --name bench | tail -n 1)
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
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }

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

# ------------------------------------------------------------------------------------------
GIT_REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(cd "$ROOT" && git status --porcelain -- src migrations Cargo.toml 2>/dev/null | wc -l)
{
  echo "# bench results — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(psql -X -At -d postgres -c 'select version()' | cut -d' ' -f1,2)."
  echo "Commit $GIT_REV ($GIT_DIRTY changed files under src/ migrations/ Cargo.toml). Binary: target/release/voter-meetings built $(date -u -r "$REL" +%Y-%m-%dT%H:%MZ)${BIN_STALE:-}."
  echo "DURATION=${DURATION}s per measurement, wrk/pgbench threads=$THREADS, synchronous_commit=$(psql -X -At -d postgres -c 'show synchronous_commit'). Load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)."
  echo
  echo "| measurement | service | PostgreSQL alone | ratio | target | notes |"
  echo "| --- | --- | --- | --- | --- | --- |"
} >"$RESULTS"

# ==========================================================================================
# vm_bench: the API-created data set for steps 1, 2, 5
if has_step checkin || has_step create || has_step latency || has_step profile; then
  log "fresh database $DB"
  dropdb --if-exists "$DB"
  URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
  (cd "$ROOT" && svc_env "$URL" "$BIN" migrate) >/dev/null
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
  sleep 3
  RSS_IDLE_DATA=$(rss_kib "$SVC_PID")
  log "RSS idle after the data set: $(mib "$RSS_IDLE_DATA") MiB"
  RSS_PEAK=0
fi

# ==========================================================================================
if has_step checkin; then
  log "step 1: check-ins vs pgbench"
  wrk_run warmup 50 3 "$BENCH/wrk/checkin.lua" "$TOKEN" "$WORK/checkin_targets.txt" >/dev/null
  for c in $CHECKIN_CONC; do
    start_sampler "$WORK/rss_checkin_c$c.txt"
    cpu_begin
    W=$(wrk_run checkin_c$c "$c" "$DURATION" "$BENCH/wrk/checkin.lua" "$TOKEN" "$WORK/checkin_targets.txt")
    WCPU=$(cpu_end "$(wrk_requests checkin_c$c)" "$(cat "$WORK/wrk_checkin_c${c}_cpu.txt")")
    R=$(stop_sampler "$WORK/rss_checkin_c$c.txt")
    [ "${R:-0}" -gt "$RSS_PEAK" ] && RSS_PEAK=$R
    P=$(pgbench_run checkin_c$c "$DB" "$c" "$DURATION" prepared "$BENCH/pgbench/checkin.sql")
    log "check-in c=$c: wrk $W req/s, pgbench $P tps, statuses $(wrk_status checkin_c$c), peak RSS $(mib "$R") MiB"
    eval "CHECKIN_RPS_$c=$W"
    row "check-in, c=$c (req/s vs tx/s)" "$W" "$P (pgbench -M prepared)" "$(pct "$W" "$P")" "≥ 60%" \
      "statuses: $(wrk_status checkin_c$c); non-2xx $(wrk_non2xx checkin_c$c); wrk $(wrk_lat checkin_c$c). $WCPU. pgbench: $(cat "$WORK/pgbench_checkin_c${c}_cpu.txt")"
  done
  first_c=${CHECKIN_CONC%% *}
  W=$(eval echo "\$CHECKIN_RPS_$first_c")
  S=$(pgbench_run checkin_simple_c$first_c "$DB" "$first_c" "$DURATION" simple "$BENCH/pgbench/checkin.sql")
  row "check-in, c=$first_c, vs pgbench simple protocol" "$W" "$S (pgbench -M simple)" "$(pct "$W" "$S")" "(info)" ""
  E1=$(pgbench_run checkin_svcsql_extended_c$first_c "$DB" "$first_c" "$DURATION" extended "$BENCH/pgbench/checkin_service_sql.sql")
  E2=$(pgbench_run checkin_svcsql_prepared_c$first_c "$DB" "$first_c" "$DURATION" prepared "$BENCH/pgbench/checkin_service_sql.sql")
  psql_db "$DB" -f "$BENCH/pgbench/checkin_function_setup.sql" >/dev/null
  E3=$(pgbench_run checkin_function_c$first_c "$DB" "$first_c" "$DURATION" prepared "$BENCH/pgbench/checkin_function.sql")
  row "check-in, c=$first_c: pgbench running the service's own check-in SQL" "$W" "$E1 (unprepared, as diesel sends it) / $E2 (prepared) / $E3 (in a PL/pgSQL function, prepared SELECT)" "$(pct "$W" "$E1") / $(pct "$W" "$E2") / $(pct "$W" "$E3")" "(info)" "the database's share of the gap. $(cat "$WORK/pgbench_checkin_svcsql_extended_c${first_c}_cpu.txt") / $(cat "$WORK/pgbench_checkin_svcsql_prepared_c${first_c}_cpu.txt") / $(cat "$WORK/pgbench_checkin_function_c${first_c}_cpu.txt")"
  OVER=$(psql_db "$DB" -c "SELECT count(*) FROM meeting_sites WHERE present > effective_capacity OR present < 0")
  TOTAL=$(psql_db "$DB" -c "SELECT sum(present) FROM meeting_sites s JOIN vm_bench_checkin_in i ON i.site_id = s.id")
  row "check-in correctness: sites with present > effective_capacity" "$OVER" "" "" "0" "sum(present) over the 100 sites = $TOTAL (API + pgbench)"

  # exact capacity under concurrency: a capacity-50 site, 16 clients for 3 s
  wrk_run small_site 16 3 "$BENCH/wrk/checkin.lua" "$TOKEN" "$WORK/small_target.txt" >/dev/null
  read -r SMALL_M SMALL_S <"$WORK/small_target.txt"
  SMALL_PRESENT=$(psql_db "$DB" -c "SELECT present || '/' || effective_capacity FROM meeting_sites WHERE id = '$SMALL_S'")
  row "exact capacity: 16 clients × 3 s on a capacity-50 site" "statuses $(wrk_status small_site)" "" "" "exactly 50 × 200, rest 409" "present/capacity after: $SMALL_PRESENT"
fi

# ==========================================================================================
if has_step create; then
  log "step 2: meeting creation vs pgbench inserts"
  drain_outbox "$DB" >/dev/null
  TITLE='Hội nghị tiếp xúc cử tri (bench)'
  for c in $CREATE_CONC; do
    FIRST_SLOT=$(psql_db "$DB" -c "SELECT coalesce(max(floor((extract(epoch FROM starts_at) - $CREATE_BASE_EPOCH) / 7200))::int, -1) + 1 FROM meetings WHERE title = '$TITLE'")
    BEFORE=$(psql_db "$DB" -c "SELECT count(*) FROM meetings WHERE title = '$TITLE'")
    start_sampler "$WORK/rss_create_c$c.txt"
    cpu_begin
    W=$(wrk_run create_c$c "$c" "$DURATION" "$BENCH/wrk/create_meeting.lua" "$TOKEN" "$WORK/create_pairs.txt" \
      "$ELECTION_ID" "$CREATE_BASE_EPOCH" "$FIRST_SLOT" "$THREADS")
    WCPU=$(cpu_end "$(wrk_requests create_c$c)" "$(cat "$WORK/wrk_create_c${c}_cpu.txt")")
    R=$(stop_sampler "$WORK/rss_create_c$c.txt")
    [ "${R:-0}" -gt "$RSS_PEAK" ] && RSS_PEAK=$R
    AFTER=$(psql_db "$DB" -c "SELECT count(*) FROM meetings WHERE title = '$TITLE'")
    # the change notices the run queued are sent before pgbench runs, not during
    log "waited $(drain_outbox "$DB") s for the outbox worker to send the run's change notices"
    # payload of the rows the API wrote besides the meeting (for create_meeting_full.sql)
    psql_db "$DB" -c "DROP TABLE IF EXISTS vm_bench_payload; CREATE TABLE vm_bench_payload AS
      SELECT (SELECT after FROM audit_log WHERE action = 'create' AND entity_type = 'meeting' ORDER BY id DESC LIMIT 1) AS audit_after,
             o.subject, o.body_text, o.body_html, o.ics
        FROM outbox o WHERE o.kind = 'meeting_change' ORDER BY o.id DESC LIMIT 1"
    P=$(pgbench_run create_c$c "$DB" "$c" "$DURATION" prepared "$BENCH/pgbench/create_meeting.sql")
    PF=$(pgbench_run create_full_c$c "$DB" "$c" "$DURATION" prepared "$BENCH/pgbench/create_meeting_full.sql")
    log "create c=$c: wrk $W req/s ($((AFTER - BEFORE)) meetings), pgbench $P tps, full $PF tps; statuses $(wrk_status create_c$c)"
    row "meeting creation, c=$c (req/s vs tx/s)" "$W" "$P (4 tables)" "$(pct "$W" "$P")" "≥ 40%" \
      "$((AFTER - BEFORE)) meetings created; statuses: $(wrk_status create_c$c); wrk $(wrk_lat create_c$c). $WCPU (includes the outbox worker writing the change notices). pgbench: $(cat "$WORK/pgbench_create_c${c}_cpu.txt")"
    row "meeting creation, c=$c, vs pgbench incl. audit + outbox rows" "$W" "$PF (6 tables)" "$(pct "$W" "$PF")" "(info)" ""
  done
  # the same candidate, venue and time from 16 clients at once: one 201, the rest 409
  wrk_run same_slot 16 3 "$BENCH/wrk/same_slot.lua" "$TOKEN" "$WORK/conflict_pair.txt" "$ELECTION_ID" "$CREATE_BASE_EPOCH" >/dev/null
  row "same slot from 16 clients × 3 s" "statuses $(wrk_status same_slot)" "" "" "one 201, rest 409, no 5xx" ""
  DOUBLE_C=$(psql_db "$DB" -c "SELECT count(*) FROM meeting_candidates a JOIN meeting_candidates b
      ON a.province_id = b.province_id AND a.candidate_id = b.candidate_id AND a.meeting_id < b.meeting_id
     AND a.busy && b.busy WHERE a.active AND b.active")
  DOUBLE_V=$(psql_db "$DB" -c "SELECT count(*) FROM meeting_sites a JOIN meeting_sites b
      ON a.province_id = b.province_id AND a.venue_id = b.venue_id AND a.id < b.id
     AND a.during && b.during WHERE a.active AND b.active")
  row "double bookings after the runs (candidates / venues)" "$DOUBLE_C / $DOUBLE_V" "" "" "0 / 0" "SQL self-joins on busy/during &&"
fi

# ==========================================================================================
if has_step latency; then
  log "step 5: latency at half saturation"
  log "waited $(drain_outbox "$DB") s for the outbox worker to send the creation step's change notices"
  if [ ! -x "$OHA" ]; then
    row "latency at half saturation" "skipped: oha not installed (cargo install oha --locked)" "" "" "" ""
  else
    # saturation of GET, measured here; of check-ins, from step 1 (or measured now)
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
      read -r P50 P99 OK TOT <<<"$(jq -r '[(.latencyPercentiles.p50 * 1000), (.latencyPercentiles.p99 * 1000),
          (.statusCodeDistribution["200"] // 0), ([.statusCodeDistribution[]] | add)] | @tsv' "$WORK/oha_$kind.json" 2>/dev/null || echo "0 0 0 0")"
      RATIO=$(awk -v a="$P99" -v b="$P50" 'BEGIN { if (b > 0) printf "%.1f×", a / b; else print "n/a" }')
      ACH=$(jq -r '.summary.requestsPerSec | floor' "$WORK/oha_$kind.json" 2>/dev/null || echo 0)
      row "latency, $kind at $rate req/s (1/$div of saturation $sat)" "p50 $(printf '%.2f' "$P50") ms, p99 $(printf '%.2f' "$P99") ms" "" "$RATIO" "p99 ≤ 5× p50" "oha -q $rate -c 16 -z ${DURATION}s --latency-correction; achieved $ACH req/s; $OK of $TOT answered 200"
    done
  fi
fi

# ==========================================================================================
if has_step profile; then
  log "profile: statements per request (log_min_duration_statement=0 on $DB only)"
  PGLOG=${PGLOG:-/var/log/postgresql/postgresql-15-main.log}
  if [ -r "$PGLOG" ]; then
    stop_service
    drain_outbox "$DB" >/dev/null
    psql_db "$DB" -c "ALTER DATABASE $DB SET log_min_duration_statement = 0"
    start_service "$URL"
    read -r M S <"$WORK/checkin_targets.txt"
    read -r U V <"$WORK/conflict_pair.txt"
    # warm: token cache and the pool's first connection
    curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/meetings/$M"
    sleep 1
    for kind in checkin get create; do
      OFF=$(stat -c %s "$PGLOG")
      for i in $(seq 1 20); do
        case $kind in
          checkin) curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
                     -d "{\"site_id\":\"$S\",\"count\":1}" "http://127.0.0.1:$PORT/api/v1/meetings/$M/checkins" ;;
          get) curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/meetings/$M" ;;
          create) st=$((CREATE_BASE_EPOCH + 86400 * 5 + i * 7200))
                  curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
                    -d "{\"election_id\":\"$ELECTION_ID\",\"electoral_unit_ids\":[\"$U\"],\"format\":\"in_person\",\"starts_at\":\"$(date -u -d @$st +%FT%TZ)\",\"ends_at\":\"$(date -u -d @$((st + 3600)) +%FT%TZ)\",\"sites\":[{\"venue_id\":\"$V\",\"expected_attendees\":5}]}" \
                    "http://127.0.0.1:$PORT/api/v1/meetings" ;;
        esac
      done
      sleep 1
      tail -c +"$((OFF + 1))" "$PGLOG" | grep -a "@$DB " >"$WORK/profile_$kind.log" || true
      python3 "$BENCH/pglog_profile.py" "$WORK/profile_$kind.log" 20 >"$WORK/profile_$kind.txt"
      row "profile: one $kind request (20 sequential, server log)" "$(head -1 "$WORK/profile_$kind.txt" | sed 's/^per request: //')" "" "" "" "top statements in profile_$kind.txt; includes the outbox worker's polls$([ $kind = create ] && echo ' and the sending of the change notices')"
    done
    psql_db "$DB" -c "ALTER DATABASE $DB RESET log_min_duration_statement"
  else
    row "profile" "skipped: $PGLOG not readable" "" "" "" ""
  fi
fi

if [ -n "${RSS_IDLE_START:-}" ]; then
  row "memory (VmRSS), idle after start / after the data set" "$(mib "$RSS_IDLE_START") / $(mib "$RSS_IDLE_DATA") MiB" "" "" "< 64 MiB" ""
  row "memory (VmRSS), peak under load (check-in, creation runs)" "$(mib "${RSS_PEAK:-0}") MiB" "" "" "< 256 MiB" "sampled every 0.5 s"
fi
if has_step checkin || has_step create || has_step latency || has_step profile; then
  stop_service
  [ "$KEEP_DBS" = 1 ] || dropdb --if-exists "$DB"
fi

# ==========================================================================================
if has_step national || has_step email || has_step crash; then
  log "step 3: national data set"
  dropdb --if-exists "$NDB"
  NURL="postgres://$PGUSER@$PGHOST:$PGPORT/$NDB"
  T0=$(date +%s.%N)
  (cd "$ROOT" && svc_env "$NURL" "$BIN" migrate) >/dev/null
  T1=$(date +%s.%N)
  psql -X -v ON_ERROR_STOP=1 -d "$NDB" -f "$BENCH/national.sql" >"$WORK/national_load.txt" 2>&1
  T2=$(date +%s.%N)
  COUNTS=$(psql_db "$NDB" -F ', ' -c "SELECT (SELECT count(*) FROM regions WHERE level = 'province'),
      (SELECT count(*) FROM regions WHERE level = 'district'), (SELECT count(*) FROM regions WHERE level = 'commune'),
      (SELECT count(*) FROM electoral_units), (SELECT count(*) FROM candidates), (SELECT count(*) FROM venues),
      (SELECT count(*) FROM meetings), (SELECT count(*) FROM meeting_candidates), (SELECT count(*) FROM meeting_sites),
      (SELECT count(*) FROM attendance_reports), (SELECT sum(reported_attendees) FROM meetings)")
  LOAD_S=$(awk -v a="$T1" -v b="$T2" 'BEGIN {printf "%.0f", b - a}')
  SIZE=$(psql_db "$NDB" -c "SELECT pg_size_pretty(pg_database_size('$NDB'))")
  row "national data set: load (SQL generate_series) + VACUUM ANALYZE" "${LOAD_S} s" "" "" "loads on 1 machine" "$SIZE; provinces, districts, communes, units, candidates, venues, meetings, candidate links, sites, reports, attendances = $COUNTS"
  log "national load: ${LOAD_S}s, $COUNTS"
  NTOKEN=$(token "$NURL")
  NELECTION=$(psql_db "$NDB" -c "SELECT id FROM elections LIMIT 1")
  mkdir -p "$WORK/sink"
  start_sink "$WORK/sink_fanout.log"
  start_service "$NURL" SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
  RSS_N_IDLE=$(rss_kib "$SVC_PID")
fi

if has_step national; then
  REPORT_URL="http://127.0.0.1:$PORT/api/v1/reports/attendance?election_id=$NELECTION&group_by=region"
  curl -sf -o "$WORK/report.json" -w '%{http_code} %{size_download} %{time_total}\n' -H "Authorization: Bearer $NTOKEN" "$REPORT_URL" >"$WORK/report_first.txt"
  ROWS=$(jq '.rows | length' "$WORK/report.json")
  API_ATT=$(jq '.totals.attendees' "$WORK/report.json")
  python3 "$BENCH/report_sql.py" "$NELECTION" >"$WORK/report_bare.sql"
  python3 "$BENCH/report_sql.py" "$NELECTION" --only rows >"$WORK/report_rows.sql"
  python3 "$BENCH/report_sql.py" "$NELECTION" --explain >"$WORK/report_explain.sql"
  psql -X -d "$NDB" -f "$WORK/report_explain.sql" >"$WORK/report_explain.txt" 2>&1
  hyperfine -N --warmup 2 --runs 10 --export-json "$WORK/hyperfine_report.json" \
    "curl -sf -o /dev/null -H 'Authorization: Bearer $NTOKEN' '$REPORT_URL'" >"$WORK/hyperfine_report.txt" 2>&1 || true
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
  RATIO=$(awk -v a="$API_MS" -v b="$SQL_MS" 'BEGIN {printf "%.2f×", a / b}')
  row "national attendance roll-up, group_by=region (ms, warm)" "$(printf '%.0f ± %.0f' "$API_MS" "$API_SD") (hyperfine, curl)" "$(printf '%.0f' "$SQL_MS") (pgbench -t 10: rows + totals + by_body)" "$RATIO" "≤ 1.5×" "$ROWS rows, totals.attendees=$API_ATT; rows query alone $(printf '%.0f' "$ROWS_MS") ms; same 3 statements via psql (incl. connect) $(printf '%.0f' "$PSQL_MS") ms"
  log "report: API ${API_MS} ms vs SQL ${SQL_MS} ms"
fi

if has_step email; then
  log "step 4: e-mail fan-out vs bare lettre loop"
  # the province with the most active candidates
  PROV=$(psql_db "$NDB" -c "SELECT c.province_id FROM candidates c WHERE c.status = 'active' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
  T=$(psql_db "$NDB" -c "SELECT now()")
  FAN=$(curl -s -o "$WORK/fanout1.json" -w '%{http_code} %{time_total}' -X POST -H "Authorization: Bearer $NTOKEN" \
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
  row "e-mail fan-out of one province (msgs/s at the sink)" "$SVC_RATE" "$(rate "$L1") (lettre loop, sequential, pooled connection)" "$(pct "$SVC_RATE" "$(rate "$L1")")" "≥ 50%" "$QUEUED emails of ~$AVG_BYTES bytes; POST answered $FAN s; $CHECK"
  row "e-mail: lettre loop, same shape as the service (8 in flight, new connection each)" "$SVC_RATE" "$(rate "$L3")" "$(pct "$SVC_RATE" "$(rate "$L3")")" "(info)" "sequential with a new connection per message: $(rate "$L2")/s"
  row "e-mail: lettre loop with TCP_NODELAY (new connection each), sequential / 8 in flight" "" "$(rate "$L4") / $(rate "$L5")" "" "(info)" "lettre writes the body and the final CRLF.CRLF separately: without TCP_NODELAY the second write waits for the sink's delayed ACK (~40 ms)"
fi

if has_step crash; then
  log "step 7: kill -9 during a fan-out"
  PROVS=$(psql_db "$NDB" -c "SELECT c.province_id FROM candidates c WHERE c.status = 'active' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 3 OFFSET 1")
  P2=$(sed -n 1p <<<"$PROVS"); P3=$(sed -n 2p <<<"$PROVS")
  T=$(psql_db "$NDB" -c "SELECT now()")
  curl -s -o "$WORK/fanout2.json" -X POST -H "Authorization: Bearer $NTOKEN" \
    "http://127.0.0.1:$PORT/api/v1/elections/$NELECTION/schedule-emails?region_id=$P2"
  N2=$(jq .queued "$WORK/fanout2.json")
  psql_db "$NDB" -c "SELECT id FROM outbox WHERE kind = 'schedule' AND created_at >= '$T'" >"$WORK/fanout2_ids.txt"
  # kill once about a fifth has arrived
  for _ in $(seq 1 600); do
    got=$(python3 "$BENCH/email_check.py" "$WORK/sink_fanout.log" "$WORK/fanout2_ids.txt" | sed -E 's/.*distinct=([0-9]+).*/\1/' || true)
    [ "${got:-0}" -ge $((N2 / 5)) ] && break
    sleep 0.05
  done
  kill -9 "$SVC_PID"; SVC_PID=""
  AT_KILL=$(python3 "$BENCH/email_check.py" "$WORK/sink_fanout.log" "$WORK/fanout2_ids.txt" | sed -E 's/.*distinct=([0-9]+).*/\1/' || true)
  KILLED_AT=$(date +%s)
  start_service "$NURL" SMTP_URL="smtp://127.0.0.1:$SMTP_PORT"
  # claimed rows come due again when their lease (max(6 × SMTP timeout, 300 s)) ends
  for _ in $(seq 1 480); do
    left=$(psql_db "$NDB" -c "SELECT count(*) FROM outbox WHERE kind = 'schedule' AND created_at >= '$T' AND status <> 'sent'")
    [ "$left" = 0 ] && break
    sleep 1
  done
  RECOVER_S=$(( $(date +%s) - KILLED_AT ))
  sleep 1
  CHECK2=$(python3 "$BENCH/email_check.py" "$WORK/sink_fanout.log" "$WORK/fanout2_ids.txt" || true)
  row "kill -9 of the service during a fan-out of $N2 e-mails" "$(sed -E 's/.*(distinct=[0-9]+ missing=[0-9]+ duplicates=[0-9]+).*/\1/' <<<"$CHECK2")" "" "" "0 missing; same Message-ID if resent" "killed after $AT_KILL had arrived; all rows sent ${RECOVER_S} s after the kill (unsent: $left)"
  log "kill -9: $CHECK2; recovered in ${RECOVER_S}s"

  log "step 7: SMTP sink down, then up"
  stop_sink
  T=$(psql_db "$NDB" -c "SELECT now()")
  curl -s -o "$WORK/fanout3.json" -X POST -H "Authorization: Bearer $NTOKEN" \
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
  row "SMTP sink down 20 s, then up, fan-out of $N3 e-mails" "$(sed -E 's/.*(distinct=[0-9]+ missing=[0-9]+ duplicates=[0-9]+).*/\1/' <<<"$CHECK3")" "" "" "0 missing, 0 duplicates" "$RETRIED rows waiting for a retry during the outage; all sent ${DRAIN_S} s after the sink came back (unsent: $left); failed rows: $FAILED"
  log "outage: $CHECK3; drained in ${DRAIN_S}s"
  FIVE=$(grep -c 'internal error' "$WORK/service.log" || true)
  POOL=$(grep -c 'pool exhausted' "$WORK/service.log" || true)
  row "500s / 503s logged by the service during the whole run" "$FIVE / $POOL" "" "" "0" "service stderr (RUST_LOG=warn): 'internal error' / 'database pool exhausted' lines"
fi

if has_step national || has_step email || has_step crash; then
  R=$(rss_kib "$SVC_PID")
  row "memory (VmRSS) on the national data set: idle / after report + fan-outs" "$(mib "$RSS_N_IDLE") / $(mib "$R") MiB" "" "" "< 64 / < 256 MiB" ""
  stop_service
  stop_sink
  [ "$KEEP_DBS" = 1 ] || dropdb --if-exists "$NDB"
fi

echo >>"$RESULTS"
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Raw outputs: $WORK." >>"$RESULTS"
log "done: $RESULTS"
cat "$RESULTS"
