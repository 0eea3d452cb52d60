#!/usr/bin/env bash
# The TechEmpower database tests (/db, /queries?queries=20, /updates?queries=20, /fortunes) against a
# throwaway PostgreSQL loaded with bench/techempower/schema.sql, for Zephyr's bench app and any peers given in
# the environment. Server pinned to CPU 1, wrk to CPU 0, PostgreSQL unpinned; reports requests/s with the
# server's and PostgreSQL's CPU time per request. Before those, the ORM-over-libpq microbenchmark
# (bench/micro/db_bench.cpp, zephyr_db_micro) against the same, fresh server, pinned to CPU 1 with PostgreSQL moved to CPU 1 as well for it (one
# statement at a time bounces between the two processes; on one core that costs no cross-CPU wake-ups, so the
# numbers do not depend on what the other core is doing). Writes both tables into bench/README.md between the
# bench-db markers. Run by `make bench` after scripts/bench.sh.
#
# Environment:
#   BENCH_DB_DURATION=10  seconds per wrk run     BENCH_DB_ROUNDS=3  interleaved rounds (median reported)
#   BENCH_DB_CONNS=64     wrk connections         BENCH_NO_README=1  print instead of writing bench/README.md
#   BENCH_DB_MICRO_MIN_TIME=1  --benchmark_min_time of the microbenchmark (3 repetitions, median; 0 skips it)
#   BENCH_BUILD_DIR=dir   build there (Release, benchmarks on) instead of through the bench preset in build/bench
#   ZEPHYR_BENCH_DB_PEER_<NAME>=/path/to/binary
#       A peer server. Started with PORT, THREADS=1 and DATABASE_URL (postgresql://user:pass@127.0.0.1:port/db)
#       in its environment, it must serve the four tests on 127.0.0.1:PORT. Nothing is built for it here.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${BENCH_DB_DURATION:-10}"
ROUNDS="${BENCH_DB_ROUNDS:-3}"
CONNS="${BENCH_DB_CONNS:-64}"
MICRO_MIN_TIME="${BENCH_DB_MICRO_MIN_TIME:-1}"

# free_port, pid_tree, cpu_ticks, bench_build
source "$ROOT/scripts/bench-common.sh"

scripts/install-deps.sh build bench db >&2
BUILD_DIR="$(bench_build techempower zephyr_db_micro)"
ZEPHYR_BIN="$BUILD_DIR/bench/techempower"
MICRO_BIN="$BUILD_DIR/bench/zephyr_db_micro"

WORK="$(mktemp -d -t zephyr-bench-db.XXXXXX)"
chmod 755 "$WORK"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && { kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
  scripts/services/postgres.sh stop "$WORK" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '[bench-db %s] %s\n' "$(date +%T)" "$*" >&2; }

log "starting PostgreSQL"
DB_URL="$(scripts/services/postgres.sh start "$WORK")"
PG_PID="$(head -n1 "$WORK/postgres/data/postmaster.pid")"
PGPASSWORD=zephyr psql -q -v ON_ERROR_STOP=1 "$DB_URL" -f bench/techempower/schema.sql >&2
# Settled before measuring: otherwise autovacuum analyzes the freshly loaded tables during the first runs.
PGPASSWORD=zephyr psql -q -v ON_ERROR_STOP=1 "$DB_URL" -c "VACUUM ANALYZE world, fortune" >&2

declare -A BINS=([zephyr]="$ZEPHYR_BIN")
for var in $(compgen -v ZEPHYR_BENCH_DB_PEER_ || true); do
  name="${var#ZEPHYR_BENCH_DB_PEER_}"
  [ -x "${!var}" ] || { echo "bench-db: $var does not name an executable" >&2; exit 2; }
  BINS[${name,,}]="${!var}"
done
SERVERS=(zephyr $(printf '%s\n' "${!BINS[@]}" | grep -vx zephyr | sort || true))
TESTS=("db /db" "queries20 /queries?queries=20" "updates20 /updates?queries=20" "fortunes /fortunes")

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
COMMANDS="$WORK/commands.txt"
: >"$COMMANDS"

