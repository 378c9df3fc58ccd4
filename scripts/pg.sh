#!/usr/bin/env bash
# A private PostgreSQL cluster for development and tests, kept under .data/.
#
#   scripts/pg.sh start [NAME] [PORT]   initialise (first time) and start; prints DATABASE_URL
#   scripts/pg.sh stop  [NAME]          stop (fast shutdown)
#   scripts/pg.sh restart [NAME]        stop then start again on the same port
#   scripts/pg.sh url   [NAME] [PORT]   print the DATABASE_URL
#
# NAME defaults to "pg" (make run); tests use "pg-test". PostgreSQL refuses to run as root, so
# the cluster belongs to the `postgres` system user. Auth is scram-sha-256 with a fixed
# development password: this cluster listens on 127.0.0.1 only and is not for production.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cmd=${1:-start}
name=${2:-pg}
dir="$root/.data/$name"
portfile="$dir/PORT"
# make run's cluster and the test cluster have fixed default ports; any other cluster (a test's
# own, say) takes a free port the first time it starts, and keeps it.
case "$name" in
  pg) default_port=54329 ;;
  pg-test) default_port=54330 ;;
  *) default_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ;;
esac
port=${3:-$( [ -f "$portfile" ] && cat "$portfile" || echo $default_port )}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bindir" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
password=imageedit
url="postgres://imageedit:$password@127.0.0.1:$port/imageedit"

port_free() {
  python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  mkdir -p "$root/.data"
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    pwfile=$(mktemp)
    echo "$password" > "$pwfile"
    chmod 644 "$pwfile"
    as_postgres "$bindir/initdb" -D "$dir" -U imageedit --pwfile="$pwfile" -A scram-sha-256 -E UTF8 --no-sync >/dev/null
    rm -f "$pwfile"
  fi
  if ! as_postgres "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1 && ! port_free "$port"; then
    if [ "$name" = "pg-test" ] || [ -n "${PG_ANY_PORT:-}" ]; then
      # Another cluster (say, a second checkout's tests) holds the port: take a free one.
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      url="postgres://imageedit:$password@127.0.0.1:$port/imageedit"
    else
      echo "pg.sh: port $port is in use by something else; set DATABASE_URL or free the port" >&2
      exit 1
    fi
  fi
  echo "$port" > "$portfile.tmp" && mv "$portfile.tmp" "$portfile"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$portfile"
  # Durability stays on for the development cluster; the throw-away test cluster skips fsync.
  extra=""
  [ "$name" = "pg-test" ] && extra="-c fsync=off -c synchronous_commit=off"
  if ! as_postgres "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_postgres "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 $extra" start >/dev/null
  fi
  if ! PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U imageedit -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='imageedit'" | grep -q 1; then
    PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U imageedit -d postgres -qc "CREATE DATABASE imageedit" >/dev/null
  fi
  echo "$url"
}

stop() {
  if [ -f "$dir/PG_VERSION" ]; then
    as_postgres "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  url) echo "$url" ;;
  *) echo "usage: scripts/pg.sh start|stop|restart|url [NAME] [PORT]" >&2; exit 2 ;;
esac
