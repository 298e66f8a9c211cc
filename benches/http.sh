#!/usr/bin/env bash
# The HTTP load comparison of benches/README.md ("HTTP load") in one go, on
# one machine: the naive baseline (../shared/bench/naive_axum), `steward
# serve --no-worker --rate-limit 0` on a fresh SQLite file and, when the
# server is reachable, on a fresh PostgreSQL database. Every measurement is
# interleaved (naive, steward SQLite, steward PostgreSQL, naive again), so
# each ratio comes from minutes apart on the same machine. Prints one
# markdown table at the end; the raw result lines go to WORK_DIR/results.txt.
#
#   cargo build --release -p steward-cli -p steward-loadgen
#   benches/http.sh
#
# Per server: register, log in and make an API key (idle RSS after that);
# POST /thoughts and POST /tasks on the fresh database; then top the tasks
# up to PRELOAD and measure GET /tasks?limit=20. Each endpoint gets a wrk
# run at maximum throughput (../shared/bench/run_load.sh) and a loadgen run
# at a fixed RATE (p99 measured from each request's scheduled time).
#
# Environment (defaults):
#   DURATION=10s WARMUP=2s  each measured run, after its own warm-up
#   CONN=16 THREADS=2       wrk's connections and threads
#   RATE=1000 RATE_CONN=16  loadgen's requests per second and connections
#   PRELOAD=100000          tasks each server holds for the GET runs
#   SKIP_PG=                1: leave PostgreSQL out
#   SERVE_ARGS=             more options for both `steward serve`s
#                           (e.g. "--page-cache 0": every GET page read)
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres
#                           where the fresh database is created (and dropped)
#   STEWARD_BIN=<cargo's target directory>/release/steward (CARGO_TARGET_DIR,
#                           cargo's configured target-dir, or target/)
#   LOADGEN_BIN=<cargo's target directory>/release/loadgen
#   NAIVE_BIN=$HOME/.cache/naive-axum/release/naive_axum (built when missing)
#   BENCH_KIT=<repository>/../shared/bench   run_load.sh, Lua scripts, endpoints files
#   PORT=18380              the first of three ports (naive, SQLite, PostgreSQL)
#   WORK_DIR=<a new temporary folder>        databases, server logs, raw results
#   KEEP=                   1: keep the SQLite files (the logs are always kept)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Where cargo builds: CARGO_TARGET_DIR, else what cargo's configuration says
# (a `target-dir` in ~/.cargo/config.toml included), else target/.
TARGET="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps --manifest-path "$ROOT/Cargo.toml" 2>/dev/null | jq -r .target_directory 2>/dev/null || true)}"
TARGET="${TARGET:-$ROOT/target}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONN="${CONN:-16}"
THREADS="${THREADS:-2}"
RATE="${RATE:-1000}"
RATE_CONN="${RATE_CONN:-16}"
PRELOAD="${PRELOAD:-100000}"
SKIP_PG="${SKIP_PG:-}"
SERVE_ARGS="${SERVE_ARGS:-}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
STEWARD_BIN="${STEWARD_BIN:-$TARGET/release/steward}"
LOADGEN_BIN="${LOADGEN_BIN:-$TARGET/release/loadgen}"
NAIVE_BIN="${NAIVE_BIN:-$HOME/.cache/naive-axum/release/naive_axum}"
BENCH_KIT="${BENCH_KIT:-$ROOT/../shared/bench}"
PORT="${PORT:-18380}"
WORK_DIR="${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/steward-http.XXXXXX")}"
KEEP="${KEEP:-}"
mkdir -p "$WORK_DIR"
RESULTS="$WORK_DIR/results.txt"

die() {
  echo "http.sh: $*" >&2
  exit 1
}
say() { echo "== $*" >&2; }
need() { command -v "$1" >/dev/null || die "$1 not found ($2)"; }

