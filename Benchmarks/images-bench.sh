#!/usr/bin/env bash
# images-bench.sh: the image routes through all four services, under load from wrk.
#
# Builds the release `imageedit`, starts a private PostgreSQL (scripts/pg.sh, cluster
# "pg-imgbench") and `imageedit auth|storage|edit|gateway`, and measures through the gateway,
# CONNECTIONS (16) concurrent clients each:
#   upload         POST /api/images/images/ (multipart image + prompt "grayscale"): local blob
#                  store + local engine; the image is a photo-like 512x512 RGB PNG of ~0.6 MB
#                  (scripts/make_noise_png.py: gradient + noise, written with zlib, no Pillow)
#   upload-smooth  the same with a smooth 512x512 RGB PNG (a gradient, 1.9 KB: the fixture
#                  Tests/ImagingTests/Fixtures/gradient-512x512.png): the same size with the
#                  least image work, the other end from the photo-like `upload`
#   upload-1mib    the same with a 1 MiB image (512x512 RGBA noise): 16 uploads of 1 MiB in
#                  flight, for the memory figure
#   list           GET /api/images/images/?page_size=10, a user with exactly 10 images
#   upload-small   (with delete) `upload` with a 64x48 gradient PNG: the same pipeline with
#                  almost no image work; makes the images `delete` deletes
#   delete         DELETE /api/images/images/{id}/ of those images, each at most once
#                  (scripts/images-delete.lua walks the ids)
#   upload-remote  the `upload` request with S3 on moto (scripts/moto_server.py) and the edit
#                  through OpenAI's API on Tests/fakes/fake_openai.py (all four services
#                  restarted with that configuration)
# Before `upload`, image-floor.c (the upload's edit alone: the edit service's C calls, one
# thread) gives the floor under the services' CPU per upload; it is printed under the table.
# For each: req/s, p50/p99 (wrk --latency), errors, the CPU share of every process involved
# (/proc/PID/stat before/after: the four services, PostgreSQL, moto, the fake, wrk), our four
# services' CPU time per request, and each service's peak RSS during that load alone (VmHWM
# from /proc/PID/status, reset before each load by writing 5 to /proc/PID/clear_refs) plus the
# peak of their sum (VmRSS sampled every 0.2 s). Prints a table, keeps everything under
# results/images-<timestamp>/. See README.md ("Image routes").
#
# Everything is a variable (environment), defaults in brackets:
#   IMAGEEDIT_BIN     the executable [../.build/release/imageedit]
#   SKIP_BUILD        1: do not build, use IMAGEEDIT_BIN as it is [unset]
#   LOADS             which loads, in this order [upload upload-smooth upload-1mib list delete upload-remote]
#   PG_PORT [54332]  AUTH_PORT [50171]  STORAGE_PORT [50172]  EDIT_PORT [50173]
#   GATEWAY_PORT [18071]  MOTO_PORT [54372]
#   CONNECTIONS       wrk connections (concurrent clients) [16]
#   WRK_THREADS       wrk threads [2]
#   UPLOAD_SECONDS [20]  BIG_SECONDS [15]  LIST_SECONDS [15]  REMOTE_SECONDS [40]
#   DELETE_SECONDS      [5]: must end before the pre-created images run out (checked)
#   PRECREATE_SECONDS   how long upload-small runs (it makes the images delete deletes) [20]
#   PROMPT            the upload's prompt [grayscale]
#   QUIET_WAIT        before each load, wait up to this many seconds for the machine to be
#                     under QUIET_BUSY % busy (other people's builds) [180]
#   QUIET_BUSY        [15]
#   OUT               results folder [results/images-<timestamp>]
#   KEEP_DATA         1: keep the local blob store under OUT/data (GBs after `upload`) [unset]
#   SERVICE_ENV       extra NAME=VALUE words for the four services, e.g. "MALLOC_ARENA_MAX=2" []
#   BENCH_PRIO        a scheduling prefix for the four services, moto, the fake and wrk, e.g. "chrt -r 10"
#                     (real-time round-robin; PostgreSQL's postmaster and the backends it forks
#                     get the same policy): on a machine busy with other people's builds, the
#                     figures of a quiet machine. Others keep ~5 % of each core meanwhile [none]
#   REPORT_ONLY       a results folder: print its table again and stop [unset]
#   PERF              loads to profile with `perf record -g` (the four services), e.g.
#                     "upload list"; writes NAME.perf.data and NAME.perf.txt [none]
#
# Nothing is pinned to a CPU: the two cores are shared by wrk, the services, PostgreSQL (and
# moto and the fake for upload-remote), as on one small host. Only 127.0.0.1 is used. Exit
# status: 0 when every load ran with no errors, 1 when a load had errors or a process died,
# 2 on set-up failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/measure.sh
source "$HERE/scripts/measure.sh"
ROOT=$(cd "$HERE/.." && pwd)
IMAGEEDIT_BIN=${IMAGEEDIT_BIN:-$ROOT/.build/release/imageedit}
LOADS=${LOADS:-upload upload-smooth upload-1mib list delete upload-remote}
PG_PORT=${PG_PORT:-54332}
AUTH_PORT=${AUTH_PORT:-50171}
STORAGE_PORT=${STORAGE_PORT:-50172}
EDIT_PORT=${EDIT_PORT:-50173}
GATEWAY_PORT=${GATEWAY_PORT:-18071}
MOTO_PORT=${MOTO_PORT:-54372}
CONNECTIONS=${CONNECTIONS:-16}
export WRK_THREADS=${WRK_THREADS:-2}
UPLOAD_SECONDS=${UPLOAD_SECONDS:-20}
BIG_SECONDS=${BIG_SECONDS:-15}
LIST_SECONDS=${LIST_SECONDS:-15}
REMOTE_SECONDS=${REMOTE_SECONDS:-40}
DELETE_SECONDS=${DELETE_SECONDS:-5}
PRECREATE_SECONDS=${PRECREATE_SECONDS:-20}
SMALL_IMAGE="$ROOT/Tests/ImagingTests/Fixtures/gradient-64x48.png"
SMOOTH_IMAGE="$ROOT/Tests/ImagingTests/Fixtures/gradient-512x512.png"
export BENCH_PROMPT=${PROMPT:-grayscale}
QUIET_WAIT=${QUIET_WAIT:-180}
QUIET_BUSY=${QUIET_BUSY:-15}
OUT=${OUT:-$HERE/results/images-$(date +%Y%m%d-%H%M%S)}
PYTHON=${PYTHON:-python3}

