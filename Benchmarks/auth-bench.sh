#!/usr/bin/env bash
# auth-bench.sh: the auth service behind the REST gateway, under load from wrk.
#
# Builds the release `imageedit`, starts a private PostgreSQL (scripts/pg.sh, cluster
# "pg-bench"), `imageedit auth` and `imageedit gateway` with their defaults (600,000 PBKDF2
# iterations, two hashing threads on this two-core machine), then measures through the gateway:
#   login     POST /api/login/          (one PBKDF2 verify each), BENCH_USERS accounts in turn
#   verify    POST /api/token/verify/   (one access token: checked locally in the gateway)
#   register  POST /api/register/       (one PBKDF2 hash each), a new account every request
# and, in the same run, the machine's pure PBKDF2-HMAC-SHA256 rate at the same iteration count
# (pbkdf2-reference.c, one process per core, calling the very C function the service calls,
# ie_pbkdf2_hmac_sha256 from Sources/COpenSSL/shim.h, before and after each hashing load; and,
# once before each hashing load, OpenSSL's PKCS5_PBKDF2_HMAC, which Python's hashlib calls, for
# scale). Also the resident memory (VmRSS, VmHWM from /proc/PID/status)
# of the auth and gateway processes at idle and during each load. Prints a table and keeps
# everything under results/auth-<timestamp>/. See README.md ("Auth service").
#
# Everything is a variable (environment), defaults in brackets:
#   IMAGEEDIT_BIN     the executable [../.build/release/imageedit]
#   SKIP_BUILD        1: do not build, use IMAGEEDIT_BIN as it is [unset]
#   PG_PORT           port of the private PostgreSQL cluster "pg-bench" [54331]
#   AUTH_PORT         [50161]
#   GATEWAY_PORT      [18061]
#   ITERATIONS        PASSWORD_HASH_ITERATIONS, and the reference's count [600000]
#   LOADS             which loads, in this order [login verify register]
#   CONNECTIONS       wrk connections (concurrent clients) [16]
#   WRK_THREADS       wrk threads [2]
#   LOGIN_SECONDS     [30]   VERIFY_SECONDS [15]   REGISTER_SECONDS [30]
#   HASH_SECONDS      duration of the PBKDF2 reference [20]
#   BENCH_USERS       accounts the login load cycles through [16]
#   QUIET_WAIT        before each load, wait up to this many seconds for the machine to be
#                     under QUIET_BUSY % busy (other people's builds) [180]
#   QUIET_BUSY        [15]
#   OUT               results folder [results/auth-<timestamp>]
#   PERF              loads to profile with `perf record -g` (both services), e.g. "verify";
#                     writes NAME.perf.data and NAME.perf.txt (perf report) [none]
#
# Nothing is pinned to a CPU: the two cores are shared by wrk, the gateway, auth and
# PostgreSQL, as they would be on one small host. Only 127.0.0.1 is targeted. Exit status: 0
# when every load ran with no errors, 1 when a load had errors or a process died, 2 on set-up
# failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/measure.sh
source "$HERE/scripts/measure.sh"
ROOT=$(cd "$HERE/.." && pwd)
IMAGEEDIT_BIN=${IMAGEEDIT_BIN:-$ROOT/.build/release/imageedit}
PG_PORT=${PG_PORT:-54331}
AUTH_PORT=${AUTH_PORT:-50161}
GATEWAY_PORT=${GATEWAY_PORT:-18061}
ITERATIONS=${ITERATIONS:-600000}
LOADS=${LOADS:-"login verify register"}
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-2}
LOGIN_SECONDS=${LOGIN_SECONDS:-30}
VERIFY_SECONDS=${VERIFY_SECONDS:-15}
REGISTER_SECONDS=${REGISTER_SECONDS:-30}
HASH_SECONDS=${HASH_SECONDS:-20}
BENCH_USERS=${BENCH_USERS:-16}
QUIET_WAIT=${QUIET_WAIT:-180}
QUIET_BUSY=${QUIET_BUSY:-15}
OUT=${OUT:-$HERE/results/auth-$(date +%Y%m%d-%H%M%S)}
PYTHON=${PYTHON:-python3}

