# measure.sh: the measuring helpers the benchmark scripts share (sourced, not run).
# The sourcing script defines `log` and sets QUIET_WAIT, QUIET_BUSY and OUT.

# port_busy PORT: whether something accepts connections on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# status_kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM), 0 when gone.
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# proc_ticks PID: user + system CPU ticks of a process so far, 0 when gone.
proc_ticks() { [[ -n "$1" && -r "/proc/$1/stat" ]] && sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }' || echo 0; }

# machine_ticks: "busy total" ticks of the whole machine so far.
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }

# wait_quiet: waits (up to QUIET_WAIT s) until the machine is at most QUIET_BUSY % busy, so
# other people's builds do not land in the measurement; prints how busy it was at the end.
wait_quiet() {
    local waited=0 busy a b
    while :; do
        a=$(machine_ticks); sleep 1; b=$(machine_ticks)
        busy=$(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]; printf "%.0f", d ? 100 * (y[1] - x[1]) / d : 0 }')
        waited=$((waited + 1))
        if ((busy <= QUIET_BUSY || waited >= QUIET_WAIT)); then break; fi
        ((waited % 30 == 1)) && log "machine ${busy}% busy (someone else's work); waiting up to ${QUIET_WAIT}s"
    done
    echo "$busy"
}

# children_ticks: CPU ticks of this shell's finished children (the load generator), from
# `times`. Must run in the sourcing shell, not in $(...): a subshell has children of its own.
children_ticks() {
    times >"$OUT/.times"
    awk -v hz="$(getconf CLK_TCK)" 'NR == 2 {
        t = 0
        for (i = 1; i <= 2; i++) { split($i, p, /m|s/); t += p[1] * 60 + p[2] }
        printf "%.0f", t * hz }' "$OUT/.times"
}
