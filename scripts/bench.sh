#!/usr/bin/env bash
# `make bench`: builds the bench preset, runs the Google Benchmark microbenchmarks, then load-tests the
# TechEmpower app (bench/techempower) against a reference nginx, and any peer servers given in the
# environment, with wrk on 127.0.0.1. Writes the results into bench/README.md between the bench markers.
#
# Environment:
#   BENCH_DURATION=5      seconds per wrk run        BENCH_ROUNDS=3     interleaved rounds (median reported)
#   BENCH_THREADS="1 2"   server thread counts       BENCH_IDLE_CONNS=5000  idle keep-alive connections
#   BENCH_WARMUP=2        seconds of warm-up per server start
#   BENCH_MICRO_MIN_TIME=0.1  --benchmark_min_time of the microbenchmarks (0 skips them)
#   BENCH_NO_README=1     print the report instead of writing bench/README.md
#   BENCH_BUILD_DIR=dir   build there (Release, benchmarks on) instead of through the bench preset in build/bench
#   BENCH_NICE=-10        run servers and load generator at this nice level (needs root for < 0); for a
#                         machine that other work shares, at that work's expense
#   ZEPHYR_BENCH_PEER_<NAME>=/path/to/binary
#       Adds a peer server named <name> (lowercased) to the comparison. The script only runs the binary; it
#       never builds or downloads anything for it. Contract: the binary is started with the environment
#       variables PORT=<port> and THREADS=<n> (and no arguments), must listen on 127.0.0.1:PORT with n event
#       loop threads within 15 seconds, keep running in the foreground until SIGTERM, and answer
#       GET /plaintext with "Hello, World!" (text/plain) and GET /json with {"message":"Hello, World!"}
#       (application/json), with keep-alive and HTTP/1.1 pipelining. Example: ZEPHYR_BENCH_PEER_DROGON.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${BENCH_DURATION:-5}"
ROUNDS="${BENCH_ROUNDS:-3}"
THREAD_COUNTS="${BENCH_THREADS:-1 2}"
IDLE_CONNS="${BENCH_IDLE_CONNS:-5000}"
WARMUP="${BENCH_WARMUP:-2}"
MICRO_MIN_TIME="${BENCH_MICRO_MIN_TIME:-0.1}"
PIPELINE_DEPTH=16
PRIO=()
if [ -n "${BENCH_NICE:-}" ]; then
  PRIO=(nice -n "$BENCH_NICE")
fi

scripts/install-deps.sh build bench