BASE="http://127.0.0.1:$GATEWAY_PORT"
TAG=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
PASSWORD="bench-password-$TAG"

die() { echo "images-bench: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
wants() { [[ " $LOADS " == *" $1 "* ]]; }

[[ -z "${REPORT_ONLY:-}" ]] || OUT=$REPORT_ONLY
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[[ -n "${REPORT_ONLY:-}" ]] || echo "$0 $*" >"$OUT/command.txt"
[[ -n "${REPORT_ONLY:-}" ]] || env | grep -E '^(LOADS|CONNECTIONS|WRK_THREADS|[A-Z]+_SECONDS|PROMPT|QUIET_[A-Z]+|PERF|SKIP_BUILD|SERVICE_ENV|BENCH_PRIO|IMAGEEDIT_BIN)=' >>"$OUT/command.txt" || true

# report: the table, from $OUT/results.tsv (also alone: REPORT_ONLY=results/images-...).
report() {
    "$PYTHON" - "$OUT/results.tsv" "$CONNECTIONS" "$(cat "$OUT/idle-rss.txt" 2>/dev/null)" "$(stat -c %s "$OUT/bench-512x512-noise.png")" "$(stat -c %s "$OUT/bench-512x512-rgba-1mib.png")" "$(nproc)" "$OUT/image-floor.tsv" "$(stat -c %s "$SMOOTH_IMAGE")" <<'PY' | tee "$OUT/summary.md"
import csv, os, sys
path, connections, idle, image_bytes, big_bytes, cores, floor_path, smooth_bytes = sys.argv[1:]
rows = list(csv.DictReader(open(path), delimiter="\t"))
# The original Django service on this machine, c=16: upload+edit with a fake OpenAI, list of
# 10 rows, delete.
django = {"upload": 25, "upload-smooth": 25, "upload-1mib": 25, "upload-small": 25, "upload-remote": 25, "list": 160, "delete": 130}
targets = {"upload": 250, "upload-smooth": 250, "list": 3000}
mib = lambda kib: int(kib) / 1024
print(f"c={connections}; upload image {int(image_bytes) / 1e6:.2f} MB 512x512 RGB PNG (photo-like), upload-smooth {int(smooth_bytes) / 1e3:.1f} KB 512x512 RGB PNG (gradient),"
      f" upload-1mib {int(big_bytes) / 2**20:.2f} MiB 512x512 RGBA PNG\n")
print("| load | store + engine | req/s | target | x Django | p50 ms | p99 ms | errors | CPU % auth/storage/edit/gateway | PostgreSQL % | moto % | fake % | wrk % | our CPU ms/req | peak RSS MiB auth/storage/edit/gateway | peak sum MiB | others % (machine busy % before) |")
print("|---|---|--:|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|---|--:|---|")
for row in rows:
    rate = float(row["req_per_s"])
    target = targets.get(row["load"])
    target_text = f"{'met' if rate >= target else 'MISSED'} (≥ {target:,})" if target else ""
    if row["load"] == "upload-1mib":
        total = mib(row["peak_sum_rss"])
        target_text = f"RSS {'met' if total < 300 else 'MISSED'} (< 300 MB)"
    ratio = f"{rate / django[row['load']]:.1f}" if row["load"] in django else ""
    store = "moto S3 + fake OpenAI" if row["mode"] == "remote" else "local + local"
    cpus = "/".join(row[k] for k in ("cpu_auth", "cpu_storage", "cpu_edit", "cpu_gateway"))
    hwm = "/".join(f"{mib(row[k]):.0f}" for k in ("hwm_auth", "hwm_storage", "hwm_edit", "hwm_gateway"))
    remote = row["mode"] == "remote"
    # CPU used by everything else on the machine (other people's builds) during the run.
    ours = sum(float(row[k]) for k in ("cpu_auth", "cpu_storage", "cpu_edit", "cpu_gateway", "cpu_postgres", "cpu_moto", "cpu_fake", "cpu_wrk"))
    others = max(0.0, float(row["machine_busy"]) * int(cores) - ours)
    noisy = " noisy" if others > 25 else ""
    print(f"| {row['load']} | {store} | {rate:,.1f} | {target_text} | {ratio} | {row['p50']} | {row['p99']} | {row['errors']}"
          f" | {cpus} | {row['cpu_postgres']} | {row['cpu_moto'] if remote else ''} | {row['cpu_fake'] if remote else ''} | {row['cpu_wrk']}"
          f" | {row['ours_cpu_ms_per_req']} | {hwm} | {mib(row['peak_sum_rss']):.0f} | {others:.0f}{noisy} ({row['busy_before']}) |")
if idle.strip():
    print("\nIdle RSS at start (MiB) auth/storage/edit/gateway: " + "/".join(f"{mib(v):.0f}" for v in idle.split()))
upload = next((row for row in rows if row["load"] == "upload"), None)
if os.path.exists(floor_path):
    floor = dict(line.rstrip("\n").split("\t") for line in open(floor_path) if "\t" in line)
    edit_ms, decode_ms = float(floor["edit_ms"]), float(floor["decode_ms"])
    print(f"\nImage work floor (image-floor.c: the upload's edit alone, same C calls, one thread): {edit_ms:.2f} ms per upload"
          f" (decoding {decode_ms:.2f} ms of it), so at most {int(cores) * 1000 / edit_ms:,.0f} uploads/s on {cores} cores if nothing"
          f" else ran: not the gateway, storage, PostgreSQL or wrk.")
    if upload:
        ours = float(upload["ours_cpu_ms_per_req"])
        print(f"The services used {ours:.2f} ms of CPU per upload: {ours / edit_ms:.2f}x the floor; the edit service alone"
              f" {float(upload['cpu_edit']) * 10 / float(upload['req_per_s']):.2f} ms.")
print("\nCPU %: share of one core over the run (200 = both cores). x Django: this row's req/s over the Django")
print("service's on this machine (upload+edit with a fake OpenAI 25/s, list 160/s, delete 130/s). others %: CPU")
print("of everything else during the run (one core = 100); above 25 the row is marked noisy: rerun it.")
PY
}
if [[ -n "${REPORT_ONLY:-}" ]]; then
    CONNECTIONS=$(sed -n 's/^CONNECTIONS=//p' "$OUT/command.txt" | tail -1)
    CONNECTIONS=${CONNECTIONS:-16}
    report
    exit 0
fi

# --- tools ---------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    log "installing wrk (Debian package)"
    { apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }; } >/dev/null 2>&1 ||
        die "wrk is missing and could not be installed (apt-get install wrk)"
