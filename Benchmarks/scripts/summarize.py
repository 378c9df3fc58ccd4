#!/usr/bin/env python3
"""Summarises one rpc-bench.sh results folder.

    python3 summarize.py RESULTS_DIR

Reads RESULTS_DIR/runs.tsv (one line per h2load run, written by rpc-bench.sh), each run's
h2load output (req/s and request counts) and its --log-file (one line per request: start
time in microseconds since the epoch, HTTP status, microseconds to the end of the
response). Writes RESULTS_DIR/summary.tsv and summary.md and prints the table.

Columns: req/s is h2load's (requests completed in the measured duration / duration);
p50/p99 are latency percentiles over every request of the measured duration (nearest-rank);
errors is h2load's failed + errored + timeout plus non-2xx responses (h2load does not read
gRPC trailers: a grpc-status != 0 answer counts as a success, which is why rpc-bench.sh
checks each server with nghttp first). The x-columns are this row's req/s divided by the
reference server's req/s for the same payload and shape. "srv cpu%" is the CPU time the
server used over the run's wall time (100 = its whole core); "cores busy%" is how busy the
server's and h2load's cores were (server/client): a server core much busier than "srv cpu%"
means something else ran there. "others%" is the CPU everything but the server and h2load
used during the run (user+system time; interrupt and softirq time, which loopback traffic
makes plenty of, is left out, so a few % is normal); above
NOISY_OTHERS (25) the status says "noisy": rerun that row on a quieter machine.
"""

import csv
import math
import os
import re
import sys

REFERENCES = [("grpc-swift-2", "x swift"), ("grpcio", "x grpcio"), ("nghttpd", "x nghttpd")]


def percentile(sorted_values, p):
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def parse_h2load(text):
    out = {"rps": math.nan, "done": 0, "succeeded": 0, "errors": 0}
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
    if m:
        out["rps"] = float(m.group(1))
    m = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
        r"(\d+) failed, (\d+) errored, (\d+) timeout",
        text,
    )
    if m:
        total, started, done, ok, failed, errored, timeout = map(int, m.groups())
        out.update(done=done, succeeded=ok, errors=failed + errored + timeout)
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if m:
        out["errors"] += sum(map(int, m.groups()[1:]))
    return out


def latencies_ms(path):
    values = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    values.append(int(parts[2]) / 1000.0)
    values.sort()
    return values


def size_key(label):
    units = {"k": 1024, "K": 1024, "M": 1024 * 1024}
    return int(label[:-1]) * units[label[-1]] if label[-1] in units else int(label)


def fmt(value, digits=2):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


NOISY_OTHERS = 25


def status_of(row):
    try:
        noisy = float(row["others%"]) > NOISY_OTHERS
    except ValueError:
        noisy = False
    return row["status"] + (",noisy" if noisy else "")


def main():
    outdir = sys.argv[1]
    rows = []
    with open(os.path.join(outdir, "runs.tsv")) as f:
        for run in csv.DictReader(f, delimiter="\t"):
            text = open(run["h2load_output"], errors="replace").read() if os.path.exists(run["h2load_output"]) else ""
            stats = parse_h2load(text)
            lat = latencies_ms(run["latency_log"])
            rows.append(
                {
                    "server": run["server"],
                    "payload": run["payload"],
                    "shape": run["shape"],
                    "status": run["status"],
                    "rps": stats["rps"],
                    "p50": percentile(lat, 50),
                    "p99": percentile(lat, 99),
                    "errors": stats["errors"],
                    "requests": stats["done"],
                    "srv%": run.get("server_cpu_pct", "-"),
                    "cpu%": f'{run.get("server_core_busy_pct", "-")}/{run.get("client_core_busy_pct", "-")}',
                    "others%": run.get("others_cpu_pct", "-"),
                }
            )
    by_key = {(r["server"], r["payload"], r["shape"]): r for r in rows}
    for r in rows:
        for ref, column in REFERENCES:
            base = by_key.get((ref, r["payload"], r["shape"]))
            ok = base and base["rps"] and not math.isnan(base["rps"]) and not math.isnan(r["rps"])
            r[column] = r["rps"] / base["rps"] if ok else None

    header = ["server", "payload", "shape", "req/s", "p50 ms", "p99 ms", "errors"] + [c for _, c in REFERENCES] + ["requests", "srv cpu%", "cores busy%", "others%", "status"]
    table = []
    for r in sorted(rows, key=lambda r: (size_key(r["payload"]), r["shape"], -(r["rps"] if not math.isnan(r["rps"]) else 0))):
        table.append(
            [r["server"], r["payload"], r["shape"], fmt(r["rps"], 0), fmt(r["p50"], 3), fmt(r["p99"], 3), str(r["errors"])]
            + [fmt(r[c]) for _, c in REFERENCES]
            + [str(r["requests"]), r["srv%"], r["cpu%"], r["others%"], status_of(r)]
        )

    with open(os.path.join(outdir, "summary.tsv"), "w") as f:
        f.write("\t".join(header) + "\n")
        for line in table:
            f.write("\t".join(line) + "\n")
    widths = [max(len(header[i]), *(len(t[i]) for t in table)) if table else len(header[i]) for i in range(len(header))]
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write("| " + " | ".join(header) + " |\n|" + "|".join("---" for _ in header) + "|\n")
        for line in table:
            f.write("| " + " | ".join(line) + " |\n")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for line in table:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths)))


if __name__ == "__main__":
    main()
