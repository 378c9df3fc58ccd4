#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each for SECONDS (default 60), one at a time,
# starting from the seed corpus in Fuzz/corpus/<target>/ (copied into Fuzz/.work/, which keeps
# what the fuzzer finds between runs and is not committed). Prints executions, coverage and
# crashes per target; exits 1 if any target crashed (reproducers in Fuzz/.work/artifacts/).
# Usage: scripts/fuzz.sh [SECONDS]      FUZZ_TARGETS="fuzz-deframer ..." to run a subset.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"

seconds="${1:-60}"
targets="${FUZZ_TARGETS:-fuzz-protowire fuzz-deframer fuzz-server-raw fuzz-server-h2}"

# -sanitize=fuzzer,address in ONE flag (two -sanitize flags: the last wins, and coverage is
# lost); --disable-dead-strip keeps the coverage counter sections; -enable-testing lets the
# server harness reach RPCNIO's internal ServerConnection.
flock /tmp/swiftbuild.lock nice -n 10 swift build -c release --disable-dead-strip \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
bin="$(swift build -c release --show-bin-path)"

# Let ASan and libFuzzer report crashes (the Swift backtracer would intercept them first).
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:handle_abort=1}"

mkdir -p .work/artifacts
status=0
printf '\n%-18s %8s %12s %10s %8s %8s  %s\n' target seconds executions exec/s cov corpus result
for target in $targets; do
    work=".work/$target"
    mkdir -p "$work"
    log=".work/$target.log"
    set +e
    nice -n 10 "$bin/$target" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix=".work/artifacts/$target-" "$work" "corpus/$target" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(awk '/stat::number_of_executed_units/ {print $NF}' "$log")
    rate=$(awk '/stat::average_exec_per_sec/ {print $NF}' "$log")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)
    corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | cut -d' ' -f2 || true)
    result=ok
    if [ "$rc" -ne 0 ]; then
        result="CRASH (rc $rc, see $log)"
        status=1
    fi
    printf '%-18s %8s %12s %10s %8s %8s  %s\n' "$target" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${corp:-?}" "$result"
done
ls .work/artifacts/ 2>/dev/null | sed 's/^/artifact: Fuzz\/.work\/artifacts\//'
exit "$status"
