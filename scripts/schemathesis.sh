#!/usr/bin/env bash
# Runs schemathesis against a live gateway with the gateway's own OpenAPI document
# (GET /api/schema/), and fails on any 5xx or any answer the document does not allow.
#
#   scripts/schemathesis.sh            (make schemathesis; make test runs it last)
#
# It starts everything itself and stops it on exit, whatever happens: a private PostgreSQL
# cluster (.data/pg-schemathesis, on a free port, wiped at the end so ids start at 1 each run),
# then auth, storage, edit and the gateway from the built `imageedit` (IMAGEEDIT, default
# .build/debug/imageedit) on free ports, with the local store and the local edit engine in a
# temporary folder and a clean environment (no .env, no OpenAI key, no bucket: nothing leaves
# the machine). It registers a user, logs in, uploads one real image (so that the documented
# example id 1 exists), walks every route's happy path with real images checking each answer
# against the document (scripts/openapi-walk.py), then runs schemathesis with that user's
# bearer token.
#
# Knobs (environment): SCHEMATHESIS_EXAMPLES (test cases per operation and phase, default 100),
# SCHEMATHESIS_SEED (reproduce a run), SCHEMATHESIS_WORKERS (default 1, see below), SCHEMATHESIS_ARGS
# (more options, e.g. "--include-path-regex images"), KEEP_WORK=1 (keep the temporary folder with
# the services' full logs, e.g. a crash's backtrace).
#
# Checks: scripts/schemathesis.toml lists which are on and why the others are off (in short:
# no 5xx, every status, Content-Type, header and JSON body as documented, auth enforced,
# invalid input refused, 405 with Allow for undocumented methods).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf 'schemathesis: %s\n' "$*" >&2; }

binary=${IMAGEEDIT:-$root/.build/debug/imageedit}
[ -x "$binary" ] || { say "no executable at $binary: build first (make build, or set IMAGEEDIT)"; exit 1; }
command -v schemathesis >/dev/null 2>&1 || python3 -c 'import schemathesis' 2>/dev/null \
  || { say "schemathesis is not installed: run scripts/install-deps.sh"; exit 1; }

examples=${SCHEMATHESIS_EXAMPLES:-100}
# One worker: with two, schemathesis's threads parse Python source at once and CPython 3.11's
# ast module (whose recursion counter is shared, not per thread) now and then fails with
# "AST constructor recursion depth mismatch" (seen here as a schemathesis Runtime Error).
workers=${SCHEMATHESIS_WORKERS:-1}
cluster=pg-schemathesis
work=$(mktemp -d /tmp/imageedit-schemathesis.XXXXXX)
pids=()
names=()
started_pg=""

