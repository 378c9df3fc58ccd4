#!/usr/bin/env bash
# Brings the compose environment (compose/docker-compose.yml) up for real on a machine with no
# Docker engine and no image registry, runs the REST API through it, and tears it all down.
#
#   scripts/compose-smoke.sh          everything below; exit 0 only when every check passed
#   KEEP_UP=1 scripts/compose-smoke.sh  leave the stack running (stop it with `... down`)
#   scripts/compose-smoke.sh images    only build the images (cached; the first time ~20 min)
#   scripts/compose-smoke.sh down      stop a stack left running, its volumes and the service
#
# How, since there is no Docker and no registry:
#   engine    podman (runc, explicit nofile/nproc ulimits, a private containers.conf) behind
#             Debian's docker-compose 1.29, through `podman system service` on a private socket
#   images    built here from a Debian bookworm base made with debootstrap and `podman import`
#             (cached under .data/compose): a Swift builder (the host's /opt/swift and the
#             package mirror /opt/swift-packages are mounted into the build), PostgreSQL 15, and
#             moto's S3 server in place of MinIO (compose/docker-compose.local.yml swaps it in);
#             the imageedit image itself is compose/Containerfile, unchanged
#   health    podman runs health checks from systemd timers; with no systemd this script runs
#             `podman healthcheck run` for every container every two seconds instead
#
# Then through the gateway with curl: register, login, upload a PNG (original and edited are
# stored in S3), list, download original and edited, delete, and the list is empty again.
# Everything started is torn down on exit, failure or Ctrl-C (containers, volumes, network,
# the podman service). The release build of the Swift image holds /tmp/swiftbuild.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

STATE=${COMPOSE_SMOKE_STATE:-$ROOT/.data/compose}
PROJECT=imageedit-smoke
SWIFT_ROOT=${SWIFT_ROOT:-/opt/swift}
PACKAGE_MIRROR=${PACKAGE_MIRROR:-/opt/swift-packages}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SWIFT_LOCK=${SWIFT_LOCK:-/tmp/swiftbuild.lock}
GATEWAY_PUBLISH_PORT=${GATEWAY_PUBLISH_PORT:-18000}

BASE_IMAGE=localhost/imageedit/bookworm:base
BUILDER_IMAGE=localhost/imageedit/swift-builder:latest
POSTGRES_IMAGE=localhost/imageedit/postgres:15
S3_IMAGE=localhost/imageedit/moto-s3:latest
APP_IMAGE=localhost/imageedit/imageedit:local

SOCKET=$STATE/podman.sock
COMPOSE_FILES=(-f compose/docker-compose.yml -f compose/docker-compose.local.yml)
START=$(date +%s)

