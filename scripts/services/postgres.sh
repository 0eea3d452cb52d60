#!/usr/bin/env bash
# Starts / stops a throwaway PostgreSQL 15 server for the test suite. It never touches the system
# cluster or service: everything (data, socket, log) lives under DIR, which the caller creates (e.g.
# with `mktemp -d`) and deletes afterwards.
#
#   url=$(scripts/services/postgres.sh start DIR)   # prints postgresql://zephyr:zephyr@127.0.0.1:PORT/zephyr_test
#   scripts/services/postgres.sh stop DIR           # graceful stop, then kill; safe to call twice
#   scripts/services/postgres.sh restart DIR        # stop, then start again on the same data and port
#
# The server listens only on 127.0.0.1 at a free port, its unix socket is in DIR/postgres/run, and it
# is tuned for tests (fsync off, etc.: data does not survive a crash). User `zephyr` (password
# `zephyr`, CREATEDB) owns database `zephyr_test`. Only the URL goes to stdout; progress and errors go
# to stderr, the server log is DIR/postgres/server.log.
#
# PostgreSQL refuses to run as root, so when run as root the server runs as the `postgres` user and
# DIR gets the execute (traverse-only) bit for others. Needs `scripts/install-deps.sh db`.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
START_TIMEOUT="${START_TIMEOUT:-60}"   # seconds to wait for the server to accept connections
STOP_TIMEOUT="${STOP_TIMEOUT:-20}"     # seconds to wait for a graceful stop before killing

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { echo "usage: $0 start|stop|restart DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd="$1"
[ -d "$2" ] || die "DIR '$2' does not exist (create it first, e.g. with mktemp -d)"
dir="$(cd "$2" && pwd -P)"
base="$dir/postgres"          # everything of this instance
data="$base/data"             # PGDATA
run="$base/run"               # unix socket directory
logfile="$base/server.log"

# Runs a PostgreSQL command as the server's owner: `postgres` when we are root, ourselves otherwise.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$base" && runuser -u postgres -- "$@")
  else
    (cd "$base" && "$@")
  fi
}

# free_port and alive, shared with the other service scripts.
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# PID of the postmaster running from $data, if any (first line of postmaster.pid; checked to still be
# a postgres process, as the file may be stale).
server_pid() {
  local pid
  [ -f "$data/postmaster.pid" ] || return 1
  pid="$(head -n1 "$data/postmaster.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && grep -qa postgres "/proc/$pid/cmdline" && echo "$pid"
}

# PID of a postmaster started with `-D $data` (found via /proc): covers a server that is still
# starting up and has not written postmaster.pid yet.
find_postmaster() {
  local p args
  for p in /proc/[0-9]*; do
    args="$(tr '\0' '\n' 2>/dev/null <"$p/cmdline")" || continue
    if [[ "${args%%$'\n'*}" == */postgres ]] && grep -qxF -- "$data" <<<"$args"; then
      echo "${p#/proc/}"
      return 0
    fi
  done
  return 1
}

stop() {
  [ -d "$base" ] || return 0
  local pid
  pid="$(server_pid)" || pid="$(find_postmaster)" || pid=""
  local kids="" alive_kids
  [ -z "$pid" ] || kids="$(pgrep -P "$pid" | tr '\n' ' ')" || true
  if [ -n "$pid" ]; then
    # SIGINT = "fast" shutdown (what `pg_ctl stop -m fast` sends): roll back open transactions,
    # disconnect clients, shut down cleanly.
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq $((STOP_TIMEOUT * 10))); do alive "$pid" || break; sleep 0.1; done
  fi
  if [ -n "$pid" ] && alive "$pid"; then
    log "server $pid did not stop in ${STOP_TIMEOUT}s, forcing it"
    kill -QUIT "$pid" 2>/dev/null || true    # "immediate" shutdown: postmaster stops its children
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Backends run in their own sessions; make sure none outlives the postmaster.
  local k
  for _ in $(seq 50); do
    alive_kids=""
    for k in $kids; do if alive "$k"; then alive_kids+=" $k"; fi; done
    kids="$alive_kids"
    if [ -z "$kids" ]; then break; fi
    sleep 0.1
  done
  for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
  rm -f "$base/url"
}

