#!/usr/bin/env bash
# rpc-bench.sh: unary Echo throughput and latency of gRPC servers over h2c, driven by h2load.
#
# For each server x payload x load shape: start the server pinned to one CPU, check once
# with nghttp that it really answers Echo (HTTP 200, the echoed bytes, grpc-status 0 in the
# trailers), then run h2load pinned to another CPU for a fixed duration. Prints a table
# (req/s, p50, p99, errors, req/s ratios against the reference peers) and keeps the raw
# output under results/<timestamp>/. See README.md for what the numbers mean.
#
# Everything is a variable (environment), defaults in brackets:
#   OURS_BIN        our server, run as "$OURS_BIN serve --port N" [../.build/release/rpc-interop]
#   SWIFT_ECHO_BIN  grpc-swift-2 peer [.build/release/grpc-swift-echo]
#   SWIFT_ECHO_ARGS extra grpc-swift-echo flags, e.g. "--window 16777215" [none: stock settings]
#   PYTHON          interpreter with grpcio [python3]
#   SERVERS         which servers [ours grpc-swift-2 grpcio grpcio-aio nghttpd nghttpd-echo]
#   PAYLOADS        EchoRequest.payload sizes, k/M = KiB/MiB [64 1M]
#   SHAPES          connections x concurrent streams per connection [1x1 1x100 8x32]
#   DURATION        measured seconds per run (h2load -D) [6]
#   WARMUP          warm-up seconds before each run, not measured [1]
#   SERVER_CPU      CPU list for the server (taskset -c) [0]
#   CLIENT_CPU      CPU list for h2load [1]
#   BASE_PORT       first port; each server gets its own [50070]
#   NGHTTPD_OPTS    extra nghttpd flags [-w 24 -W 24: 16 MiB stream/connection windows]
#   OUT             results folder [results/<timestamp>]
#   QUIET_WAIT      before each run, wait up to this many seconds for both cores to be
#                   under QUIET_BUSY % busy (other people's builds) [180]
#   QUIET_BUSY      [15]
#   BENCH_PRIO      command prefix giving the servers and h2load a priority over other work on
#                   a shared machine, the same for every peer: e.g. "nice -n -15", or
#                   "chrt -r 10" (real-time round-robin; the kernel still leaves others 5 %)
#                   [unset: as is]
#   OURS_ENV        environment for our server [NIO_SINGLETON_GROUP_LOOP_COUNT=1: one event
#                   loop for the one core it gets, as grpc-swift-echo's --threads 1]
#
# Only loopback (127.0.0.1) is ever targeted. Every run ends by itself (h2load -D, plus a
# hard timeout). Exit status: 0 when every available server passed its check, 1 otherwise.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/measure.sh
source "$HERE/scripts/measure.sh"
OURS_BIN=${OURS_BIN:-$HERE/../.build/release/rpc-interop}
SWIFT_ECHO_BIN=${SWIFT_ECHO_BIN:-$HERE/.build/release/grpc-swift-echo}
SWIFT_ECHO_ARGS=${SWIFT_ECHO_ARGS:-}
PYTHON=${PYTHON:-python3}
SERVERS=${SERVERS:-"ours grpc-swift-2 grpcio grpcio-aio nghttpd nghttpd-echo"}
PAYLOADS=${PAYLOADS:-"64 1M"}
SHAPES=${SHAPES:-"1x1 1x100 8x32"}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-50070}
# nghttpd is the ceiling, so it gets generous receive windows (the default 64 KiB throttles
# 1 MiB uploads); the gRPC peers keep their stock settings.
NGHTTPD_OPTS=${NGHTTPD_OPTS:-"-w 24 -W 24"}
OUT=${OUT:-$HERE/results/$(date +%Y%m%d-%H%M%S)}
QUIET_WAIT=${QUIET_WAIT:-180}
QUIET_BUSY=${QUIET_BUSY:-15}
BENCH_PRIO=${BENCH_PRIO:-}
OURS_ENV=${OURS_ENV:-NIO_SINGLETON_GROUP_LOOP_COUNT=1}
PRIO=()
[[ -n "$BENCH_PRIO" ]] && read -r -a PRIO <<<"$BENCH_PRIO"

