#!/usr/bin/env bash
# Starts / stops a throwaway MariaDB server for the test suite. It never touches the system server or
# its configuration (/etc/mysql is ignored): everything (data, socket, pid file, log) lives under DIR,
# which the caller creates (e.g. with `mktemp -d`) and deletes afterwards.
#
#   url=$(scripts/services/mariadb.sh start DIR)   # prints mysql://zephyr:zephyr@127.0.0.1:PORT/zephyr_test
#   scripts/services/mariadb.sh stop DIR           # graceful stop, then kill; safe to call twice
#   scripts/services/mariadb.sh restart DIR        # stop, then start again on the same data and port
#
# The server listens only on 127.0.0.1 at a free port, its unix socket is DIR/mariadb/mariadb.sock,
# and it is tuned for tests (InnoDB does not flush on commit: data does not survive a crash). User
# `zephyr` (password `zephyr`) has all privileges on `zephyr_test` and on any database named
# `zephyr_*`, so tests can create and drop their own databases. Only the URL goes to stdout; progress
# and errors go to stderr, the server log is DIR/mariadb/server.log.
#
# When run as root the server runs as the `mysql` user and DIR gets the execute (traverse-only) bit
# for others. Needs `scripts/install-deps.sh db`.
set -euo pipefail

START_TIMEOUT="${START_TIMEOUT:-60}"   # seconds to wait for the server to accept connections
STOP_TIMEOUT="${STOP_TIMEOUT:-30}"     # seconds to wait for a graceful stop before killing

