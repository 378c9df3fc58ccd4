#!/usr/bin/env bash
# `make run`: builds, starts a private PostgreSQL under .data/ (unless DATABASE_URL is set), then
# auth, storage, edit and the gateway, and stops everything, in order, on Ctrl-C or SIGTERM.
# Configuration: the environment, or .env in this folder (the environment wins); see README.
# Only here: PG_PORT (the private cluster's port), RUN_CONFIG (debug|release), IMAGEEDIT_BIN
# (run this executable instead of building).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

say() { printf 'run: %s\n' "$*" >&2; }

# Settings the script itself needs (the services read the rest themselves).
env_value() {  # NAME DEFAULT: environment, then .env, then the default
  local name=$1 fallback=$2 value=""
  value=$(printenv "$name" || true)
  if [ -z "$value" ] && [ -f .env ]; then
    value=$(grep -E "^(export )?$name=" .env | tail -1 | sed -E "s/^(export )?$name=//; s/^[\"']//; s/[\"']$//" || true)
  fi
  printf '%s' "${value:-$fallback}"
}
gateway_port=$(env_value GATEWAY_PORT 8000)
auth_port=$(env_value AUTH_PORT 50051)
storage_port=$(env_value STORAGE_PORT 50052)
edit_port=$(env_value EDIT_PORT 50053)
auth_metrics_port=$(env_value AUTH_METRICS_PORT 9101)
storage_metrics_port=$(env_value STORAGE_METRICS_PORT 9102)
edit_metrics_port=$(env_value EDIT_METRICS_PORT 9103)
bind_host=$(env_value BIND_HOST 127.0.0.1)
database_url=$(env_value DATABASE_URL "")
# The private cluster keeps the port it first started on (.data/pg/PORT); PG_PORT chooses another.
pg_port=$(env_value PG_PORT "$(cat .data/pg/PORT 2>/dev/null || echo 54329)")
config=${RUN_CONFIG:-debug}

port_free() {  # PORT: is it free on the bind host?
  python3 - "$bind_host" "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
PY
}
for pair in "GATEWAY_PORT:$gateway_port" "AUTH_PORT:$auth_port" "STORAGE_PORT:$storage_port" "EDIT_PORT:$edit_port" \
            "AUTH_METRICS_PORT:$auth_metrics_port" "STORAGE_METRICS_PORT:$storage_metrics_port" "EDIT_METRICS_PORT:$edit_metrics_port"; do
  name=${pair%%:*}; port=${pair##*:}
  [ "$port" = 0 ] && continue  # a metrics listener turned off
  if ! port_free "$port"; then
    say "port $port ($name) is already in use on $bind_host: stop whatever holds it, or set $name in .env"
    exit 1
  fi
done

bash scripts/install-deps.sh
if [ -n "${IMAGEEDIT_BIN:-}" ]; then
  # An executable built elsewhere (say, a shared build): no build here.
  binary=$(realpath "$IMAGEEDIT_BIN")
  [ -x "$binary" ] || { say "IMAGEEDIT_BIN=$IMAGEEDIT_BIN is not an executable"; exit 1; }
  say "using $binary (IMAGEEDIT_BIN; not building)"
else
  say "building ($config)…"
  flock /tmp/swiftbuild.lock swift build -c "$config" --product imageedit
  binary="$root/.build/$config/imageedit"
fi

mkdir -p .data/logs
pids=()
started_pg=""
stop_all() {  # [EXIT_STATUS]
  local status=${1:-0}
  trap - INT TERM EXIT
  say "stopping…"
  # Reverse order: the gateway first, so no new requests reach the services it calls.
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  if [ -n "$started_pg" ]; then bash scripts/pg.sh stop pg; fi
  say "stopped"
  exit "$status"
}
trap 'stop_all 0' INT TERM
trap 'stop_all $?' EXIT

if [ -z "$database_url" ]; then
  if ! port_free "$pg_port" && [ ! -f .data/pg/postmaster.pid ]; then
    say "port $pg_port (the private PostgreSQL) is in use: stop whatever holds it, or set PG_PORT (another port) or DATABASE_URL in .env"
    exit 1
  fi
  DATABASE_URL=$(bash scripts/pg.sh start pg "$pg_port")
  export DATABASE_URL
  started_pg=1
  say "PostgreSQL: $DATABASE_URL (data in .data/pg)"
fi

start() {  # NAME
  "$binary" "$1" >>".data/logs/$1.log" 2>&1 &
  pids+=("$!")
  say "$1 started (pid $!, log .data/logs/$1.log)"
}
start auth
start storage
start edit
start gateway

ready=""
for _ in $(seq 1 300); do
  if curl -fsS "http://$bind_host:$gateway_port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then say "a service exited at start; see .data/logs/"; tail -n 5 .data/logs/*.log >&2; exit 1; fi
  done
  sleep 0.2
done
if [ -z "$ready" ]; then
  say "the gateway is not ready after 60 s (GET /readyz: $(curl -sS "http://$bind_host:$gateway_port/readyz" 2>&1)); see .data/logs/"
  exit 1
fi
cat >&2 <<MSG

  ImageEditApi is running: http://$bind_host:$gateway_port   (Ctrl-C stops everything)
    gRPC: auth $bind_host:$auth_port · storage $bind_host:$storage_port · edit $bind_host:$edit_port
    metrics: http://$bind_host:$gateway_port/metrics · auth :$auth_metrics_port · storage :$storage_metrics_port · edit :$edit_metrics_port (0 = off)
    logs: .data/logs/{auth,storage,edit,gateway}.log
    try:  curl -s -X POST http://$bind_host:$gateway_port/api/register/ -H 'Content-Type: application/json' \\
            -d '{"username":"ada","email":"ada@example.com","password":"correct horse"}'

MSG
wait -n "${pids[@]}" || true
say "a service stopped unexpectedly; see .data/logs/"
exit 1
