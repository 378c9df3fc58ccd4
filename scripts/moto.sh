#!/usr/bin/env bash
# A local S3 for the tests: moto with authentication on (scripts/moto_server.py), under .data/moto.
#
#   scripts/moto.sh start [PORT]   start unless running (default port 54340, or a free one when that
#                                  is taken); prints the TEST_S3_* variables, one NAME=VALUE a line
#                                  (endpoint, bucket, region, keys)
#   scripts/moto.sh stop           stop it
#   scripts/moto.sh env            print the variables of the running server
#
# State lives in memory: each start is a fresh, empty bucket with new keys. Listens on 127.0.0.1
# only; the keys are throw-away test credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-start}
port=${2:-54340}
dir=.data/moto
pidfile=$dir/pid
envfile=$dir/env
PYTHON=${PYTHON:-python3}

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && [ -f "$envfile" ]
}

# Whether anything answers HTTP on the port.
answering() {
  "$PYTHON" - "$1" <<'PY' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5):
    pass
PY
}

start() {
  if running; then
    cat "$envfile"
    return
  fi
  if answering "$port"; then
    # Another process (say, a second checkout's tests) holds the port: take a free one. The
    # endpoint in the printed variables says which.
    taken=$port
    port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "moto.sh: port $taken is taken; using $port" >&2
  fi
  mkdir -p "$dir"
  rm -f "$envfile"
  nohup "$PYTHON" scripts/moto_server.py --port "$port" --env-file "$envfile" >"$dir/server.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 150); do
    if [ -f "$envfile" ] && answering "$port"; then
      cat "$envfile"
      return
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "moto.sh: moto exited at start; see $dir/server.log:" >&2
      tail -n 20 "$dir/server.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "moto.sh: moto did not answer on port $port within 30 s; see $dir/server.log" >&2
  stop
  exit 1
}

stop() {
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile" "$envfile"
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  env) running && cat "$envfile" || { echo "moto.sh: not running" >&2; exit 1; } ;;
  *) echo "usage: scripts/moto.sh start|stop|env [PORT]" >&2; exit 2 ;;
esac