log() { echo "mariadb.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { echo "usage: $0 start|stop|restart DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd="$1"
[ -d "$2" ] || die "DIR '$2' does not exist (create it first, e.g. with mktemp -d)"
dir="$(cd "$2" && pwd -P)"
base="$dir/mariadb"           # everything of this instance
data="$base/data"
sock="$base/mariadb.sock"
pidfile="$base/mariadb.pid"   # written by the server
ourpid="$base/server.pid"     # written by us right after launching, for half-finished starts
logfile="$base/server.log"

# Server and tools: the mariadb-* names, or the older mysql* ones.
pick() { local c; for c in "$@"; do command -v "$c" && return 0; done; return 1; }

# free_port and alive, shared with the other service scripts.
# shellcheck source=scripts/services/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# PID of the server started in DIR, if it is still running (and still is a MariaDB server).
server_pid() {
  local f pid
  for f in "$pidfile" "$ourpid"; do
    pid="$(cat "$f" 2>/dev/null)" || continue
    if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && grep -qaE 'mariadbd|mysqld' "/proc/$pid/cmdline"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

stop() {
  [ -d "$base" ] || return 0
  local pid
  if pid="$(server_pid)"; then
    kill -TERM "$pid" 2>/dev/null || true   # SIGTERM = clean shutdown
    for _ in $(seq $((STOP_TIMEOUT * 10))); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
      log "server $pid did not stop in ${STOP_TIMEOUT}s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    fi
  fi
  rm -f "$ourpid" "$base/url"
}

# Sets `server`, `admin` and `opts` (the options shared by the bootstrap and the server).
find_server() {
  server="$(pick mariadbd mysqld || PATH="$PATH:/usr/sbin" pick mariadbd mysqld)" ||
    die "mariadbd not found; run scripts/install-deps.sh db"
  admin="$(pick mariadb-admin mysqladmin)" || die "mariadb-admin not found"
  local user_opt=()
  [ "$(id -u)" -ne 0 ] || user_opt=(--user=mysql)
  # --no-defaults must come first: ignore /etc/mysql.
  opts=(--no-defaults "${user_opt[@]}" --datadir="$data" --tmpdir="$base/tmp"
        --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
        --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --innodb-log-file-size=32M
        --innodb-buffer-pool-size=64M)
}

# Starts the server on `port` and waits until it answers; 1 when it died or did not answer in time.
launch() {
  local port="$1" pid
  # Own session (setsid) so it is detached from the caller's terminal and signals; all output goes
  # to the log, so `$(mariadb.sh start ...)` does not wait for the server's stdout to close.
  (cd "$base" && exec setsid "$server" "${opts[@]}" --port="$port" --bind-address=127.0.0.1 \
     --socket="$sock" --pid-file="$pidfile" --log-error="$logfile" --max-connections=200 \
     </dev/null >>"$logfile" 2>&1) &
  pid=$!
  echo "$pid" >"$ourpid"
  for _ in $(seq $((START_TIMEOUT * 10))); do
    if "$admin" --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -u zephyr -pzephyr \
         --connect-timeout=1 ping >/dev/null 2>&1; then
      return 0
    fi
    alive "$pid" || return 1
    sleep 0.1
  done
  return 1
}

start() {
  local server install_db admin opts
  find_server
  install_db="$(pick mariadb-install-db mysql_install_db)" || die "mariadb-install-db not found"

  if server_pid >/dev/null && [ -f "$base/url" ]; then
    log "already running in $base"
    cat "$base/url"
    return 0
  fi
  stop                                  # leftovers of a half-finished earlier start
  rm -rf "$base"
  mkdir -p "$base/tmp"
  : >"$logfile"

  if [ "$(id -u)" -eq 0 ]; then
    id mysql >/dev/null 2>&1 || die "user 'mysql' does not exist; run scripts/install-deps.sh db"
    chmod a+x "$dir"                    # let `mysql` traverse DIR (not list it)
    chown -R mysql: "$base"
    runuser -u mysql -- test -w "$base" ||
      die "user 'mysql' cannot reach $base; a parent directory of DIR is not traversable (use mktemp -d)"
  fi

  # The test user and databases are created while bootstrapping, so no admin login is needed later.
  # (Bootstrap runs with grant tables disabled; FLUSH PRIVILEGES loads them so CREATE USER works.)
  cat >"$base/init.sql" <<'EOF'
FLUSH PRIVILEGES;
CREATE DATABASE zephyr_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'zephyr'@'127.0.0.1' IDENTIFIED BY 'zephyr';
CREATE USER 'zephyr'@'localhost' IDENTIFIED BY 'zephyr';
GRANT ALL PRIVILEGES ON `zephyr_test`.* TO 'zephyr'@'127.0.0.1', 'zephyr'@'localhost';
GRANT ALL PRIVILEGES ON `zephyr\_%`.* TO 'zephyr'@'127.0.0.1', 'zephyr'@'localhost';
EOF
  log "initialising $data"
  if ! (cd "$base" && "$install_db" "${opts[@]}" --auth-root-authentication-method=socket --skip-test-db \
          --extra-file="$base/init.sql" </dev/null >>"$logfile" 2>&1); then
    tail -n 30 "$logfile" >&2
    die "mariadb-install-db failed (log: $logfile)"
  fi

  local port attempt url lines
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    log "starting on 127.0.0.1:$port"
    lines="$(wc -l <"$logfile")"
    launch "$port" && break

    if ! alive "$(cat "$ourpid")" && tail -n "+$((lines + 1))" "$logfile" | grep -qiE 'address already in use|bind on tcp' &&
       [ "$attempt" -lt 5 ]; then
      log "port $port was taken meanwhile, retrying"
      stop
      continue
    fi
    log "server did not start; last lines of $logfile:"
    tail -n 30 "$logfile" >&2
    stop
    die "MariaDB failed to start"
  done

  url="mysql://zephyr:zephyr@127.0.0.1:$port/zephyr_test"
  echo "$url" >"$base/url"
  echo "$url" >"$base/url.last"
  log "ready: $url (log: $logfile)"
  echo "$url"
}

# Stops the server and starts it again on the same data and port (tests of reconnecting clients).
restart() {
  [ -f "$base/url.last" ] || die "no server was started in $dir"
  local url port server admin opts
  url="$(cat "$base/url.last")"
  port="${url##*:}"; port="${port%%/*}"
  find_server
  stop
  log "restarting on 127.0.0.1:$port"
  launch "$port" || { tail -n 30 "$logfile" >&2; stop; die "MariaDB failed to restart"; }
  echo "$url" >"$base/url"
  echo "$url"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  *) usage ;;
esac