start() {
  [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb not found; run scripts/install-deps.sh db"
  if server_pid >/dev/null 2>&1 && [ -f "$base/url" ]; then
    log "already running in $base"
    cat "$base/url"
    return 0
  fi
  stop                                  # leftovers of a half-finished earlier start
  rm -rf "$base"
  mkdir -p "$run"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "user 'postgres' does not exist; run scripts/install-deps.sh db"
    chmod a+x "$dir"                    # let `postgres` traverse DIR (not list it)
    chown -R postgres: "$base"
    as_pg test -w "$base" ||
      die "user 'postgres' cannot reach $base; a parent directory of DIR is not traversable (use mktemp -d)"
  fi
  : >"$logfile"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$logfile"

  # Fresh cluster: superuser `postgres`, trusted only on our private unix socket; TCP needs a password.
  log "initdb in $data"
  as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync --no-instructions >>"$logfile" 2>&1 ||
    { tail -n 30 "$logfile" >&2; stop; die "initdb failed (log: $logfile)"; }

  cat >>"$data/postgresql.conf" <<EOF

# --- Zephyr test-suite settings (throwaway instance, not crash safe) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$run'
unix_socket_permissions = 0700
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

  local port attempt url lines
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    log "starting on 127.0.0.1:$port"
    lines="$(wc -l <"$logfile")"
    # shellcheck disable=SC2094  # -l only names the file pg_ctl hands to the server
    if as_pg "$PG_BIN/pg_ctl" start -D "$data" -o "-p $port" -l "$logfile" -w -t "$START_TIMEOUT" \
         </dev/null >/dev/null 2>>"$logfile"; then
      break
    fi
    if tail -n "+$((lines + 1))" "$logfile" | grep -q 'could not bind.*Address already in use' &&
       [ "$attempt" -lt 5 ]; then
      log "port $port was taken meanwhile, retrying"
      stop
      continue
    fi
    log "server did not start; last lines of $logfile:"
    tail -n 30 "$logfile" >&2
    stop
    die "PostgreSQL failed to start"
  done

  # Confirm it answers over TCP, as the tests will connect.
  local ok=""
  for _ in $(seq $((START_TIMEOUT * 10))); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then ok=1; break; fi
    server_pid >/dev/null || break
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    tail -n 30 "$logfile" >&2; stop; die "server does not accept TCP connections on 127.0.0.1:$port"
  fi

  if ! as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$run" -p "$port" -U postgres -d postgres \
         -c "CREATE ROLE zephyr LOGIN CREATEDB PASSWORD 'zephyr'" \
         -c "CREATE DATABASE zephyr_test OWNER zephyr" </dev/null >>"$logfile" 2>&1; then
    tail -n 30 "$logfile" >&2; stop; die "could not create user/database"
  fi

  url="postgresql://zephyr:zephyr@127.0.0.1:$port/zephyr_test"
  echo "$url" >"$base/url"
  echo "$url" >"$base/url.last"
  log "ready: $url (log: $logfile)"
  echo "$url"
}

# Stops the server and starts it again on the same data and port (tests of reconnecting clients).
restart() {
  [ -f "$base/url.last" ] || die "no server was started in $dir"
  local url port
  url="$(cat "$base/url.last")"
  port="${url##*:}"; port="${port%%/*}"
  stop
  log "restarting on 127.0.0.1:$port"
  as_pg "$PG_BIN/pg_ctl" start -D "$data" -o "-p $port" -l "$logfile" -w -t "$START_TIMEOUT" \
    </dev/null >/dev/null 2>>"$logfile" || { tail -n 30 "$logfile" >&2; die "PostgreSQL failed to restart"; }
  echo "$url" >"$base/url"
  echo "$url"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  *) usage ;;
esac