log() { printf '[compose-smoke %4ss] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

# --- engine ----------------------------------------------------------------------------------

install_packages() {
    local packages=(podman runc docker-compose debootstrap netavark aardvark-dns catatonit curl) missing=()
    for package in "${packages[@]}"; do
        # (grep without -q: with pipefail, -q would leave dpkg writing to a closed pipe)
        dpkg -s "$package" 2>/dev/null | grep '^Status: install ok installed' >/dev/null || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "apt: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# A containers.conf of our own: runc, cgroupfs and file events (no systemd here), and explicit
# ulimits: podman's defaults (nofile 1048576, and buildah's nproc 1048576) exceed what this
# machine lets runc set (hard nofile 20000; nproc above 32768 is refused), and runc then fails
# to start any container ("error setting rlimit type 6"). 16384 processes and up to 65536
# files are plenty for these services.
configure_podman() {
    mkdir -p "$STATE"
    local hard_nofile hard_nproc
    hard_nofile=$(ulimit -Hn); hard_nproc=$(ulimit -Hu)
    [ "$hard_nofile" = unlimited ] && hard_nofile=65536
    [ "$hard_nproc" = unlimited ] && hard_nproc=65536
    nofile=$((hard_nofile < 65536 ? hard_nofile : 65536))
    nproc=$((hard_nproc < 16384 ? hard_nproc : 16384))
    cat > "$STATE/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
EOF
    export CONTAINERS_CONF=$STATE/containers.conf
    # `podman build` (buildah) does not read default_ulimits and would ask for more.
    BUILD_ULIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
}

SERVICE_PID=
start_service() {
    rm -f "$SOCKET"
    podman system service --time=0 "unix://$SOCKET" >"$STATE/podman-service.log" 2>&1 &
    SERVICE_PID=$!
    for _ in $(seq 1 50); do
        [ -S "$SOCKET" ] && curl -fsS --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1 && break
        sleep 0.2
    done
    curl -fsS --unix-socket "$SOCKET" http://d/_ping >/dev/null || fail "podman system service did not answer on $SOCKET"
    export DOCKER_HOST=unix://$SOCKET
    log "podman system service on $SOCKET (pid $SERVICE_PID)"
}

HEALTH_PID=
# Runs every container's health check every two seconds (what systemd timers would do).
start_health_loop() {
    (
        while sleep 2; do
            for id in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT" 2>/dev/null); do
                podman healthcheck run "$id" >/dev/null 2>&1 || true
            done
        done
    ) &
    HEALTH_PID=$!
}

compose() {
    docker-compose -p "$PROJECT" --project-directory compose --env-file "$STATE/smoke.env" "${COMPOSE_FILES[@]}" "$@"
}

# teardown [STATUS]: STATUS is given for a signal (130 INT, 143 TERM); on EXIT it is $?.
set_traps() {
    trap teardown EXIT
    trap 'log "interrupted"; teardown 130' INT
    trap 'log "terminated"; teardown 143' TERM
}

teardown() {
    local status=${1:-$?}
    trap - EXIT INT TERM
    if [ "${KEEP_UP:-0}" = 1 ] && [ "$status" -eq 0 ]; then
        log "KEEP_UP=1: the stack is running on http://127.0.0.1:$GATEWAY_PUBLISH_PORT (DOCKER_HOST=$DOCKER_HOST); stop it with: $0 down"
        [ -z "$HEALTH_PID" ] || kill "$HEALTH_PID" 2>/dev/null || true
        exit 0
    fi
    if [ "$status" -ne 0 ] && [ -n "${DOCKER_HOST:-}" ]; then
        log "logs of the failed run:"
        compose logs --no-color --tail=40 2>&1 | sed 's/^/    /' >&2 || true
    fi
    log "tearing down"
    if [ -n "$HEALTH_PID" ]; then kill "$HEALTH_PID" 2>/dev/null || true; wait "$HEALTH_PID" 2>/dev/null || true; fi
    if [ -n "${DOCKER_HOST:-}" ]; then
        compose down --volumes --remove-orphans --timeout 20 >"$STATE/down.log" 2>&1 || log "docker-compose down failed (see $STATE/down.log)"
    fi
    # Whatever compose could not remove (a run that failed half-way).
    podman ps -aq --filter "label=com.docker.compose.project=$PROJECT" | xargs -r podman rm -f >/dev/null 2>&1 || true
    podman volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
    if [ -n "$SERVICE_PID" ]; then kill "$SERVICE_PID" 2>/dev/null || true; wait "$SERVICE_PID" 2>/dev/null || true; fi
    rm -f "$SOCKET"
    local left
    left=$(podman ps -aq --filter "label=com.docker.compose.project=$PROJECT" | wc -l)/$(podman volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | wc -l)
    log "left behind (containers/volumes of $PROJECT): $left"
    if [ "$status" -eq 0 ]; then log "PASSED in $(($(date +%s) - START))s"; else log "FAILED (exit $status)"; fi
    exit "$status"
}

# --- images ----------------------------------------------------------------------------------

# Debian bookworm from the apt mirror, as a tarball kept under $STATE, imported once.
build_base_image() {
    if podman image exists "$BASE_IMAGE"; then return; fi
    local tarball=$STATE/bookworm-minbase.tar
    if [ ! -s "$tarball" ]; then
        log "debootstrap: Debian bookworm (minbase) from $DEBIAN_MIRROR"
        local rootfs=$STATE/rootfs-bookworm
        rm -rf "$rootfs"
        debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$STATE/debootstrap.log" 2>&1 \
            || fail "debootstrap failed (see $STATE/debootstrap.log)"
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
    fi
    log "podman import: $BASE_IMAGE"
    podman import --quiet --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        "$tarball" "$BASE_IMAGE" >/dev/null
}

# podman build on the host network (the containers reach deb.debian.org like the host does).
build() {
    local tag=$1; shift
    local started=$(date +%s) name=${tag##*/}
    local logfile=$STATE/build-${name%%:*}.log
    podman build --network host --layers "${BUILD_ULIMITS[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$tag" "$@" >"$logfile" 2>&1 \
        || { tail -30 "$logfile" >&2; fail "building $tag failed (see $logfile)"; }
    log "built $tag ($(($(date +%s) - started))s)"
}

build_images() {
    build_base_image
    build "$BUILDER_IMAGE" -f compose/local/Containerfile.builder compose/local
    build "$POSTGRES_IMAGE" -f compose/local/Containerfile.postgres compose/local
    # moto and its dependencies as wheels, fetched on the host with its pip settings.
    local wheels=$STATE/s3-context/wheels
    if [ ! -f "$STATE/wheels.done" ] || [ ! -d "$wheels" ]; then
        rm -rf "$wheels"
        python3 -m pip download --quiet --dest "$wheels" --only-binary=:all: 'moto[server]>=5.0' >"$STATE/pip-download.log" 2>&1 \
            || fail "pip download moto[server] failed (see $STATE/pip-download.log)"
        touch "$STATE/wheels.done"
    fi
    build "$S3_IMAGE" -f compose/local/Containerfile.s3 "$STATE/s3-context"
    log "building $APP_IMAGE (release build of imageedit; waits for $SWIFT_LOCK)"
    flock "$SWIFT_LOCK" podman build --network host --layers "${BUILD_ULIMITS[@]}" \
        -v "$SWIFT_ROOT:$SWIFT_ROOT:ro" -v "$PACKAGE_MIRROR:$PACKAGE_MIRROR:ro" \
        --build-arg "BUILDER_IMAGE=$BUILDER_IMAGE" --build-arg "RUNTIME_IMAGE=$BASE_IMAGE" \
        -f compose/Containerfile -t "$APP_IMAGE" . >"$STATE/build-imageedit.log" 2>&1 \
        || { tail -30 "$STATE/build-imageedit.log" >&2; fail "building $APP_IMAGE failed (see $STATE/build-imageedit.log)"; }
    log "built $APP_IMAGE: $(podman image inspect --format '{{.Size}}' "$APP_IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"
}

# --- the run ---------------------------------------------------------------------------------

write_env() {
    cat > "$STATE/smoke.env" <<EOF
IMAGEEDIT_IMAGE=$APP_IMAGE
POSTGRES_IMAGE=$POSTGRES_IMAGE
S3_IMAGE=$S3_IMAGE
GATEWAY_PUBLISH_PORT=$GATEWAY_PUBLISH_PORT
POSTGRES_PASSWORD=smoke-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
S3_ACCESS_KEY=smoke
S3_SECRET_KEY=smoke-secret-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
S3_BUCKET=imageedit
PASSWORD_HASH_ITERATIONS=100000
LOG_LEVEL=info
EOF
}

BASE_URL=http://127.0.0.1:$GATEWAY_PUBLISH_PORT
WORK=$STATE/run
PASSED=()

# request NAME EXPECTED_STATUS curl-arguments...: runs curl, checks the status, keeps the body
# in $WORK/NAME.body.
request() {
    local name=$1 expected=$2; shift 2
    local status
    status=$(curl -sS -o "$WORK/$name.body" -w '%{http_code}' --max-time 120 "$@") || fail "$name: curl failed"
    if [ "$status" != "$expected" ]; then
        log "$name: body: $(head -c 400 "$WORK/$name.body")"
        fail "$name: HTTP $status, expected $expected"
    fi
}

json() { python3 -c 'import json, sys; data = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {"d": data}))' "$WORK/$1.body" "$2"; }

check() {
    local name=$1; shift
    "$@" || fail "$name"
    PASSED+=("$name")
    log "ok: $name"
}

run_api_checks() {
    rm -rf "$WORK"; mkdir -p "$WORK"
    cp "$ROOT/Tests/ImagingTests/Fixtures/gradient-64x48.png" "$WORK/input.png"  # 64x48 RGB
    local user="smoke$RANDOM" password="Smoke-password-$RANDOM!"

    request readyz 200 "$BASE_URL/readyz"
    check "GET /readyz is 200" true
    request metrics 200 "$BASE_URL/metrics"
    local internal=""
    for pair in auth:9101 storage:9102 edit:9103; do
        compose exec -T "${pair%%:*}" curl -fsS -o /dev/null "http://127.0.0.1:${pair##*:}/metrics" || internal="$internal ${pair%%:*}"
    done
    check "GET /metrics answers on the gateway and on auth, storage and edit's metrics ports" \
        test -s "$WORK/metrics.body" -a -z "$internal"

    request register 201 -H 'Content-Type: application/json' \
        -d "{\"username\": \"$user\", \"email\": \"$user@example.com\", \"password\": \"$password\"}" "$BASE_URL/api/register/"
    check "register: 201, echoes the username, not the password" \
        test "$(json register 'd["username"]')" = "$user" -a "$(json register '"password" in d')" = False

    request login 200 -H 'Content-Type: application/json' -d "{\"email\": \"$user@example.com\", \"password\": \"$password\"}" "$BASE_URL/api/login/"
    local token
    token=$(json login 'd["access_token"]')
    check "login: 200 with a Bearer access token" test "$(json login 'd["token_type"]')" = Bearer -a -n "$token"
    local auth=(-H "Authorization: Bearer $token")

    request upload 201 "${auth[@]}" -F "image=@$WORK/input.png;type=image/png" -F 'prompt=make it brighter' "$BASE_URL/api/images/images/"
    local id
    id=$(json upload 'd["image_data"]["id"]')
    check "upload: 201 with an id, both URLs and the image's size" \
        test -n "$id" -a "$(json upload 'd["image_data"]["width"], d["image_data"]["height"]')" = "(64, 48)" \
             -a -n "$(json upload 'd["original_image_url"]')" -a -n "$(json upload 'd["dalle_edited_image_url"]')"

    check "upload: the bucket holds the original and the edited image" test "$(bucket_object_count)" = 2

    request list 200 "${auth[@]}" "$BASE_URL/api/images/images/"
    check "list: count 1, the uploaded id" test "$(json list 'd["count"], str(d["results"][0]["id"])')" = "(1, '$id')"

    request original 200 "${auth[@]}" "$BASE_URL/api/images/images/$id/original"
    check "download original: the uploaded bytes" cmp -s "$WORK/input.png" "$WORK/original.body"

    request edited 200 "${auth[@]}" "$BASE_URL/api/images/images/$id/edited"
    check "download edited: a PNG, not the original" \
        test "$(head -c 8 "$WORK/edited.body" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a -a -n "$(cmp -s "$WORK/input.png" "$WORK/edited.body" || echo differs)"

    request delete 204 -X DELETE "${auth[@]}" "$BASE_URL/api/images/images/$id/"
    check "delete: 204" true
    request gone 404 "${auth[@]}" "$BASE_URL/api/images/images/$id/"
    request list-after 200 "${auth[@]}" "$BASE_URL/api/images/images/"
    check "after delete: the image is 404 and the list is empty" test "$(json list-after 'd["count"]')" = 0

    check "after delete: the bucket holds no objects" test "$(bucket_object_count)" = 0
}

# Objects in the bucket, counted inside the compose network by the S3 container's boto3.
bucket_object_count() {
    compose exec -T s3 python3 -c '
import boto3, os
s3 = boto3.client("s3", endpoint_url="http://localhost:9000", region_name="us-east-1",
                  aws_access_key_id=os.environ["S3_ACCESS_KEY"], aws_secret_access_key=os.environ["S3_SECRET_KEY"])
print(s3.list_objects_v2(Bucket=os.environ["S3_BUCKET"]).get("KeyCount", 0))' 2>&1
}

main() {
    install_packages
    configure_podman
    build_images
    write_env
    start_service
    set_traps
    log "validating the compose files"
    compose config -q || fail "docker-compose config rejected the files"
    start_health_loop
    log "docker-compose up"
    local started=$(date +%s)
    # up -d waits for each dependency's health; bounded, so a check that never runs cannot hang it.
    timeout 900 docker-compose -p "$PROJECT" --project-directory compose --env-file "$STATE/smoke.env" "${COMPOSE_FILES[@]}" \
        up -d --no-build >"$STATE/up.log" 2>&1 || { cat "$STATE/up.log" >&2; fail "docker-compose up failed"; }
    # up -d returns once the gateway container started; wait for it to answer /readyz.
    for _ in $(seq 1 90); do
        curl -fsS --max-time 3 "$BASE_URL/readyz" >/dev/null 2>&1 && break
        sleep 2
    done
    log "stack up and ready in $(($(date +%s) - started))s"
    # The gateway's own health check (GET /readyz from inside its container) turns it healthy.
    for _ in $(seq 1 30); do
        [ "$(podman inspect --format '{{.State.Health.Status}}' "${PROJECT}_gateway_1" 2>/dev/null)" = healthy ] && break
        sleep 2
    done
    compose ps >&2
    local unhealthy
    unhealthy=$(for name in postgres s3 auth storage edit gateway; do
        [ "$(podman inspect --format '{{.State.Health.Status}}' "${PROJECT}_${name}_1" 2>/dev/null)" = healthy ] || echo "$name"
    done)
    check "every service's health check passes (gRPC health for auth, storage, edit; /readyz for the gateway)" test -z "$unhealthy"
    check "create-bucket exited 0" test "$(podman inspect --format '{{.State.ExitCode}}' "${PROJECT}_create-bucket_1")" = 0
    run_api_checks
    log "${#PASSED[@]} checks passed"
}

if [ "${1:-}" = images ]; then
    install_packages
    configure_podman
    build_images
    exit 0
fi
if [ "${1:-}" = down ]; then
    configure_podman
    [ -f "$STATE/smoke.env" ] || write_env
    start_service
    set_traps
    exit 0
fi
main