fi
for tool in curl "$PYTHON" flock; do command -v "$tool" >/dev/null || die "$tool is missing"; done
if wants upload-remote; then
    "$PYTHON" -c 'import moto, botocore' 2>/dev/null || die "upload-remote needs moto (pip install 'moto[server]'), or leave it out of LOADS"
fi

# --- build ---------------------------------------------------------------------------------
if [[ -z "${SKIP_BUILD:-}" ]]; then
    log "building imageedit (release)"
    (cd "$ROOT" && flock /tmp/swiftbuild.lock swift build -c release --product imageedit) >"$OUT/build.log" 2>&1 ||
        { tail -30 "$OUT/build.log" >&2; die "release build failed (log: $OUT/build.log)"; }
fi
[[ -x "$IMAGEEDIT_BIN" ]] || die "$IMAGEEDIT_BIN is not an executable (build it, or set IMAGEEDIT_BIN)"

for port in "$AUTH_PORT" "$STORAGE_PORT" "$EDIT_PORT" "$GATEWAY_PORT" "$MOTO_PORT"; do
    port_busy "$port" && die "port $port is in use: set AUTH_PORT / STORAGE_PORT / EDIT_PORT / GATEWAY_PORT / MOTO_PORT to free ports"
done

read -r -a PRIO <<<"${BENCH_PRIO:-}"