# First, on the fresh server: after the HTTP rounds the table is bloated by /updates and autovacuum may run on
# the pinned core, which measures the server's state rather than the client's work.
MICRO_JSON="$WORK/micro.json"
if [ "$MICRO_MIN_TIME" != 0 ]; then
  log "ORM vs libpq microbenchmark"
  for pid in $(pid_tree "$PG_PID"); do taskset -a -cp 1 "$pid" >/dev/null 2>&1 || true; done
  DATABASE_URL="$DB_URL" taskset -c 1 "$MICRO_BIN" --benchmark_min_time="$MICRO_MIN_TIME" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out="$MICRO_JSON" --benchmark_out_format=json >&2
  for pid in $(pid_tree "$PG_PID"); do taskset -a -cp "0-$(($(nproc) - 1))" "$pid" >/dev/null 2>&1 || true; done
  echo "DATABASE_URL=\$DATABASE_URL taskset -c 1 build/bench/bench/zephyr_db_micro --benchmark_min_time=$MICRO_MIN_TIME --benchmark_repetitions=3   (PostgreSQL moved to CPU 1 with taskset -a -p)" >>"$COMMANDS"
fi

for round in $(seq 1 "$ROUNDS"); do
  for s in "${SERVERS[@]}"; do
    port="$(free_port)"
    if [ "$s" = zephyr ]; then
      DATABASE_URL="$DB_URL" taskset -c 1 "${BINS[$s]}" --port "$port" --threads 1 >"$WORK/$s.log" 2>&1 &
      cmd="DATABASE_URL=\$DATABASE_URL taskset -c 1 build/bench/bench/techempower --port \$PORT --threads 1"
    else
      PORT="$port" THREADS=1 DATABASE_URL="$DB_URL" taskset -c 1 "${BINS[$s]}" >"$WORK/$s.log" 2>&1 &
      cmd="PORT=\$PORT THREADS=1 DATABASE_URL=\$DATABASE_URL taskset -c 1 \$ZEPHYR_BENCH_DB_PEER_${s^^}"
    fi
    SERVER_PID=$!
    grep -qxF -- "$cmd" "$COMMANDS" || echo "$cmd" >>"$COMMANDS"
    for _ in $(seq 1 150); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$s.log" >&2; exit 1; }
      sleep 0.1
    done
    for t in "${TESTS[@]}"; do
      read -r test path <<<"$t"
      taskset -c 0 wrk -t1 -c "$CONNS" -d 2s "http://127.0.0.1:$port$path" >/dev/null 2>&1 || true  # warm-up
      out="$WORK/wrk-$s-$test-$round.txt"
      app0="$(cpu_ticks "$SERVER_PID")"; pg0="$(cpu_ticks "$PG_PID")"
      taskset -c 0 wrk -t1 -c "$CONNS" -d "${DURATION}s" --timeout 8s "http://127.0.0.1:$port$path" >"$out" 2>&1 || true
      app1="$(cpu_ticks "$SERVER_PID")"; pg1="$(cpu_ticks "$PG_PID")"
      kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench-db: $s died during $test" >&2; cat "$WORK/$s.log" >&2; exit 1; }
      rps="$(awk '/^Requests\/sec:/{print $2}' "$out")"
      errs="$(awk '/Non-2xx|Socket errors/{print}' "$out" | tr '\n' ' ')"
      log "round $round $test $s: ${rps:-?} req/s ${errs}"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$test" "$round" "${rps:-0}" "$((app1 - app0))" "$((pg1 - pg0))" \
        "$(awk '/^ +[0-9]+ requests in/{print $1}' "$out")" >>"$RESULTS"
    done
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  done
done
echo "wrk -t1 -c $CONNS -d ${DURATION}s http://127.0.0.1:\$PORT<path>   (pinned with taskset -c 0)" >>"$COMMANDS"

python3 - "$RESULTS" "$COMMANDS" "$(getconf CLK_TCK)" "${BENCH_NO_README:-0}" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$MICRO_JSON" <<'PY'
import statistics, sys, datetime, re, json, os
results, commands, tck, no_readme, commit, micro = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5], sys.argv[6]
rows = {}
for line in open(results):
    s, test, rnd, rps, app, pg, n = line.rstrip("\n").split("\t")
    n = int(n or 0)
    rows.setdefault((test, s), []).append((float(rps), int(app) / tck / max(n, 1) * 1e6, int(pg) / tck / max(n, 1) * 1e6))
tests = ["db", "queries20", "updates20", "fortunes"]
names = {"db": "/db", "queries20": "/queries?queries=20", "updates20": "/updates?queries=20", "fortunes": "/fortunes"}
servers = []
for (t, s) in rows:
    if s not in servers: servers.append(s)