# bench_build (and free_port, pid_tree, cpu_ticks)
source "$ROOT/scripts/bench-common.sh"
BUILD_DIR="$(bench_build techempower zephyr_micro)"
ZEPHYR_BIN="$BUILD_DIR/bench/techempower"
MICRO_BIN="$BUILD_DIR/bench/zephyr_micro"

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
WORK="$(mktemp -d -t zephyr-bench.XXXXXX)"
declare -a STARTED=()  # PIDs of the servers this script started
cleanup() {
  local pid
  for pid in "${STARTED[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
CLK_TCK="$(getconf CLK_TCK)"
NPROC="$(nproc)"

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# Records a command line for the report (once per distinct line), with the temporary directory, the port
# and the peer binaries' paths replaced by placeholders: record_cmd PORT ARG...
COMMANDS="$WORK/commands.txt"
: >"$COMMANDS"
record_cmd() {
  local port="$1" line="" a name
  shift
  for a in "$@"; do
    if [[ "$a" =~ [^A-Za-z0-9_./:=,+-] ]]; then
      line+="'$a' "
    else
      line+="$a "
    fi
  done
  line="${line% }"
  line="${line//"$WORK"/\$TMP}"
  line="${line//"$ROOT/"/}"
  for name in "${!PEERS[@]}"; do
    line="${line//"${PEERS[$name]}"/\$ZEPHYR_BENCH_PEER_${name^^}}"
  done
  line="${line//"127.0.0.1:$port"/127.0.0.1:\$PORT}"
  line="${line//"--port $port"/--port \$PORT}"
  line="${line//"PORT=$port"/PORT=\$PORT}"
  line="${line//" $port "/ \$PORT }"
  grep -qxF -- "$line" "$COMMANDS" || echo "$line" >>"$COMMANDS"
}

# VmRSS in KiB summed over a process tree.
rss_kb() {
  local total=0 pid v
  for pid in $(pid_tree "$1"); do
    v="$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || true)"
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# Proportional set size in KiB summed over a process tree (shared pages split between the processes).
pss_kb() {
  local total=0 pid v
  for pid in $(pid_tree "$1"); do
    v="$(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)"
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

wait_ready() {
  local pid="$1" port="$2" i
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# ---- servers ---------------------------------------------------------------------------------------------

declare -A PEERS=()
for var in $(compgen -v ZEPHYR_BENCH_PEER_ || true); do
  name="${var#ZEPHYR_BENCH_PEER_}"
  name="${name,,}"
  bin="${!var}"
  if [ ! -x "$bin" ]; then
    echo "bench: $var does not name an executable file" >&2
    exit 2
  fi
  PEERS[$name]="$bin"
done
SERVERS=(zephyr nginx)
for name in $(printf '%s\n' "${!PEERS[@]}" | sort); do
  SERVERS+=("$name")
done

write_nginx_conf() {  # dir port workers
  local dir="$1" port="$2" workers="$3"
  mkdir -p "$dir/temp"
  cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $workers;
worker_rlimit_nofile 65536;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events {
    worker_connections $((IDLE_CONNS + 1024));
}
http {
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    default_type text/plain;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    server {
        listen 127.0.0.1:$port reuseport;
        location / {
            return 200 "Hello, World!";
        }
        location = /json {
            default_type application/json;
            return 200 '{"message":"Hello, World!"}';
        }
    }
}
EOF
}

# start_server NAME THREADS CPUS: starts a server on a free port; sets SERVER_PID and SERVER_PORT.
start_server() {
  local name="$1" threads="$2" cpus="$3" port log
  port="$(free_port)"
  log="$WORK/$name-$threads.log"
  case "$name" in
    zephyr)
      record_cmd "$port" "${PRIO[@]}" taskset -c "$cpus" "$ZEPHYR_BIN" --port "$port" --threads "$threads"
      "${PRIO[@]}" taskset -c "$cpus" "$ZEPHYR_BIN" --port "$port" --threads "$threads" >"$log" 2>&1 &
      ;;
    nginx)
      local dir="$WORK/nginx-$threads"
      write_nginx_conf "$dir" "$port" "$threads"
      record_cmd "$port" "${PRIO[@]}" taskset -c "$cpus" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
      "${PRIO[@]}" taskset -c "$cpus" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$log" 2>&1 &
      ;;
    *)
      record_cmd "$port" "PORT=$port" "THREADS=$threads" "${PRIO[@]}" taskset -c "$cpus" "${PEERS[$name]}"
      PORT="$port" THREADS="$threads" "${PRIO[@]}" taskset -c "$cpus" "${PEERS[$name]}" >"$log" 2>&1 &
      ;;
  esac
  SERVER_PID=$!
  SERVER_PORT=$port
  STARTED+=("$SERVER_PID")
  if ! wait_ready "$SERVER_PID" "$port"; then
    echo "bench: $name did not start listening on port $port; its output:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.5  # let every worker thread/process reach its accept loop
}

stop_server() {
  local pid="$1" p
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local keep=()
  for p in "${STARTED[@]}"; do
    [ "$p" = "$pid" ] || keep+=("$p")
  done
  STARTED=("${keep[@]}")
}

# ---- load generation -------------------------------------------------------------------------------------

# TechEmpower's pipelining script: the same request DEPTH times per write.
cat >"$WORK/pipeline.lua" <<'EOF'
init = function(args)
  local r = {}
  local depth = tonumber(args[1]) or 1
  for i = 1, depth do
    r[i] = wrk.format()
  end
  req = table.concat(r)
end

request = function()
  return req
end
EOF

# The headers TechEmpower's plaintext and JSON tests send.
WRK_HEADERS=(-H 'Host: localhost'
             -H 'Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7'
             -H 'Connection: keep-alive')

# Tests: name path connections pipeline-depth
TESTS=("plaintext-c64 /plaintext 64 1"
       "plaintext-c256 /plaintext 256 1"
       "pipeline16-c256 /plaintext 256 $PIPELINE_DEPTH"
       "json-c64 /json 64 1"
       "json-by-hand-c64 /json-by-hand 64 1")
# Tests only the Zephyr app serves (a comparison inside Zephyr, not against the peers).
ZEPHYR_ONLY_TESTS=" json-by-hand-c64 "

# run_wrk PORT PATH CONNS DEPTH SECONDS WRK_CPUS WRK_THREADS OUT
run_wrk() {
  local port="$1" path="$2" conns="$3" depth="$4" secs="$5" cpus="$6" wthreads="$7" out="$8"
  local args=(-t "$wthreads" -c "$conns" -d "${secs}s" --timeout 8s --latency "${WRK_HEADERS[@]}"
              "http://127.0.0.1:$port$path")
  if [ "$depth" -gt 1 ]; then
    args+=(-s "$WORK/pipeline.lua" -- "$depth")
  fi
  record_cmd "$port" "${PRIO[@]}" taskset -c "$cpus" wrk "${args[@]}"
  "${PRIO[@]}" taskset -c "$cpus" wrk "${args[@]}" >"$out" 2>&1
}

RESULTS="$WORK/results.tsv"
MEMORY="$WORK/memory.tsv"
: >"$RESULTS"
: >"$MEMORY"

for threads in $THREAD_COUNTS; do
  if [ "$threads" -eq 1 ] && [ "$NPROC" -ge 2 ]; then
    server_cpus=1; wrk_cpus=0; wrk_threads=1
  else
    # More server threads than the one spare core: server and wrk share every core, unpinned.
    server_cpus="0-$((NPROC - 1))"; wrk_cpus="0-$((NPROC - 1))"; wrk_threads="$threads"
  fi
  declare -A PID=() PORTOF=()
  for s in "${SERVERS[@]}"; do
    start_server "$s" "$threads" "$server_cpus"
    PID[$s]=$SERVER_PID
    PORTOF[$s]=$SERVER_PORT
    idle="$(rss_kb "$SERVER_PID")"
    idle_pss="$(pss_kb "$SERVER_PID")"
    if [ "$threads" -eq 1 ] && [ "$IDLE_CONNS" -gt 0 ]; then
      log "$s: RSS with $IDLE_CONNS idle keep-alive connections"
      record_cmd "$SERVER_PORT" taskset -c "$wrk_cpus" python3 scripts/bench-idle-conns.py "$SERVER_PORT" \
        "$IDLE_CONNS" SERVER_PID...
      read -r before after n < <(taskset -c "$wrk_cpus" python3 scripts/bench-idle-conns.py "$SERVER_PORT" \
                                   "$IDLE_CONNS" $(pid_tree "$SERVER_PID"))
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$threads" "$idle" "$idle_pss" "$((after - before))" "$n" >>"$MEMORY"
    else
      printf '%s\t%s\t%s\t%s\t\t\n' "$s" "$threads" "$idle" "$idle_pss" >>"$MEMORY"
    fi
    log "$s: warm-up ${WARMUP}s"
    run_wrk "$SERVER_PORT" /plaintext 64 1 "$WARMUP" "$wrk_cpus" "$wrk_threads" "$WORK/warmup.txt"
  done

  for round in $(seq 1 "$ROUNDS"); do
    for t in "${TESTS[@]}"; do
      read -r test path conns depth <<<"$t"
      for s in "${SERVERS[@]}"; do
        if [ "$s" != zephyr ] && [[ "$ZEPHYR_ONLY_TESTS" == *" $test "* ]]; then continue; fi
        out="$WORK/wrk-$s-$threads-$test-$round.txt"
        before="$(cpu_ticks "${PID[$s]}")"
        run_wrk "${PORTOF[$s]}" "$path" "$conns" "$depth" "$DURATION" "$wrk_cpus" "$wrk_threads" "$out" || true
        after="$(cpu_ticks "${PID[$s]}")"
        if ! kill -0 "${PID[$s]}" 2>/dev/null; then
          echo "bench: $s died during $test" >&2
          exit 1
        fi
        log "threads=$threads round=$round $test $s: $(awk '/^Requests\/sec:/{print $2}' "$out") req/s"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$threads" "$test" "$s" "$round" "$((after - before))" \
          "$CLK_TCK" "$DURATION" "$out" >>"$RESULTS"
      done
    done
  done

  for s in "${SERVERS[@]}"; do
    stop_server "${PID[$s]}"
  done
  unset PID PORTOF
done

# ---- microbenchmarks -------------------------------------------------------------------------------------

MICRO_JSON=""
if [ "$MICRO_MIN_TIME" != "0" ]; then
  log "microbenchmarks"
  MICRO_JSON="$WORK/micro.json"
  record_cmd 0 taskset -c "$((NPROC - 1))" "$MICRO_BIN" --benchmark_min_time="$MICRO_MIN_TIME" \
    --benchmark_out="$MICRO_JSON" --benchmark_out_format=json
  taskset -c "$((NPROC - 1))" "$MICRO_BIN" --benchmark_min_time="$MICRO_MIN_TIME" \
    --benchmark_out="$MICRO_JSON" --benchmark_out_format=json >&2
fi

# ---- report ----------------------------------------------------------------------------------------------

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "nproc=$NPROC"
  echo "cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
  echo "kernel=$(uname -r)"
  echo "load=$LOAD_START"
  echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src include 2>/dev/null || echo '+uncommitted changes')"
  echo "wrk=$(wrk --version 2>&1 | head -1 | awk '{print $2}')"
  echo "nginx=$(nginx -v 2>&1 | sed 's|.*nginx/||')"
  echo "compiler=$(c++ --version | head -1)"
  echo "duration=$DURATION"
  echo "rounds=$ROUNDS"
  echo "warmup=$WARMUP"
  echo "idle_conns=$IDLE_CONNS"
  echo "depth=$PIPELINE_DEPTH"
  echo "servers=${SERVERS[*]}"
  echo "micro_min_time=$MICRO_MIN_TIME"
  echo "nice=${BENCH_NICE:-}"
} >"$WORK/meta.txt"

for threads in $THREAD_COUNTS; do
  if [ -f "$WORK/nginx-$threads/nginx.conf" ]; then
    sed -e "s|$WORK|\$TMP|g" -e 's|127.0.0.1:[0-9]*|127.0.0.1:$PORT|' "$WORK/nginx-$threads/nginx.conf" \
      >"$WORK/nginx.conf.txt"
    break
  fi
done

report_args=("$WORK/meta.txt" "$RESULTS" "$MEMORY" "${MICRO_JSON:--}" "$COMMANDS" "$WORK/nginx.conf.txt")
if [ "${BENCH_NO_README:-0}" = "1" ]; then
  python3 scripts/bench-report.py "${report_args[@]}"
else
  python3 scripts/bench-report.py "${report_args[@]}" bench/README.md
  log "results written to bench/README.md"
fi
