#!/usr/bin/env bash
# ctest fixture for the db integration tests: `start DIR` starts a throwaway PostgreSQL and MariaDB server
# (scripts/services/*.sh) and writes their URLs to DIR/postgres.url and DIR/mariadb.url; `stop DIR` stops both.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
dir="$2"
case "$1" in
  start)
    mkdir -p "$dir"
    rm -f "$dir/postgres.url" "$dir/mariadb.url"
    # Both at once: MariaDB takes a few seconds to start.
    "$root/scripts/services/postgres.sh" start "$dir" > "$dir/postgres.url.tmp" &
    pg=$!
    "$root/scripts/services/mariadb.sh" start "$dir" > "$dir/mariadb.url.tmp" &
    my=$!
    status=0
    wait "$pg" || status=1
    wait "$my" || status=1
    if [ "$status" -ne 0 ]; then
      "$root/scripts/services/postgres.sh" stop "$dir" || true
      "$root/scripts/services/mariadb.sh" stop "$dir" || true
      exit 1
    fi
    mv "$dir/postgres.url.tmp" "$dir/postgres.url"
    mv "$dir/mariadb.url.tmp" "$dir/mariadb.url"
    echo "postgres: $(cat "$dir/postgres.url")"
    echo "mariadb:  $(cat "$dir/mariadb.url")"
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    "$root/scripts/services/postgres.sh" stop "$dir" || true
    "$root/scripts/services/mariadb.sh" stop "$dir" || true
    rm -f "$dir/postgres.url" "$dir/mariadb.url"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