METHOD_PATH=/imageedit.testing.v1.InteropService/Echo
HOST=127.0.0.1

die() { echo "rpc-bench: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }

for tool in h2load nghttp nghttpd taskset timeout; do
    command -v "$tool" >/dev/null ||
        die "$tool not found; install with: apt-get install -y nghttp2-client nghttp2-server util-linux coreutils"
done

mkdir -p "$OUT/raw" "$OUT/bodies" "$OUT/htdocs"
ln -sfn "$OUT" "$HERE/results/latest" 2>/dev/null || true
RUNS="$OUT/runs.tsv"
printf 'server\tpayload\tshape\tstatus\th2load_output\tlatency_log\tserver_cpu_pct\tserver_core_busy_pct\tclient_core_busy_pct\tothers_cpu_pct\tbusy_before_pct\n' >"$RUNS"

# The environment the numbers were taken in.
{
    echo "date: $(date -Is)"
    echo "host: $(uname -srm), $(nproc) CPUs"
    echo "command: SERVERS='$SERVERS' PAYLOADS='$PAYLOADS' SHAPES='$SHAPES' DURATION=$DURATION WARMUP=$WARMUP SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU $0"
    echo "h2load: $(h2load --version | head -1)"
    echo "nghttpd: $(nghttpd --version | head -1)"
    echo "grpcio: $("$PYTHON" -c 'import grpc; print(grpc.__version__)' 2>/dev/null || echo missing)"
    echo "ours: $OURS_BIN"
    echo "grpc-swift-echo: $SWIFT_ECHO_BIN --threads 1 $SWIFT_ECHO_ARGS"
    echo "nghttpd options: $NGHTTPD_OPTS"
    echo "ours environment: $OURS_ENV"
    echo "priority: ${BENCH_PRIO:-default}"
    echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/env.txt"

log "request bodies"
"$PYTHON" "$HERE/scripts/make_bodies.py" "$OUT/bodies" $PAYLOADS >"$OUT/bodies/sizes.txt"

SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

# Why a server cannot run here, or nothing when it can.
unavailable() {
    case "$1" in
        ours) [[ -x "$OURS_BIN" ]] || echo "no executable at $OURS_BIN (swift build -c release --product rpc-interop in the main package, or set OURS_BIN)" ;;
        grpc-swift-2) [[ -x "$SWIFT_ECHO_BIN" ]] || echo "no executable at $SWIFT_ECHO_BIN (swift build -c release in Benchmarks/, or set SWIFT_ECHO_BIN)" ;;
        grpcio | grpcio-aio) "$PYTHON" -c 'import grpc' 2>/dev/null || echo "$PYTHON cannot import grpc (pip install grpcio)" ;;
        nghttpd | nghttpd-echo) ;;
        *) echo "unknown server name (known: ours grpc-swift-2 grpcio grpcio-aio nghttpd nghttpd-echo)" ;;
    esac
}