BASE="http://127.0.0.1:$GATEWAY_PORT"
export BENCH_TAG=${BENCH_TAG:-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export BENCH_PASSWORD="bench-password-$BENCH_TAG"
export BENCH_USERS

die() { echo "auth-bench: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# --- tools ---------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    log "installing wrk (Debian package)"
    { apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }; } >/dev/null 2>&1 ||
        die "wrk is missing and could not be installed (apt-get install wrk)"
fi
for tool in curl "$PYTHON" flock; do command -v "$tool" >/dev/null || die "$tool is missing"; done

# --- build ---------------------------------------------------------------------------------
if [[ -z "${SKIP_BUILD:-}" ]]; then
    log "building imageedit (release)"
    (cd "$ROOT" && flock /tmp/swiftbuild.lock swift build -c release --product imageedit) >"$OUT/build.log" 2>&1 ||
        { tail -30 "$OUT/build.log" >&2; die "release build failed (log: $OUT/build.log)"; }
fi
[[ -x "$IMAGEEDIT_BIN" ]] || die "$IMAGEEDIT_BIN is not an executable (build it, or set IMAGEEDIT_BIN)"
IMAGEEDIT_BIN=$(realpath "$IMAGEEDIT_BIN")  # the services run in $OUT

for port in "$AUTH_PORT" "$GATEWAY_PORT"; do
    port_busy "$port" && die "port $port is in use: set AUTH_PORT / GATEWAY_PORT to free ports"
done

# --- processes -----------------------------------------------------------------------------
AUTH_PID="" GATEWAY_PID="" PG_STARTED=""
cleanup() {
    local pid
    for pid in "$GATEWAY_PID" "$AUTH_PID"; do
        [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "$GATEWAY_PID" "$AUTH_PID"; do
        [[ -n "$pid" ]] && timeout 15 tail --pid="$pid" -f /dev/null 2>/dev/null || true
    done
    [[ -n "$PG_STARTED" ]] && bash "$ROOT/scripts/pg.sh" stop pg-bench || true
}
trap cleanup EXIT

log "starting PostgreSQL (pg-bench, port $PG_PORT)"
DATABASE_URL=$(bash "$ROOT/scripts/pg.sh" start pg-bench "$PG_PORT") || die "could not start PostgreSQL"
PG_STARTED=1

# The services run in $OUT (so no .env of the repository is read) with a fresh development key.
service_env=(env -i PATH="$PATH" HOME="${HOME:-/root}" DATABASE_URL="$DATABASE_URL" DATA_DIR="$OUT/data"
    BIND_HOST=127.0.0.1 AUTH_PORT="$AUTH_PORT" GATEWAY_PORT="$GATEWAY_PORT" AUTH_ADDRESS="127.0.0.1:$AUTH_PORT" AUTH_METRICS_PORT=0
    PASSWORD_HASH_ITERATIONS="$ITERATIONS")
log "starting auth (port $AUTH_PORT) and gateway (port $GATEWAY_PORT)"
(cd "$OUT" && exec "${service_env[@]}" "$IMAGEEDIT_BIN" auth >"$OUT/auth.log" 2>&1) &
AUTH_PID=$!
for _ in $(seq 300); do port_busy "$AUTH_PORT" && break; kill -0 "$AUTH_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$AUTH_PID" 2>/dev/null || { cat "$OUT/auth.log" >&2; die "auth did not start"; }
(cd "$OUT" && exec "${service_env[@]}" "$IMAGEEDIT_BIN" gateway >"$OUT/gateway.log" 2>&1) &
GATEWAY_PID=$!
# Liveness only: /readyz also wants storage and edit, which this bench does not start; the
# account registration below is what proves auth answers through the gateway.
ready=""
for _ in $(seq 300); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" == 200 ]] && { ready=1; break; }
    kill -0 "$GATEWAY_PID" 2>/dev/null || break
    sleep 0.1
done
[[ -n "$ready" ]] || { cat "$OUT/gateway.log" >&2; die "gateway not answering /healthz"; }

# --- measuring helpers (with scripts/measure.sh) -------------------------------------------
# user_system_ticks: user + nice + system ticks of the whole machine so far.
user_system_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 }' /proc/stat; }

# hash_ticks PID: CPU ticks so far of the process's password-hashing threads (NIOThreadPool
# threads are named "TP-#n"; the auth service runs nothing else on such a pool).
hash_ticks() {
    local task total=0
    for task in /proc/"$1"/task/*; do
        [[ "$(cat "$task/comm" 2>/dev/null)" == TP-#* ]] || continue
        total=$((total + $(sed 's/.*) //' "$task/stat" 2>/dev/null | awk '{ print $12 + $13 }')))
    done
    echo "$total"
}

# ours_snapshot FILE: "pid ticks" lines for auth, the gateway and the bench PostgreSQL
# (postmaster and its backends). Backends that exit during a run take their ticks with them;
# the services keep their connections, so little is lost.
ours_snapshot() {
    local pid postmaster
    postmaster=$(head -1 "$ROOT/.data/pg-bench/postmaster.pid" 2>/dev/null || true)
    for pid in "$AUTH_PID" "$GATEWAY_PID" $postmaster $( [[ -n "$postmaster" ]] && pgrep -P "$postmaster" ); do
        [[ -r /proc/$pid/stat ]] && echo "$pid $(proc_ticks "$pid" 2>/dev/null || echo 0)"
    done >"$1"
}

# ours_delta BEFORE AFTER: ticks used between two snapshots (a process new since BEFORE counts
# from zero).
ours_delta() {
    awk 'NR == FNR { start[$1] = $2; next } { total += $2 - ($1 in start ? start[$1] : 0) } END { print total + 0 }' "$1" "$2"
}

# wait_services_idle: waits (up to 120 s) until auth and the gateway are idle: requests that
# wrk abandoned at the end of a load still finish their hashing, and must not land in the next.
wait_services_idle() {
    local waited=0 a0 g0 a1 g1 hz
    hz=$(getconf CLK_TCK)
    while ((waited < 120)); do
        a0=$(proc_ticks "$AUTH_PID"); g0=$(proc_ticks "$GATEWAY_PID"); sleep 1
        a1=$(proc_ticks "$AUTH_PID"); g1=$(proc_ticks "$GATEWAY_PID")
        (((a1 - a0) + (g1 - g0) <= hz / 20)) && return 0
        waited=$((waited + 1))
    done
    log "auth/gateway still busy after 120 s"
}

# sample_rss NAME: samples both services' VmRSS every 0.2 s into $OUT/NAME.rss until killed.
sample_rss() {
    while :; do
        echo "$(status_kib "$AUTH_PID" VmRSS) $(status_kib "$GATEWAY_PID" VmRSS)"
        sleep 0.2
    done >"$OUT/$1.rss"
}

RESULTS="$OUT/results.tsv"
printf 'load\tseconds\trequests\treq_per_s\tlatency_avg\tlatency_p99\terrors\tauth_cpu_pct\tgateway_cpu_pct\twrk_cpu_pct\tothers_cpu_pct\tbusy_before_pct\tauth_rss_peak_kib\tgateway_rss_peak_kib\tauth_hwm_kib\tgateway_hwm_kib\tauth_us_per_req\tgateway_us_per_req\twrk_us_per_req\tall_us_per_req\tauth_hashing_us_per_req\n' >"$RESULTS"
failed=0

# run_load NAME SCRIPT SECONDS: one wrk run through the gateway, recorded in results.tsv.
run_load() {
    local name=$1 script=$2 seconds=$3
    local before_busy a0 a1 g0 g1 h0 h1 m0 m1 t0 t1 sampler
    wait_services_idle
    before_busy=$(wait_quiet)
    log "$name: wrk -t$WRK_THREADS -c$CONNECTIONS -d${seconds}s ($(basename "$script"))"
    sample_rss "$name" & sampler=$!
    local profiler=""
    if [[ " ${PERF:-} " == *" $name "* ]]; then
        perf record -g -F 999 -o "$OUT/$name.perf.data" -p "$AUTH_PID,$GATEWAY_PID" >"$OUT/$name.perf.log" 2>&1 &
        profiler=$!
    fi
    children_ticks >"$OUT/.kids0"
    h0=$(hash_ticks "$AUTH_PID"); a0=$(proc_ticks "$AUTH_PID"); g0=$(proc_ticks "$GATEWAY_PID"); ours_snapshot "$OUT/.ours0"; m0=$(user_system_ticks); t0=$(date +%s.%N)
    timeout $((seconds + 90)) wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 60s --latency \
        -s "$script" "$BASE" >"$OUT/$name.wrk.txt" 2>&1 || { log "$name: wrk failed"; failed=1; }
    t1=$(date +%s.%N); m1=$(user_system_ticks); ours_snapshot "$OUT/.ours1"; children_ticks >"$OUT/.kids1"
    local wrk_ticks=$(($(<"$OUT/.kids1") - $(<"$OUT/.kids0")))
    local ours=$(($(ours_delta "$OUT/.ours0" "$OUT/.ours1") + wrk_ticks))
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    if [[ -n "$profiler" ]]; then
        kill -INT "$profiler" 2>/dev/null; wait "$profiler" 2>/dev/null || true
        perf report -i "$OUT/$name.perf.data" --no-children --sort comm,dso,symbol --stdio >"$OUT/$name.perf.txt" 2>/dev/null || true
    fi
    local died=""
    kill -0 "$AUTH_PID" 2>/dev/null || died="auth"
    kill -0 "$GATEWAY_PID" 2>/dev/null || died="$died gateway"
    [[ -z "$died" ]] || { log "$name: process died:$died"; failed=1; a1=$a0; g1=$g0; h1=$h0; }
    [[ -n "$died" ]] || { a1=$(proc_ticks "$AUTH_PID"); g1=$(proc_ticks "$GATEWAY_PID"); h1=$(hash_ticks "$AUTH_PID"); }
    "$PYTHON" - "$name" "$seconds" "$OUT/$name.wrk.txt" "$OUT/$name.rss" "$a0 $a1 $g0 $g1 $h0 $h1" "$m0 $m1" "$t0 $t1" \
        "$(getconf CLK_TCK)" "$before_busy" "$(status_kib "$AUTH_PID" VmHWM)" "$(status_kib "$GATEWAY_PID" VmHWM)" "$ours" "$wrk_ticks" \
        >>"$RESULTS" <<'PY' || failed=1
import re, sys
name, seconds, wrk_path, rss_path, procs, machine, times, hz, before, auth_hwm, gateway_hwm, ours, wrk_ticks = sys.argv[1:]
text = open(wrk_path).read()
def find(pattern, default="?"):
    match = re.search(pattern, text)
    return match.group(1) if match else default
requests = int(find(r"(\d+) requests in", "0"))
rate = find(r"Requests/sec:\s+([\d.]+)", "0")
errors = int(find(r"Non-2xx or 3xx responses: (\d+)", "0"))
socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
if socket:
    errors += sum(int(value) for value in socket.groups())
a0, a1, g0, g1, h0, h1 = map(int, procs.split())
m = list(map(int, machine.split()))
t0, t1 = map(float, times.split())
wall_ticks = (t1 - t0) * int(hz)
auth_cpu = 100 * (a1 - a0) / wall_ticks
gateway_cpu = 100 * (g1 - g0) / wall_ticks
wrk_cpu = 100 * int(wrk_ticks) / wall_ticks
# CPU time per request (µs), which other people's load barely changes, unlike requests/s.
per_request = lambda ticks: 1e6 * ticks / int(hz) / max(1, requests)
# Everyone else's CPU (other people's builds), % of one core: all user+nice+system time on the
# machine minus ours (auth, gateway, PostgreSQL, wrk). Interrupt time is left out.
others = max(0.0, 100 * ((m[1] - m[0]) - int(ours)) / wall_ticks)
samples = [tuple(map(int, line.split())) for line in open(rss_path) if len(line.split()) == 2]
auth_peak = max((s[0] for s in samples), default=0)
gateway_peak = max((s[1] for s in samples), default=0)
latency_avg = find(r"Latency\s+(\S+)")
latency_p99 = (re.search(r"^\s+99%\s+(\S+)", text, re.M) or [None, "?"])[1]
print(f"{name}\t{seconds}\t{requests}\t{rate}\t{latency_avg}\t{latency_p99}\t{errors}"
      f"\t{auth_cpu:.0f}\t{gateway_cpu:.0f}\t{wrk_cpu:.0f}\t{others:.0f}\t{before}\t{auth_peak}\t{gateway_peak}\t{auth_hwm}\t{gateway_hwm}"
      f"\t{per_request(a1 - a0):.0f}\t{per_request(g1 - g0):.0f}\t{per_request(int(wrk_ticks)):.0f}\t{per_request(int(ours)):.0f}\t{per_request(h1 - h0):.0f}")
if requests == 0 or errors:
    sys.exit(1)
PY
}

# --- accounts and a token ------------------------------------------------------------------
IDLE_AUTH_RSS=$(status_kib "$AUTH_PID" VmRSS); IDLE_GATEWAY_RSS=$(status_kib "$GATEWAY_PID" VmRSS)
log "registering $BENCH_USERS accounts (tag $BENCH_TAG)"
register_one() {
    curl -sf -o /dev/null -X POST "$BASE/api/register/" -H 'Content-Type: application/json' \
        -d "{\"username\":\"bench_${BENCH_TAG}_$1\",\"email\":\"bench-${BENCH_TAG}-$1@example.com\",\"password\":\"$BENCH_PASSWORD\"}"
}
pids=()
for i in $(seq 0 $((BENCH_USERS - 1))); do register_one "$i" & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid" || die "registering a bench account failed (log: $OUT/gateway.log)"; done
export BENCH_TOKEN
BENCH_TOKEN=$(curl -sf -X POST "$BASE/api/login/" -H 'Content-Type: application/json' \
    -d "{\"email\":\"bench-${BENCH_TAG}-0@example.com\",\"password\":\"$BENCH_PASSWORD\"}" |
    "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') || die "login failed"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/api/token/verify/" -H 'Content-Type: application/json' \
    -d "{\"token\":\"$BENCH_TOKEN\"}")" == 200 ]] || die "token verify did not answer 200"
IDLE2_AUTH_RSS=$(status_kib "$AUTH_PID" VmRSS); IDLE2_GATEWAY_RSS=$(status_kib "$GATEWAY_PID" VmRSS)

# --- the PBKDF2 reference ------------------------------------------------------------------
CORES=$(nproc)
REFERENCE_BIN="$OUT/pbkdf2-reference"
cc -O2 -o "$REFERENCE_BIN" "$HERE/pbkdf2-reference.c" -lcrypto || die "could not build pbkdf2-reference.c (cc, libssl-dev)"
# pbkdf2_rate [openssl]: the machine's PBKDF2-HMAC-SHA256 rate now, one process per core, with
# the service's own function (the shim's ie_pbkdf2_hmac_sha256) or with OpenSSL's
# PKCS5_PBKDF2_HMAC (what Python's hashlib calls); prints "hashes_per_s busy_before_pct cpu_ms_per_hash".
pbkdf2_rate() {
    local busy rate cpu
    wait_services_idle
    busy=$(wait_quiet)
    log "PBKDF2-HMAC-SHA256 reference (${1:-shim}): $CORES processes x ${HASH_SECONDS}s at $ITERATIONS iterations"
    read -r rate cpu < <("$REFERENCE_BIN" "$CORES" "$HASH_SECONDS" "$ITERATIONS" ${1:-}) || return 1
    echo "$rate $busy $cpu"
}

# --- loads ---------------------------------------------------------------------------------
# A hashing load (login, register) is framed by the PBKDF2 reference, right before and right
# after; its row is compared with their mean. hashref.tsv: load, rate and CPU ms per hash
# before and after, how busy the machine was before each.
HASHREF="$OUT/hashref.tsv"
: >"$HASHREF"
hashing_load() {
    local name=$1 script=$2 seconds=$3 rate0 busy0 cpu0 rate1 busy1 cpu1 ossl_rate ossl_busy ossl_cpu
    read -r ossl_rate ossl_busy ossl_cpu < <(pbkdf2_rate openssl)
    read -r rate0 busy0 cpu0 < <(pbkdf2_rate)
    run_load "$name" "$script" "$seconds"
    read -r rate1 busy1 cpu1 < <(pbkdf2_rate)
    [[ -n "$rate0" && -n "$rate1" && -n "$ossl_rate" ]] || die "the PBKDF2 reference failed"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rate0" "$rate1" "$cpu0" "$cpu1" "$busy0" "$busy1" \
        "$ossl_rate" "$ossl_cpu" >>"$HASHREF"
}
for load in $LOADS; do
    case "$load" in
        login) hashing_load login "$HERE/scripts/auth-login.lua" "$LOGIN_SECONDS" ;;
        verify) run_load verify "$HERE/scripts/auth-verify.lua" "$VERIFY_SECONDS" ;;
        register) hashing_load register "$HERE/scripts/auth-register.lua" "$REGISTER_SECONDS" ;;
        *) die "unknown load \"$load\" (LOADS: login verify register)" ;;
    esac
done

# --- report --------------------------------------------------------------------------------
"$PYTHON" - "$RESULTS" "$HASHREF" "$IDLE_AUTH_RSS $IDLE_GATEWAY_RSS $IDLE2_AUTH_RSS $IDLE2_GATEWAY_RSS" \
    "$ITERATIONS" "$CORES" "$CONNECTIONS" <<'PY' | tee "$OUT/summary.md"
import csv, sys
path, hashref_path, idle, iterations, cores, connections = sys.argv[1:]
rows = list(csv.DictReader(open(path), delimiter="\t"))
hashref = {}
for line in open(hashref_path):
    name, rate0, rate1, cpu0, cpu1, busy0, busy1, ossl_rate, ossl_cpu = line.split()
    hashref[name] = ((float(rate0) + float(rate1)) / 2, (float(cpu0) + float(cpu1)) / 2, line.split()[1:])
auth_idle, gateway_idle, auth_warm, gateway_warm = (int(v) / 1024 for v in idle.split())
mib = lambda kib: f"{int(kib) / 1024:.1f}"
# A row is noisy when other people's work took more than a tenth of a core during it (for the
# hashing loads every bit of it comes straight off the rate).
NOISY_PCT = 10
for name, (rate, cpu_ms, raw) in hashref.items():
    print(f"PBKDF2-HMAC-SHA256 x {iterations}, {cores} processes, the service's function (shim), around {name}:"
          f" {rate:.2f} hashes/s (before {float(raw[0]):.2f}, after {float(raw[1]):.2f};"
          f" machine {raw[4]}% / {raw[5]}% busy before), {cpu_ms:.1f} ms CPU per hash")
    print(f"  OpenSSL's PKCS5_PBKDF2_HMAC (= Python hashlib), before {name}: {float(raw[6]):.2f} hashes/s,"
          f" {float(raw[7]):.1f} ms CPU per hash")
print()
print(f"| load ({connections} connections) | req/s | vs target | avg latency | p99 | errors | CPU % auth / gateway / wrk"
      f" | CPU µs per request auth / gateway / wrk | others' CPU % (busy before) | auth RSS peak MiB | gateway RSS peak MiB |")
print("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|")
print(f"| idle (started / after set-up) | | | | | | | | | {auth_idle:.1f} / {auth_warm:.1f} | {gateway_idle:.1f} / {gateway_warm:.1f} |")
notes = []
for row in rows:
    rate = float(row["req_per_s"])
    noisy = " **noisy**" if float(row["others_cpu_pct"]) > NOISY_PCT else ""
    if row["load"] in hashref:
        hash_rate, hash_cpu_ms, _ = hashref[row["load"]]
        ossl_rate = float(hashref[row["load"]][2][6])
        target = (f"{100 * rate / hash_rate:.1f}% of PBKDF2" + (" (target ≥ 90%)" if row["load"] == "login" else "")
                  + f"; {100 * rate / ossl_rate:.0f}% of OpenSSL's")
        # The same comparison in CPU time, which other people's load barely moves: the whole
        # cost of one request (auth, gateway, PostgreSQL, wrk) against one pure hash.
        total_ms = int(row["all_us_per_req"]) / 1000
        notes.append(f"{row['load']}: {total_ms:.1f} ms CPU per request in all (auth {int(row['auth_us_per_req']) / 1000:.1f},"
                     f" of which its hashing threads {int(row['auth_hashing_us_per_req']) / 1000:.1f})"
                     f" vs {hash_cpu_ms:.1f} ms per pure hash: {100 * hash_cpu_ms / total_ms:.0f}% of PBKDF2 by CPU time")
    elif row["load"] == "verify":
        target = f"{'met' if rate >= 10000 else 'MISSED'} (target ≥ 10,000/s)"
    else:
        target = ""
    print(f"| {row['load']}{noisy} | {rate:,.1f} | {target} | {row['latency_avg']} | {row['latency_p99']} | {row['errors']}"
          f" | {row['auth_cpu_pct']} / {row['gateway_cpu_pct']} / {row['wrk_cpu_pct']}"
          f" | {row['auth_us_per_req']} / {row['gateway_us_per_req']} / {row['wrk_us_per_req']}"
          f" | {row['others_cpu_pct']} ({row['busy_before_pct']}%)"
          f" | {mib(row['auth_rss_peak_kib'])} | {mib(row['gateway_rss_peak_kib'])} |")
if notes:
    print("\n" + "\n".join(notes))
last = rows[-1] if rows else None
if last:
    print(f"\nVmHWM at the end: auth {mib(last['auth_hwm_kib'])} MiB, gateway {mib(last['gateway_hwm_kib'])} MiB")
PY
echo "raw output: $OUT" >&2
exit "$failed"