need wrk "apt-get install -y wrk"
need curl "apt-get install -y curl"
need jq "apt-get install -y jq"
need sqlite3 "apt-get install -y sqlite3 (counts the naive baseline's rows)"
[[ -x "$STEWARD_BIN" ]] || die "no steward binary at $STEWARD_BIN (cargo build --release -p steward-cli -p steward-loadgen, or set STEWARD_BIN)"
[[ -x "$LOADGEN_BIN" ]] || die "no loadgen binary at $LOADGEN_BIN (cargo build --release -p steward-loadgen, or set LOADGEN_BIN)"
[[ -x "$BENCH_KIT/run_load.sh" ]] || die "no load kit at $BENCH_KIT (set BENCH_KIT)"
if [[ ! -x "$NAIVE_BIN" ]]; then
  [[ "$NAIVE_BIN" == "$HOME/.cache/naive-axum/release/naive_axum" ]] || die "no naive baseline at $NAIVE_BIN"
  say "building the naive baseline into $HOME/.cache/naive-axum"
  cargo build --release --manifest-path "$BENCH_KIT/naive_axum/Cargo.toml" --target-dir "$HOME/.cache/naive-axum" >&2
fi

# ---------------------------------------------------------------- servers

declare -A PID BASE AUTH EPFILE HEALTH LABEL
SERVERS=()
PG_DB=""

