#!/usr/bin/env bash
# ctest fixture for the db integration tests: `start DIR` starts a throwaway PostgreSQL and MariaDB server
# (scripts/services/*.sh) and writes their URLs to DIR/postgres.url and DIR/mariadb.url; `stop DIR` stops both.
#
# The servers' own files live in a fresh directory under /tmp, not in DIR: run as root, the servers run as the
# `postgres` and `mysql` users, which must be able to reach their data, and a build tree may sit below a
# directory only root can enter (a clone inside `mktemp -d`).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
dir="$2"

stop_all() {
  [ -f "$dir/servers_dir" ] || return 0
  local run
  run="$(cat "$dir/servers_dir")"
  if [ -d "$run" ]; then
    "$root/scripts/services/postgres.sh" stop "$run" || true
    "$root/scripts/services/mariadb.sh" stop "$run" || true
    rm -rf "$run"
  fi
  rm -f "$dir/servers_dir" "$dir/postgres.url" "$dir/mariadb.url"
}

case "$1" in
  start)
    mkdir -p "$dir"
    stop_all  # leftovers of an interrupted run
    run="$(mktemp -d -t zephyr-services.XXXXXX)"
    chmod 711 "$run"  # traversable by the servers' users, not listable
    echo "$run" >"$dir/servers_dir"
    # Both at once: MariaDB takes a few seconds to start.
    "$root/scripts/services/postgres.sh" start "$run" >"$run/postgres.url" &
    pg=$!
    "$root/scripts/services/mariadb.sh" start "$run" >"$run/mariadb.url" &
    my=$!
    status=0
    wait "$pg" || status=1
    wait "$my" || status=1
    if [ "$status" -ne 0 ]; then
      stop_all
      exit 1
    fi
    cp "$run/postgres.url" "$dir/postgres.url"
    cp "$run/mariadb.url" "$dir/mariadb.url"
    echo "postgres: $(cat "$dir/postgres.url")"
    echo "mariadb:  $(cat "$dir/mariadb.url")"
    ;;
  stop) stop_all ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
