#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on loopback, for the tests and the
# PostgreSQL measurements: `postgres.sh start DIR PORT` makes (initdb) and
# starts one in DIR listening on 127.0.0.1:PORT with trust authentication
# for user `droply`, and prints its server URL; `postgres.sh stop DIR` stops
# it. Installs Debian's `postgresql` when missing. As root, the cluster runs
# as the `postgres` user (PostgreSQL refuses root).
set -euo pipefail

bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir=$2 port=$3
    if [ -z "$(bin_dir)" ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    bin=$(bin_dir)
    rm -rf "$dir" && mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" --auth=trust -U droply -E UTF8 --locale=C.UTF-8 >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 ${PG_OPTIONS:-}" start >/dev/null
    echo "postgres://droply@127.0.0.1:$port"
    ;;
  stop)
    as_owner "$(bin_dir)/pg_ctl" -D "$2/data" -m fast stop >/dev/null
    ;;
  *)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