# start_server NAME PORT PAYLOAD: starts it pinned to SERVER_CPU; sets SERVER_PID.
start_server() {
    local name=$1 port=$2 payload=$3 logfile="$OUT/raw/$1-$3.server.log"
    local pin=("${PRIO[@]}" taskset -c "$SERVER_CPU")
    # Something already listening there would be benchmarked in the server's place.
    if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then
        echo "port $port is already in use by another process" >"$logfile"
        return 1
    fi
    case "$name" in
        # One event loop for the one core it gets (NIO's default counts the machine's cores).
        ours) env $OURS_ENV "${pin[@]}" "$OURS_BIN" serve --port "$port" >"$logfile" 2>&1 & ;;
        # One event loop for the one core it gets (NIO's default counts the machine's cores).
        grpc-swift-2) "${pin[@]}" "$SWIFT_ECHO_BIN" --threads 1 $SWIFT_ECHO_ARGS --port "$port" >"$logfile" 2>&1 & ;;
        grpcio) "${pin[@]}" "$PYTHON" "$HERE/peers/grpcio_echo_server.py" --port "$port" >"$logfile" 2>&1 & ;;
        grpcio-aio) "${pin[@]}" "$PYTHON" "$HERE/peers/grpcio_echo_server.py" --aio --port "$port" >"$logfile" 2>&1 & ;;
        nghttpd)
            # A static file at the method's path whose bytes are exactly the echoed response;
            # nghttpd reads and drops the POST body and answers with the file.
            local root="$OUT/htdocs/$payload"
            mkdir -p "$root/${METHOD_PATH%/*}"
            cp "$OUT/bodies/echo-$payload.grpc" "$root$METHOD_PATH"
            "${pin[@]}" nghttpd --no-tls --no-content-length $NGHTTPD_OPTS -a "$HOST" -d "$root" \
                --trailer 'grpc-status: 0' "$port" >"$logfile" 2>&1 &
            ;;
        nghttpd-echo)
            # nghttpd sends the uploaded body back (it spools it to a temporary file first).
            "${pin[@]}" nghttpd --no-tls --no-content-length $NGHTTPD_OPTS -a "$HOST" -d "$OUT/htdocs" \
                --echo-upload --trailer 'grpc-status: 0' "$port" >"$logfile" 2>&1 &
            ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 300); do
        kill -0 "$SERVER_PID" 2>/dev/null || { SERVER_PID=""; return 1; }
        (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# verify NAME PORT PAYLOAD: one Echo call with nghttp; prints why it failed, or nothing.
verify() {
    local name=$1 port=$2 payload=$3 body="$OUT/bodies/echo-$3.grpc"
    local trace="$OUT/raw/$name-$payload.verify.txt" echoed="$OUT/raw/$name-$payload.verify.body"
    local url="http://$HOST:$port$METHOD_PATH"
    local hdrs=(-H 'content-type: application/grpc' -H 'te: trailers')
    timeout 30 nghttp -nv -d "$body" "${hdrs[@]}" "$url" >"$trace" 2>&1 || { echo "nghttp -v failed (see $trace)"; return; }
    timeout 30 nghttp -d "$body" "${hdrs[@]}" "$url" >"$echoed" 2>/dev/null || { echo "nghttp failed"; return; }
    "$PYTHON" - "$trace" "$body" "$echoed" <<'EOF'
import re, sys
trace, body, echoed = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
lines = open(trace, errors="replace").read().splitlines()
problems = []
status = [l.split(":status:")[1].strip() for l in lines if re.search(r"recv \(stream_id=\d+\) :status:", l)]
if status != ["200"]:
    problems.append(f":status {status or 'missing'}")
data = sum(int(m.group(1)) for l in lines if "recv DATA frame" in l for m in [re.search(r"length=(\d+)", l)])
if data != len(body):
    problems.append(f"response DATA {data} bytes, request was {len(body)}")
# grpc-status must come in the trailers: after the last DATA frame, before END_STREAM.
seen_data, trailer_status = False, None
for l in lines:
    if "recv DATA frame" in l:
        seen_data = True
    m = re.search(r"recv \(stream_id=\d+\) grpc-status: (\S+)", l)
    if m and seen_data:
        trailer_status = m.group(1)
if trailer_status != "0":
    problems.append(f"trailer grpc-status {trailer_status or 'missing'}")
if echoed != body:
    problems.append(f"echoed bytes differ from the request ({len(echoed)} vs {len(body)} bytes)")
print("; ".join(problems))
EOF
}

# cpu_ticks: "server cpu0 cpu1 all" busy clock ticks so far (server = all its threads;
# all = every CPU, so processes that start and end during a run are counted too).
cpu_ticks() {
    local server
    server=$(proc_ticks "$SERVER_PID")
    awk -v s="$server" -v a="cpu$SERVER_CPU" -v b="cpu$CLIENT_CPU" '
        $1 == a { x = $2 + $3 + $4 + $7 + $8 }
        $1 == b { y = $2 + $3 + $4 + $7 + $8 }
        $1 == "cpu" { z = $2 + $3 + $4 }  # irq/softirq left out: loopback work nobody else did
        END { print s, x + 0, y + 0, z + 0 }' /proc/stat
}



# run_load NAME PORT PAYLOAD SHAPE: one h2load run, recorded in runs.tsv with the CPU the
# server used, how busy both cores were, and what everything else used (interference).
run_load() {
    local name=$1 port=$2 payload=$3 shape=$4
    local conns=${shape%x*} streams=${shape#*x}
    local stem="$OUT/raw/$name-$payload-$shape"
    local idle_busy
    idle_busy=$(wait_quiet)
    log "$name payload=$payload shape=${conns}x${streams} (${DURATION}s)"
    local status=ok before after kids0 kids1 t0 t1
    children_ticks >"$OUT/.kids0"; before=$(cpu_ticks); t0=$(date +%s.%N)
    timeout $((DURATION + WARMUP + 60)) "${PRIO[@]}" taskset -c "$CLIENT_CPU" \
        h2load -c "$conns" -m "$streams" -t 1 -D "$DURATION" --warm-up-time "$WARMUP" \
        -d "$OUT/bodies/echo-$payload.grpc" \
        -H 'content-type: application/grpc' -H 'te: trailers' \
        --log-file "$stem.latency.tsv" \
        "http://$HOST:$port$METHOD_PATH" >"$stem.h2load.txt" 2>&1 || status="h2load-exit-$?"
    after=$(cpu_ticks); t1=$(date +%s.%N); children_ticks >"$OUT/.kids1"
    kids0=$(<"$OUT/.kids0"); kids1=$(<"$OUT/.kids1")
    kill -0 "$SERVER_PID" 2>/dev/null || status="server-died"
    # Percentages of one core over the run's wall time (warm-up included).
    local cpu
    cpu=$(awk -v b="$before" -v a="$after" -v k="$((kids1 - kids0))" -v t0="$t0" -v t1="$t1" \
        -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(b, x, " "); split(a, y, " "); w = (t1 - t0) * hz / 100
        srv = (y[1] - x[1]) / w; others = ((y[4] - x[4]) - (y[1] - x[1]) - k) / w
        printf "%.0f\t%.0f\t%.0f\t%.0f", srv, (y[2] - x[2]) / w, (y[3] - x[3]) / w, (others < 0 ? 0 : others) }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$payload" "$shape" "$status" \
        "$stem.h2load.txt" "$stem.latency.tsv" "$cpu" "$idle_busy" >>"$RUNS"
}

failed=0
port=$BASE_PORT
for name in $SERVERS; do
    port=$((port + 1))
    why=$(unavailable "$name")
    if [[ -n "$why" ]]; then
        echo "SKIP $name: $why" | tee -a "$OUT/skipped.txt" >&2
        continue
    fi
    for payload in $PAYLOADS; do
        if ! start_server "$name" "$port" "$payload"; then
            echo "FAIL $name: did not start listening on $HOST:$port: $(tail -1 "$OUT/raw/$name-$payload.server.log" 2>/dev/null)" | tee -a "$OUT/failed.txt" >&2
            stop_server; failed=1; break
        fi
        problem=$(verify "$name" "$port" "$payload")
        if [[ -n "$problem" ]]; then
            echo "FAIL $name payload=$payload: Echo check failed: $problem (trace: $OUT/raw/$name-$payload.verify.txt)" | tee -a "$OUT/failed.txt" >&2
            stop_server; failed=1; break
        fi
        log "$name payload=$payload: Echo verified (200, bytes echoed, grpc-status 0 in trailers)"
        for shape in $SHAPES; do
            run_load "$name" "$port" "$payload" "$shape"
        done
        stop_server
    done
done

echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/env.txt"
"$PYTHON" "$HERE/scripts/summarize.py" "$OUT"
[[ -f "$OUT/skipped.txt" ]] && sed 's/^/  /' "$OUT/skipped.txt"
[[ -f "$OUT/failed.txt" ]] && sed 's/^/  /' "$OUT/failed.txt"
echo "raw results: $OUT"
exit "$failed"