# --- images --------------------------------------------------------------------------------
IMAGE="$OUT/bench-512x512-noise.png"
BIG_IMAGE="$OUT/bench-512x512-rgba-1mib.png"
"$PYTHON" "$HERE/scripts/make_noise_png.py" "$IMAGE" --noise 48 >/dev/null
"$PYTHON" "$HERE/scripts/make_noise_png.py" "$BIG_IMAGE" --noise 255 --alpha >/dev/null
log "images: $(stat -c %s "$IMAGE") B and $(stat -c %s "$BIG_IMAGE") B (512x512, pure-Python zlib)"

# --- the image work's floor -------------------------------------------------------------------
# image-floor.c: the edit of one `upload` alone (decode, grayscale, the PNG writer: the same C
# calls the edit service makes), on one thread with nothing around it. Printed under the table.
if wants upload; then
    cc -O2 -o "$OUT/image-floor" "$HERE/image-floor.c" $(pkg-config --cflags --libs vips) -ldeflate ||
        die "could not build image-floor.c (cc, libvips-dev, libdeflate-dev)"
    wait_quiet >/dev/null
    ${PRIO[@]+"${PRIO[@]}"} "$OUT/image-floor" "$IMAGE" 200 >"$OUT/image-floor.tsv" || die "image-floor failed"
    log "image work of one upload, alone on one thread: $(sed -n 's/^edit_ms\t//p' "$OUT/image-floor.tsv") ms"
fi