stop_server() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for server in "${SERVERS[@]}"; do stop_server "${PID[$server]}"; done
  if [[ -n "$PG_DB" ]]; then
    psql "$PG_URL" -qAtc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
      echo "http.sh: could not drop the PostgreSQL database $PG_DB" >&2
  fi
  [[ -n "$KEEP" ]] || rm -f "$WORK_DIR"/*.db "$WORK_DIR"/*.db-wal "$WORK_DIR"/*.db-shm
  echo "http.sh: logs and raw results in $WORK_DIR" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME PORT LABEL HEALTH_PATH COMMAND...: starts a server in the
# background and waits until HEALTH_PATH answers, or fails loudly.
start() {
  local name=$1 port=$2 label=$3 health=$4
  shift 4
  port_in_use "$port" && die "port $port is in use (set PORT)"
  "$@" >"$WORK_DIR/$name.log" 2>&1 &
  PID[$name]=$!
  SERVERS+=("$name")
  BASE[$name]="http://127.0.0.1:$port"
  LABEL[$name]=$label
  HEALTH[$name]=$health
  for _ in $(seq 1 240); do
    if ! kill -0 "${PID[$name]}" 2>/dev/null; then
      tail -20 "$WORK_DIR/$name.log" >&2
      die "$label exited before answering (log: $WORK_DIR/$name.log)"
    fi
    curl -fsS --max-time 2 "${BASE[$name]}$health" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  tail -20 "$WORK_DIR/$name.log" >&2
  die "$label did not answer $health within 60 s (log: $WORK_DIR/$name.log)"
}

# Registers a user, logs in and makes an API key; sets AUTH[server].
authenticate() {
  local server=$1 base=${BASE[$1]} credentials token key
  credentials='{"email":"bench@example.com","password":"bench-password-1","name":"Bench"}'
  curl -fsS --max-time 30 -X POST "$base/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d "$credentials" >/dev/null || die "${LABEL[$server]}: registration failed"
  token=$(curl -fsS --max-time 30 -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "$credentials" | jq -er .data.access_token) || die "${LABEL[$server]}: login failed"
  key=$(curl -fsS --max-time 30 -X POST "$base/api/v1/api-keys" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $token" -d '{"name":"benches/http.sh"}' | jq -er .data.key) ||
    die "${LABEL[$server]}: making an API key failed"
  AUTH[$server]="Authorization: Bearer $key"
}

rss_kb() { ps -o rss= -p "${PID[$1]}" | tr -d ' '; }

task_count() {
  if [[ $1 == naive ]]; then
    sqlite3 "$WORK_DIR/naive.db" 'SELECT count(*) FROM tasks'
  else
    curl -fsS --max-time 30 -H "${AUTH[$1]}" "${BASE[$1]}/api/v1/tasks?limit=1" | jq -er .data.pagination.total
  fi
}

# ------------------------------------------------------------ measurements

declare -A R # R[kind:endpoint:server:round:field] = value
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# The endpoint NAME of a server's endpoints file, as METHOD|PATH|BODY.
endpoint() { grep -E "^$2\|" "${EPFILE[$1]}" | head -1 | cut -d'|' -f2- || true; }

record() {
  local key=$1 line=$2 name
  echo "$key $line" >>"$RESULTS"
  echo "   $line" >&2
  for name in rps p50_ms p99_ms p999_ms non2xx sock_err errors unsent; do
    R[$key:$name]=$(field "$name" "$line")
  done
}

wrk_run() {
  local server=$1 ep=$2 round=$3 line
  line=$(SERVER_PID="${PID[$server]}" DURATION="$DURATION" WARMUP="$WARMUP" CONN="$CONN" THREADS="$THREADS" \
    REPEAT=1 ONLY="$ep" LABEL="$server" LOG_DIR="$WORK_DIR/wrk" \
    "$BENCH_KIT/run_load.sh" "${BASE[$server]}" "${AUTH[$server]}" "${EPFILE[$server]}" | grep '^RESULT') ||
    die "wrk found no result for ${LABEL[$server]} $ep (logs in $WORK_DIR/wrk)"
  record "wrk:$ep:$server:$round" "$line"
}

# loadgen ARGS... for SERVER's ENDPOINT (method, headers, body).
loadgen_for() {
  local server=$1 ep=$2 method path body placeholder='{n}'
  shift 2
  IFS='|' read -r method path body <<<"$(endpoint "$server" "$ep")"
  local args=(-X "$method" -H "Accept: application/json")
  [[ -n "${AUTH[$server]}" ]] && args+=(-H "${AUTH[$server]}")
  [[ $method == POST ]] && args+=(-H "Content-Type: application/json" -b "${body//%N%/$placeholder}")
  "$LOADGEN_BIN" "${args[@]}" "$@" "${BASE[$server]}$path" 2>>"$WORK_DIR/loadgen.log"
}

rate_run() {
  local server=$1 ep=$2 round=$3 line
  line=$(loadgen_for "$server" "$ep" -R "$RATE" -c "$RATE_CONN" -d "$DURATION" -w "$WARMUP") ||
    die "loadgen failed for ${LABEL[$server]} $ep (see $WORK_DIR/loadgen.log)"
  record "rate:$ep:$server:$round" "$line"
}

# Every server's run of one endpoint: naive, steward…, naive again (the
# naive ones only when the baseline has the endpoint).
measure() {
  local kind=$1 ep=$2 server
  local order=()
  [[ -n "$(endpoint naive "$ep")" ]] && order+=(naive:1)
  for server in "${SERVERS[@]}"; do [[ $server == naive ]] || order+=("$server:1"); done
  [[ -n "$(endpoint naive "$ep")" ]] && order+=(naive:2)
  for entry in "${order[@]}"; do
    server=${entry%%:*}
    say "$kind $ep: ${LABEL[$server]} (run ${entry##*:})"
    "${kind}_run" "$server" "$ep" "${entry##*:}"
  done
}

preload() {
  local server=$1 have missing line
  have=$(task_count "$server") || die "cannot count ${LABEL[$server]}'s tasks"
  missing=$((PRELOAD - have))
  if ((missing > 0)); then
    say "preloading ${LABEL[$server]}: $have tasks, $missing more"
    line=$(loadgen_for "$server" post_task -R 0 -c 32 -t 2 -w 0 -n "$missing" --timeout 60s) ||
      die "preloading ${LABEL[$server]} failed (see $WORK_DIR/loadgen.log)"
    [[ "$(field non2xx "$line")" == 0 && "$(field errors "$line")" == 0 ]] ||
      die "preloading ${LABEL[$server]}: $line"
  fi
  TASKS[$server]=$(task_count "$server")
}

# --------------------------------------------------------------- the run

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')

start naive "$PORT" "naive" /hello env PORT="$PORT" DB="$WORK_DIR/naive.db" "$NAIVE_BIN"
EPFILE[naive]="$BENCH_KIT/endpoints.naive"
AUTH[naive]=""
start sqlite "$((PORT + 1))" "steward SQLite" /health \
  "$STEWARD_BIN" --database-url "sqlite://$WORK_DIR/steward.db" serve \
  --listen "127.0.0.1:$((PORT + 1))" --no-worker --rate-limit 0 $SERVE_ARGS
EPFILE[sqlite]="$BENCH_KIT/endpoints.steward"
authenticate sqlite

PG_NOTE=""
if [[ -n "$SKIP_PG" ]]; then
  PG_NOTE="PostgreSQL left out (SKIP_PG)."
elif ! command -v psql >/dev/null || ! psql "$PG_URL" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  PG_NOTE="PostgreSQL not reachable at $PG_URL: left out."
  say "$PG_NOTE"
else
  PG_DB="steward_http_$(date +%s)_$$"
  psql "$PG_URL" -qAtc "CREATE DATABASE \"$PG_DB\"" >/dev/null || die "cannot create database $PG_DB"
  start pg "$((PORT + 2))" "steward PostgreSQL" /health \
    "$STEWARD_BIN" --database-url "${PG_URL%/*}/$PG_DB" serve \
    --listen "127.0.0.1:$((PORT + 2))" --no-worker --rate-limit 0 $SERVE_ARGS
  EPFILE[pg]="$BENCH_KIT/endpoints.steward"
  authenticate pg
  PG_NOTE="PostgreSQL $(psql "$PG_URL" -qAtc 'SHOW server_version'), a fresh database."
fi

declare -A IDLE_RSS TASKS
for server in "${SERVERS[@]}"; do IDLE_RSS[$server]=$(rss_kb "$server"); done

for ep in post_thought post_task; do
  measure wrk "$ep"
  measure rate "$ep"
done
for server in "${SERVERS[@]}"; do preload "$server"; done
measure wrk get_tasks
measure rate get_tasks

declare -A END_RSS
for server in "${SERVERS[@]}"; do END_RSS[$server]=$(rss_kb "$server"); done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------- the table

# One number, thousands separated, at most DIGITS decimals.
num() { awk -v x="$1" -v d="${2:-0}" 'BEGIN {
  if (x !~ /^[0-9]+(\.[0-9]*)?$/) { printf "%s", x; exit }
  s = sprintf("%." d "f", x); n = split(s, p, "."); i = p[1]; o = "";
  while (length(i) > 3) { o = "," substr(i, length(i) - 2) o; i = substr(i, 1, length(i) - 3) }
  printf "%s%s%s", i, o, (n > 1 ? "." p[2] : "") }'; }

# steward's value over each naive run's, as "a–b×" (or "a×").
ratio() {
  local value=$1 first=$2 second=${3:-$2}
  awk -v v="$value" -v a="$first" -v b="$second" 'BEGIN {
    if (v !~ /^[0-9.]+$/ || a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || a <= 0 || b <= 0) { printf "—"; exit }
    x = v / a; y = v / b; lo = (x < y ? x : y); hi = (x < y ? y : x);
    if (sprintf("%.2f", lo) == sprintf("%.2f", hi)) printf "%.2f×", lo; else printf "%.2f–%.2f×", lo, hi }'
}

# Non-2xx answers, failed requests and requests left unsent, when any.
trouble() {
  local key=$1 errors
  errors=$((${R[$key:sock_err]:-0} + ${R[$key:errors]:-0}))
  ((${R[$key:non2xx]:-0} == 0)) || printf ' ⚠ %s non-2xx' "$(num "${R[$key:non2xx]}")"
  ((errors == 0)) || printf ' ⚠ %s errors' "$(num "$errors")"
  ((${R[$key:unsent]:-0} == 0)) || printf ' ⚠ %s unsent' "$(num "${R[$key:unsent]}")"
}

wrk_cell() {
  local key="wrk:$1:$2:$3"
  [[ -n "${R[$key:rps]:-}" ]] || { printf '—'; return; }
  printf '%s/s (p99 %s ms)%s' "$(num "${R[$key:rps]}")" "$(num "${R[$key:p99_ms]}" 1)" "$(trouble "$key")"
}

rate_cell() {
  local key="rate:$1:$2:$3" achieved=""
  [[ -n "${R[$key:p99_ms]:-}" ]] || { printf '—'; return; }
  [[ "${R[$key:p99_ms]}" != - ]] || { printf 'no responses%s' "$(trouble "$key")"; return; }
  awk -v r="${R[$key:rps]}" -v t="$RATE" 'BEGIN { exit !(r < 0.97 * t) }' && achieved=", only $(num "${R[$key:rps]}")/s"
  printf 'p99 %s ms (p50 %s, p99.9 %s)%s%s' "$(num "${R[$key:p99_ms]}" 2)" "$(num "${R[$key:p50_ms]}" 2)" \
    "$(num "${R[$key:p999_ms]}" 2)" "$achieved" "$(trouble "$key")"
}

naive_cells() { # kind endpoint field → "a / b"
  local first="${R[$1:$2:naive:1:$3]:-}" second="${R[$1:$2:naive:2:$3]:-}" digits=0
  [[ $3 == rps ]] || digits=2
  [[ -n "$first" ]] || { printf '—'; return; }
  printf '%s / %s' "$(num "$first" "$digits")" "$(num "$second" "$digits")"
}

STEWARDS=()
for server in "${SERVERS[@]}"; do [[ $server == naive ]] || STEWARDS+=("$server"); done

header="| measurement | naive (before / after) |"
rule="|---|---|"
for server in "${STEWARDS[@]}"; do
  header+=" ${LABEL[$server]} | ÷ naive |"
  rule+="---|---|"
done

row() { # title kind endpoint
  local title=$1 kind=$2 ep=$3 field=rps unit="/s" line
  [[ $kind == rate ]] && field=p99_ms && unit=" ms"
  line="| $title | $(naive_cells "$kind" "$ep" "$field")${R[$kind:$ep:naive:1:$field]:+$unit} |"
  for server in "${STEWARDS[@]}"; do
    line+=" $("${kind}_cell" "$ep" "$server" 1) | $(ratio "${R[$kind:$ep:$server:1:$field]:-}" \
      "${R[$kind:$ep:naive:1:$field]:-}" "${R[$kind:$ep:naive:2:$field]:-}") |"
  done
  echo "$line"
}

mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }

rss_row() { # title array
  local title=$1
  local -n values=$2
  local line="| $title | $(mb "${values[naive]}") |"
  for server in "${STEWARDS[@]}"; do
    line+=" $(mb "${values[$server]}") | $(ratio "${values[$server]}" "${values[naive]}") |"
  done
  echo "$line"
}

tasks_note=""
for server in "${SERVERS[@]}"; do tasks_note+="${tasks_note:+, }${LABEL[$server]} $(num "${TASKS[$server]}")"; done

{
  echo
  echo "## HTTP load, $STARTED ($("$STEWARD_BIN" --version), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo
  echo "$(nproc) cores, load average $LOAD_BEFORE before and $LOAD_AFTER after. wrk: $CONN connections," \
    "$THREADS threads, $DURATION after $WARMUP of warm-up, maximum throughput. loadgen: $RATE requests/s over" \
    "$RATE_CONN connections, $DURATION after $WARMUP, latency from each request's scheduled time." \
    "Tasks for the GET page: $tasks_note. $PG_NOTE"
  echo
  echo "$header"
  echo "$rule"
  row "POST /thoughts, wrk" wrk post_thought
  row "POST /thoughts at $(num "$RATE")/s" rate post_thought
  row "POST /tasks, wrk" wrk post_task
  row "POST /tasks at $(num "$RATE")/s" rate post_task
  row "GET /tasks?limit=20, wrk" wrk get_tasks
  row "GET /tasks?limit=20 at $(num "$RATE")/s" rate get_tasks
  rss_row "idle RSS (after register, login, key)" IDLE_RSS
  rss_row "RSS after the runs" END_RSS
  echo
  echo "÷ naive: steward's figure over each of the two naive runs (throughput: higher is better; p99 and RSS: lower is better)."
} | tee -a "$RESULTS"