stop_all() {
  local status=$?
  trap - EXIT INT TERM
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
  done
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    wait "${pids[$i]}" 2>/dev/null || true
  done
  if [ -n "$started_pg" ]; then
    bash scripts/pg.sh stop "$cluster" >/dev/null 2>&1 || true
    rm -rf "$root/.data/$cluster"
  fi
  if [ "$status" -ne 0 ] && [ -d "$work/logs" ]; then
    for log in "$work"/logs/*.log; do say "last lines of $(basename "$log"):"; tail -n 15 "$log" >&2 || true; done
  fi
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$work"
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A cluster left behind by an interrupted run is stopped and started afresh.
if [ -d "$root/.data/$cluster" ]; then
  bash scripts/pg.sh stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$root/.data/$cluster"
fi
started_pg=1
database_url=$(bash scripts/pg.sh start "$cluster")

gateway_port=$(free_port); auth_port=$(free_port); storage_port=$(free_port); edit_port=$(free_port)
mkdir -p "$work/logs" "$work/data" "$work/blobs"
# A clean environment: the developer's .env, OpenAI key and bucket must not leak in (the
# services run in $work, where there is no .env).
service_env=(
  env -i "PATH=$PATH" "HOME=${HOME:-/root}"
  IMAGEEDIT_ENV=development LOG_LEVEL=warning BIND_HOST=127.0.0.1
  "GATEWAY_PORT=$gateway_port" "AUTH_PORT=$auth_port" "STORAGE_PORT=$storage_port" "EDIT_PORT=$edit_port"
  "AUTH_ADDRESS=127.0.0.1:$auth_port" "STORAGE_ADDRESS=127.0.0.1:$storage_port" "EDIT_ADDRESS=127.0.0.1:$edit_port"
  "DATABASE_URL=$database_url" "DATA_DIR=$work/data" "STORAGE_DIR=$work/blobs"
  # The internal services' own metrics listeners are off: their fixed ports could clash.
  AUTH_METRICS_PORT=0 STORAGE_METRICS_PORT=0 EDIT_METRICS_PORT=0
  # Registration is exercised many times: a cheap hash keeps the run short (development only).
  PASSWORD_HASH_ITERATIONS=1000
)
for service in auth storage edit gateway; do
  (cd "$work" && exec "${service_env[@]}" "$binary" "$service") >"$work/logs/$service.log" 2>&1 &
  pids+=("$!"); names+=("$service")
done

base="http://127.0.0.1:$gateway_port"
ready=""
for _ in $(seq 1 600); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then ready=1; break; fi
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null || { say "${names[$i]} exited at start"; exit 1; }
  done
  sleep 0.2
done
[ -n "$ready" ] || { say "the gateway is not ready after 120 s"; exit 1; }
say "stack up: gateway $base (auth :$auth_port, storage :$storage_port, edit :$edit_port), $database_url"

# The JSON form must be the YAML form (the generator writes both; this catches a hand edit).
python3 - "$base" <<'PY'
import json, sys, urllib.request, yaml
base = sys.argv[1]
def get(path):
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return response.headers.get("Content-Type"), response.read()
yaml_type, yaml_body = get("/api/schema/")
json_type, json_body = get("/api/schema/?format=json")
assert yaml_type == "application/vnd.oai.openapi", yaml_type
assert json_type == "application/vnd.oai.openapi+json", json_type
assert yaml.safe_load(yaml_body) == json.loads(json_body), "the served YAML and JSON documents differ: run scripts/gen-openapi.py"
PY

user="st$(date +%s)$RANDOM"
password="schemathesis-$RANDOM-$RANDOM"
curl -fsS -X POST "$base/api/register/" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$user\",\"email\":\"$user@example.com\",\"password\":\"$password\"}" >/dev/null
token=$(curl -fsS -X POST "$base/api/login/" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$user\",\"password\":\"$password\"}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')
curl -fsS -X POST "$base/api/images/images/" -H "Authorization: Bearer $token" \
  -F "image=@Tests/ImagingTests/Fixtures/gradient-64x48.png" -F "prompt=grayscale" >/dev/null
say "registered $user, logged in, uploaded image 1"
# Every route's happy path (real images, which schemathesis never makes) against the document.
python3 scripts/openapi-walk.py "$base"
say "running schemathesis ($examples examples per operation)"

seed_args=()
[ -n "${SCHEMATHESIS_SEED:-}" ] && seed_args=(--seed "$SCHEMATHESIS_SEED")
# shellcheck disable=SC2086  # SCHEMATHESIS_ARGS is a list of options
status=0
(cd "$work" && schemathesis --config-file "$root/scripts/schemathesis.toml" run "$base/api/schema/" \
  --phases examples,coverage,fuzzing \
  --max-examples "$examples" --workers "$workers" \
  --header "Authorization: Bearer $token" \
  --request-timeout 60 --generation-database none --suppress-health-check too_slow,filter_too_much \
  --no-color "${seed_args[@]}" ${SCHEMATHESIS_ARGS:-}) || status=$?

for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    exit_status=0; wait "${pids[$i]}" || exit_status=$?
    # 132 is SIGILL: a Swift trap (overflow, force unwrap, precondition), which prints nothing.
    say "${names[$i]} died during the run (exit status $exit_status)"; status=1
  fi
done
if [ "$status" -ne 0 ]; then say "FAILED"; exit "$status"; fi
say "passed"