# --- processes -----------------------------------------------------------------------------
AUTH_PID="" STORAGE_PID="" EDIT_PID="" GATEWAY_PID="" PG_STARTED="" MOTO_PID="" FAKE_PID="" SAMPLER=""
MODE=""
stop_services() {
    local pid
    for pid in "$GATEWAY_PID" "$EDIT_PID" "$STORAGE_PID" "$AUTH_PID"; do
        [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "$GATEWAY_PID" "$EDIT_PID" "$STORAGE_PID" "$AUTH_PID"; do
        [[ -n "$pid" ]] && timeout 35 tail --pid="$pid" -f /dev/null 2>/dev/null || true
    done
    AUTH_PID="" STORAGE_PID="" EDIT_PID="" GATEWAY_PID=""
}
cleanup() {
    [[ -n "$SAMPLER" ]] && kill "$SAMPLER" 2>/dev/null || true
    stop_services
    local pid
    for pid in "$FAKE_PID" "$MOTO_PID"; do [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true; done
    [[ -n "$PG_STARTED" ]] && bash "$ROOT/scripts/pg.sh" stop pg-imgbench >/dev/null 2>&1 || true
    [[ -n "${KEEP_DATA:-}" ]] || rm -rf "$OUT/data/blobs"
}
trap cleanup EXIT

log "starting PostgreSQL (pg-imgbench, port $PG_PORT)"
DATABASE_URL=$(bash "$ROOT/scripts/pg.sh" start pg-imgbench "$PG_PORT") || die "could not start PostgreSQL"
PG_STARTED=1
PG_PID=$(head -1 "$ROOT/.data/pg-imgbench/postmaster.pid" 2>/dev/null || echo "")
# `chrt -r 10` for a command is `chrt -r -a -p 10 PID` for the running postmaster (its backends,
# forked later by the pools, inherit it).
if [[ -n "$PG_PID" && "${BENCH_PRIO:-}" =~ ^chrt\ (-[a-z])\ ([0-9]+)$ ]]; then
    chrt "${BASH_REMATCH[1]}" -a -p "${BASH_REMATCH[2]}" "$PG_PID" >/dev/null || log "could not set $BENCH_PRIO on PostgreSQL"
fi

# The services run in $OUT (so no .env of the repository is read), with a fresh data folder.
common_env=(env -i PATH="$PATH" HOME="${HOME:-/root}" DATABASE_URL="$DATABASE_URL" DATA_DIR="$OUT/data"
    BIND_HOST=127.0.0.1 AUTH_PORT="$AUTH_PORT" STORAGE_PORT="$STORAGE_PORT" EDIT_PORT="$EDIT_PORT" GATEWAY_PORT="$GATEWAY_PORT"
    AUTH_METRICS_PORT=0 STORAGE_METRICS_PORT=0 EDIT_METRICS_PORT=0
    ${SERVICE_ENV:-})
remote_storage_env=() remote_edit_env=()

start_remote_backends() {
    log "starting moto S3 (port $MOTO_PORT) and the fake OpenAI"
    ${PRIO[@]+"${PRIO[@]}"} "$PYTHON" "$ROOT/scripts/moto_server.py" --port "$MOTO_PORT" --env-file "$OUT/moto.env" >"$OUT/moto.log" 2>&1 &
    MOTO_PID=$!
    for _ in $(seq 300); do [[ -s "$OUT/moto.env" ]] && port_busy "$MOTO_PORT" && break; kill -0 "$MOTO_PID" 2>/dev/null || break; sleep 0.1; done
    [[ -s "$OUT/moto.env" ]] || { tail "$OUT/moto.log" >&2; die "moto did not start"; }
    s3() { sed -n "s/^TEST_S3_$1=//p" "$OUT/moto.env"; }
    local region
    region=$(s3 REGION)
    remote_storage_env=(AWS_STORAGE_BUCKET_NAME="$(s3 BUCKET)" AWS_ACCESS_KEY_ID="$(s3 ACCESS_KEY_ID)"
        AWS_SECRET_ACCESS_KEY="$(s3 SECRET_ACCESS_KEY)" AWS_ENDPOINT_URL="$(s3 ENDPOINT)" AWS_S3_REGION_NAME="${region:-us-east-1}")
    local key="sk-bench-$TAG"
    # A coprocess, to read its first line (`PORT n`); bash sets FAKE_PID to its pid.
    coproc FAKE { exec ${PRIO[@]+"${PRIO[@]}"} "$PYTHON" "$ROOT/Tests/fakes/fake_openai.py" 0 --api-key "$key" 2>"$OUT/fake_openai.log"; }
    local line fake_port
    read -r -t 30 line <&"${FAKE[0]}" || die "the fake OpenAI did not start"
    fake_port=${line#PORT }
    remote_edit_env=(OPENAI_API_KEY="$key" OPENAI_BASE_URL="http://127.0.0.1:$fake_port/v1")
}

# start_services local|remote: the four services, in the order make run starts them.
start_services() {
    MODE=$1
    local storage_extra=(STORAGE_DIR="$OUT/data/blobs") edit_extra=()
    if [[ "$MODE" == remote ]]; then storage_extra=("${remote_storage_env[@]}"); edit_extra=("${remote_edit_env[@]}"); fi
    log "starting auth, storage, edit, gateway ($MODE)"
    (cd "$OUT" && exec ${PRIO[@]+"${PRIO[@]}"} "${common_env[@]}" "$IMAGEEDIT_BIN" auth >>"$OUT/auth.log" 2>&1) & AUTH_PID=$!
    (cd "$OUT" && exec ${PRIO[@]+"${PRIO[@]}"} "${common_env[@]}" "${storage_extra[@]}" "$IMAGEEDIT_BIN" storage >>"$OUT/storage.log" 2>&1) & STORAGE_PID=$!
    (cd "$OUT" && exec ${PRIO[@]+"${PRIO[@]}"} "${common_env[@]}" "${edit_extra[@]}" "$IMAGEEDIT_BIN" edit >>"$OUT/edit.log" 2>&1) & EDIT_PID=$!
    (cd "$OUT" && exec ${PRIO[@]+"${PRIO[@]}"} "${common_env[@]}" "$IMAGEEDIT_BIN" gateway >>"$OUT/gateway.log" 2>&1) & GATEWAY_PID=$!
    local ready="" pid
    for _ in $(seq 600); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" == 200 ]] && { ready=1; break; }
        for pid in "$AUTH_PID" "$STORAGE_PID" "$EDIT_PID" "$GATEWAY_PID"; do kill -0 "$pid" 2>/dev/null || break 2; done
        sleep 0.1
    done
    [[ -n "$ready" ]] || { tail -n 5 "$OUT"/{auth,storage,edit,gateway}.log >&2; die "the services did not become ready"; }
}

# --- measuring helpers (with scripts/measure.sh) -------------------------------------------
service_pids() { echo "$AUTH_PID $STORAGE_PID $EDIT_PID $GATEWAY_PID"; }
# PostgreSQL: the postmaster and its children (the pools' backends live as long as the pools).
pg_ticks() {
    local total=0 pid
    for pid in $PG_PID $(cat "/proc/$PG_PID/task/$PG_PID/children" 2>/dev/null); do total=$((total + $(proc_ticks "$pid"))); done
    echo "$total"
}
# Ticks of: auth storage edit gateway postgres moto fake.
ticks_now() { echo "$(proc_ticks "$AUTH_PID") $(proc_ticks "$STORAGE_PID") $(proc_ticks "$EDIT_PID") $(proc_ticks "$GATEWAY_PID") $(pg_ticks) $(proc_ticks "$MOTO_PID") $(proc_ticks "$FAKE_PID")"; }


# wait_idle: waits (up to 120 s) until our processes are idle: requests that wrk abandoned at
# the end of a load still finish, and must not land in the next.
wait_idle() {
    local waited=0 t0 t1 hz
    hz=$(getconf CLK_TCK)
    while ((waited < 120)); do
        t0=$(ticks_now | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }'); sleep 1
        t1=$(ticks_now | awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }')
        ((t1 - t0 <= hz / 10)) && return 0
        waited=$((waited + 1))
    done
    log "services still busy after 120 s"
}

# sample_rss NAME: samples the four services' VmRSS every 0.2 s into $OUT/NAME.rss until killed.
sample_rss() {
    local pid line
    while :; do
        line=""
        for pid in $(service_pids); do line="$line $(status_kib "$pid" VmRSS)"; done
        echo "$line"
        sleep 0.2
    done >"$OUT/$1.rss"
}

RESULTS="$OUT/results.tsv"
printf 'load\tmode\tseconds\trequests\treq_per_s\tp50\tp99\tlatency_avg\terrors\tcpu_auth\tcpu_storage\tcpu_edit\tcpu_gateway\tcpu_postgres\tcpu_moto\tcpu_fake\tcpu_wrk\tours_cpu_ms_per_req\tmachine_busy\tbusy_before\thwm_auth\thwm_storage\thwm_edit\thwm_gateway\tpeak_sum_rss\n' >"$RESULTS"
failed=0

# run_load NAME SCRIPT SECONDS: one wrk run through the gateway, recorded in results.tsv.
run_load() {
    local name=$1 script=$2 seconds=$3
    local before_busy c0 c1 m0 m1 t0 t1 sampler pid profiler=""
    wait_idle
    before_busy=$(wait_quiet)
    log "$name ($MODE): wrk -t$WRK_THREADS -c$CONNECTIONS -d${seconds}s $(basename "$script")   [machine ${before_busy}% busy before]"
    for pid in $(service_pids); do echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; done  # VmHWM := VmRSS
    sample_rss "$name" & sampler=$!
    SAMPLER=$sampler
    if [[ " ${PERF:-} " == *" $name "* ]]; then
        perf record -g -F 499 -o "$OUT/$name.perf.data" -p "$(service_pids | tr ' ' ',')" >"$OUT/$name.perf.log" 2>&1 &
        profiler=$!
    fi
    c0=$(ticks_now); m0=$(machine_ticks); t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$OUT/$name.wrk.cpu" timeout $((seconds + 90)) \
        ${PRIO[@]+"${PRIO[@]}"} wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 60s --latency \
        -s "$script" "$BASE" >"$OUT/$name.wrk.txt" 2>&1 &
    local runner=$!
    wait "$runner" || { log "$name: wrk failed"; failed=1; }
    t1=$(date +%s.%N); m1=$(machine_ticks); c1=$(ticks_now)
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    if [[ -n "$profiler" ]]; then
        kill -INT "$profiler" 2>/dev/null; wait "$profiler" 2>/dev/null || true
        perf report -i "$OUT/$name.perf.data" --no-children --sort comm,dso,symbol --stdio >"$OUT/$name.perf.txt" 2>/dev/null || true
    fi
    local died="" hwm=""
    for pid in $(service_pids); do kill -0 "$pid" 2>/dev/null || died="$died $pid"; hwm="$hwm $(status_kib "$pid" VmHWM)"; done
    [[ -z "$died" ]] || { log "$name: a service died (pid$died)"; failed=1; }
    "$PYTHON" - "$name" "$MODE" "$OUT/$name.wrk.txt" "$OUT/$name.wrk.cpu" "$OUT/$name.rss" "$c0" "$c1" "$m0 $m1" "$t0 $t1" \
        "$(getconf CLK_TCK)" "$before_busy" "$hwm" >>"$RESULTS" <<'PY' || failed=1
import re, sys
name, mode, wrk_path, wrk_cpu_path, rss_path, c0, c1, machine, times, hz, before, hwm = sys.argv[1:]
text = open(wrk_path).read()
def find(pattern, default="?"):
    match = re.search(pattern, text)
    return match.group(1) if match else default
def ms(value):  # wrk prints 812.00us, 3.45ms, 1.20s, 2.00m
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        return float("nan")
    return float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[match.group(2)]
requests = int(find(r"(\d+) requests in", "0"))
rate = float(find(r"Requests/sec:\s+([\d.]+)", "0"))
errors = int(find(r"Non-2xx or 3xx responses: (\d+)", "0"))
socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
if socket:
    errors += sum(int(value) for value in socket.groups())
t0, t1 = map(float, times.split())
wall = t1 - t0
hz = int(hz)
before_ticks, after_ticks = list(map(int, c0.split())), list(map(int, c1.split()))
cpu = [100 * (b - a) / (wall * hz) for a, b in zip(before_ticks, after_ticks)]
try:
    wrk_cpu = 100 * sum(map(float, open(wrk_cpu_path).read().split()[-2:])) / wall
except (OSError, ValueError):
    wrk_cpu = float("nan")
ours_ms = 1000 * sum(b - a for a, b in list(zip(before_ticks, after_ticks))[:4]) / hz / max(1, requests)
m = list(map(int, machine.split()))
machine_busy = 100 * (m[2] - m[0]) / max(1, m[3] - m[1])
samples = [list(map(int, line.split())) for line in open(rss_path) if len(line.split()) == 4]
peak_sum = max((sum(s) for s in samples), default=0)
hwm = hwm.split()
# Anchored: a "+/- Stdev" figure such as 71.50% must not pass for the 50% line.
p50, p99 = ms(find(r"(?m)^\s+50%\s+(\S+)")), ms(find(r"(?m)^\s+99%\s+(\S+)"))
average = ms(find(r"(?m)^\s+Latency\s+(\S+)"))
print("\t".join([name, mode, f"{wall:.1f}", str(requests), f"{rate:.1f}", f"{p50:.2f}", f"{p99:.2f}", f"{average:.2f}",
                 str(errors)] + [f"{value:.0f}" for value in cpu] + [f"{wrk_cpu:.0f}", f"{ours_ms:.2f}", f"{machine_busy:.0f}", before]
                + hwm + [str(peak_sum)]))
if requests == 0 or errors:
    sys.exit(1)
PY
    tail -1 "$RESULTS" | awk -F'\t' '{ printf "   %s req/s, p50 %s ms, p99 %s ms, errors %s\n", $5, $6, $7, $9 }' >&2
}

# --- accounts ------------------------------------------------------------------------------
register() {  # NAME
    curl -sf -o /dev/null -X POST "$BASE/api/register/" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1_$TAG\",\"email\":\"$1-$TAG@example.com\",\"password\":\"$PASSWORD\"}" ||
        die "registering $1 failed (log: $OUT/gateway.log)"
}
token_for() {  # NAME: a fresh access token (15 min)
    curl -sf -X POST "$BASE/api/login/" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1-$TAG@example.com\",\"password\":\"$PASSWORD\"}" |
        "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["access"])' || die "login of $1 failed"
}
upload_once() {  # TOKEN IMAGE: one upload, must be 201
    local status
    status=$(curl -s -o "$OUT/upload-check.json" -w '%{http_code}' -X POST "$BASE/api/images/images/" \
        -H "Authorization: Bearer $1" -F "image=@$2;type=image/png" -F "prompt=$BENCH_PROMPT")
    [[ "$status" == 201 ]] || { cat "$OUT/upload-check.json" >&2; die "a check upload answered $status, not 201"; }
}
all_ids() {  # TOKEN: every image id of the user, one a line
    "$PYTHON" - "$BASE" "$1" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1:]
page = 1
while True:
    request = urllib.request.Request(f"{base}/api/images/images/?page={page}&page_size=100", headers={"Authorization": f"Bearer {token}"})
    data = json.load(urllib.request.urlopen(request))
    for image in data["results"]:
        print(image["id"])
    if not data["next"]:
        break
    page += 1
PY
}

# --- loads ---------------------------------------------------------------------------------
export BENCH_TOKEN BENCH_IMAGE BENCH_IDS
if wants upload || wants upload-smooth || wants upload-1mib || wants list || wants delete; then
    start_services local
    for pid in $(service_pids); do echo -n "$(status_kib "$pid" VmRSS) "; done >"$OUT/idle-rss.txt"
    register uploader; register big; register lister
    BENCH_TOKEN=$(token_for uploader); upload_once "$BENCH_TOKEN" "$IMAGE"
    grep -q '"applied_operations":\["grayscale"\]' "$OUT/upload-check.json" || log "note: the check upload's applied_operations is not [grayscale]: $(cat "$OUT/upload-check.json")"
    if wants upload; then
        BENCH_IMAGE=$IMAGE run_load upload "$HERE/scripts/images-upload.lua" "$UPLOAD_SECONDS"
    fi
    if wants upload-smooth; then
        BENCH_IMAGE=$SMOOTH_IMAGE run_load upload-smooth "$HERE/scripts/images-upload.lua" "$UPLOAD_SECONDS"
    fi
    if wants upload-1mib; then
        BENCH_TOKEN=$(token_for big)
        BENCH_IMAGE=$BIG_IMAGE run_load upload-1mib "$HERE/scripts/images-upload.lua" "$BIG_SECONDS"
    fi
    if wants list; then
        BENCH_TOKEN=$(token_for lister)
        for _ in $(seq 10); do upload_once "$BENCH_TOKEN" "$IMAGE"; done
        [[ "$(curl -s "$BASE/api/images/images/?page_size=10" -H "Authorization: Bearer $BENCH_TOKEN" | "$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(d["count"], len(d["results"]))')" == "10 10" ]] ||
            die "the list user does not see exactly 10 images"
        run_load list "$HERE/scripts/images-list.lua" "$LIST_SECONDS"
    fi
    if wants delete; then
        # The images to delete: `upload-small` uploads them (a 64x48 gradient PNG: the same
        # pipeline with almost no image work, measured too).
        register deleter
        BENCH_TOKEN=$(token_for deleter)
        BENCH_IMAGE=$SMALL_IMAGE run_load upload-small "$HERE/scripts/images-upload.lua" "$PRECREATE_SECONDS"
        BENCH_IDS="$OUT/delete-ids.txt"
        all_ids "$BENCH_TOKEN" >"$BENCH_IDS"
        log "delete: $(wc -l <"$BENCH_IDS") images"
        run_load delete "$HERE/scripts/images-delete.lua" "$DELETE_SECONDS"
        left=$(all_ids "$BENCH_TOKEN" | wc -l)
        log "delete: $left images left"
        ((left > 0)) || { log "delete: ran out of images, the rate is too low: raise PRECREATE_SECONDS or lower DELETE_SECONDS"; failed=1; }
    fi
    stop_services
fi
if wants upload-remote; then
    start_remote_backends
    start_services remote
    # Its own user: `die` inside `$(token_for uploader)` would end that subshell, not fall back,
    # when upload-remote runs alone (LOADS=upload-remote) and `uploader` was never registered.
    register remote
    BENCH_TOKEN=$(token_for remote)
    upload_once "$BENCH_TOKEN" "$IMAGE"
    BENCH_IMAGE=$IMAGE run_load upload-remote "$HERE/scripts/images-upload.lua" "$REMOTE_SECONDS"
    stop_services
fi

# --- report ---------------------------------------------------------------------------------
report
echo "raw output: $OUT" >&2
exit "$failed"