servers.sort(key=lambda s: (s != "zephyr", s))
med = lambda v: statistics.median(v)
out = ["<!-- bench-db:begin -->",
       f"Measured {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC at commit {commit}: one server thread on CPU 1, wrk on CPU 0,",
       "PostgreSQL 15 unpinned (throwaway instance from scripts/services/postgres.sh, schema bench/techempower/schema.sql).",
       "Median of the rounds; CPU is user+system time per request of the server process and of all PostgreSQL processes.", "",
       "| test | " + " | ".join(f"{s} req/s · app µs/req · PG µs/req" for s in servers) + (" | zephyr / " + " | zephyr / ".join(s for s in servers if s != "zephyr") if len(servers) > 1 else "") + " |",
       "|---|" + "---|" * (len(servers) + max(0, len(servers) - 1))]
for t in tests:
    cells, base = [], None
    for s in servers:
        r = rows.get((t, s), [])
        if not r: cells.append("–"); continue
        rps, app, pg = med([x[0] for x in r]), med([x[1] for x in r]), med([x[2] for x in r])
        if s == "zephyr": base = rps
        cells.append(f"{rps:,.0f} · {app:.1f} · {pg:.1f}")
    ratios = []
    for s in servers:
        if s == "zephyr": continue
        r = rows.get((t, s), [])
        ratios.append(f"{base / med([x[0] for x in r]):.2f}×" if r and base else "–")
    out.append(f"| {names[t]} | " + " | ".join(cells + ratios) + " |")
if os.path.exists(micro):
    # Medians of the repetitions, in microseconds per statement (20 rows each).
    med_rows = {}
    for b in json.load(open(micro))["benchmarks"]:
        if b.get("aggregate_name") != "median": continue
        name = b["run_name"].split("/")[0]
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b.get("time_unit", "ns")]
        med_rows[name] = (b["real_time"] * scale, b["cpu_time"] * scale)
    what = {
        "BM_LibpqExecPrepared": "libpq, blocking: `PQexecPrepared` + `PQgetvalue`/`std::from_chars`",
        "BM_LibpqAsyncPipeline": "libpq, async: pipeline mode, `PQsendQueryPrepared` + `PQpipelineSync`, socket waited on by an Asio loop",
        "BM_ZephyrPoolQuery": "Zephyr: `co_await pool.query<world>(...)` (shared pipelined connection, the default)",
        "BM_ZephyrPooledQuery": "Zephyr: the same with `share_connections = false` (a pooled connection per statement)",
    }
    base = med_rows.get("BM_LibpqExecPrepared")
    if med_rows:
        out += ["", "ORM over raw libpq (`bench/micro/db_bench.cpp`): 20 rows `SELECT id, randomnumber FROM world WHERE id BETWEEN ? AND ?`",
                "into a `std::vector` of a described struct, one statement at a time, same server. Real time is the round trip",
                "(client and PostgreSQL share CPU 1); CPU time is the client process's alone. Median of 3 repetitions.", "",
                "The ORM's own cost is the Zephyr rows against the async libpq row, which makes the same libpq calls on the",
                "same kind of event loop; against blocking libpq they also pay for the event loop (one more system call).", "",
                "| benchmark | what | real µs/query | client CPU µs/query | real · CPU vs async libpq | real · CPU vs blocking libpq |",
                "|---|---|---:|---:|---:|---:|"]
        async_base = med_rows.get("BM_LibpqAsyncPipeline")
        def ratios(value, against):
            return f"{value[0] / against[0]:.2f}× · {value[1] / against[1]:.2f}×" if against else "–"
        for name in ["BM_LibpqExecPrepared", "BM_LibpqAsyncPipeline", "BM_ZephyrPoolQuery", "BM_ZephyrPooledQuery"]:
            if name not in med_rows: continue
            real, cpu = med_rows[name]
            out.append(f"| {name} | {what[name]} | {real:.1f} | {cpu:.1f} | {ratios(med_rows[name], async_base)} | "
                       f"{ratios(med_rows[name], base)} |")
out += ["", "Commands:", "", "```"] + [l.rstrip() for l in open(commands)] + ["```", "<!-- bench-db:end -->"]
text = "\n".join(out)
if no_readme:
    print(text)
else:
    p = "bench/README.md"
    readme = open(p).read()
    if "<!-- bench-db:begin -->" in readme:
        readme = re.sub(r"<!-- bench-db:begin -->.*<!-- bench-db:end -->", lambda m: text, readme, flags=re.S)
    else:
        readme = readme.rstrip("\n") + "\n\n## Database tests (TechEmpower)\n\n" + text + "\n"
    open(p, "w").write(readme)
    print(text)
PY
