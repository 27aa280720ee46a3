"""Writes bench/run.sh's results: OUT.json and OUT.md from the raw measurements (one JSON object
a line: scenario, generator, run, status, then the figures that run measured) and the limits
bench/limits.py measured in the same run.

usage: report.py --raw FILE --limits FILE --out PATH_WITHOUT_SUFFIX --rev R --dirty true|false
                 --build ok|failed --loadavg "1m 5m 15m" --runs N --records N --quick 0|1
                 --clk-tck N --elapsed S --scenarios a,b,...

Every figure is the median of the runs that succeeded (all runs are listed beside it). Each
target of issue 12 is one row per load generator: the figure, the machine limit that bounds it
and the figure's ratio to that limit, the target and whether it was met ("report" rows have no
target; a row without figures says why: tool not built, failed, skipped, not selected).
Units: MiB/s and MB/s both mean 2^20 bytes a second, as Kafka's perf tools count them; GB in
CPU-s per GB means 10^9 bytes of record payload; RSS in MiB.
"""

import argparse
import json
import os
import platform
import statistics
import time

GENERATORS = ["perf-test", "librdkafka"]
GENERATOR_NAMES = {
    "perf-test": "our kafka-*-perf-test / kafka-e2e-latency",
    "librdkafka": "librdkafka (confluent-kafka, bench/*_load.py)",
    "-": "bench/startup.py (raw socket)",
}

# Each scenario (a row name in the raw measurements) and the bench/run.sh --only name that runs it.
SCENARIOS = {
    "produce-1k-pagecache": "produce-1k-pagecache",
    "produce-1k-durable": "produce-1k-durable",
    "produce-1k-3p-pagecache": "produce-1k-3p-pagecache",
    "produce-1k-3p-durable": "produce-1k-3p-durable",
    "produce-100b-pagecache": "produce-100b-pagecache",
    "produce-linger0-durable": "produce-linger0-durable",
    "produce-1k-rf3-durable": "produce-1k-rf3-durable",
    "consume-1k": "consume",
    "consume-100b": "consume",
    "latency-rf3-durable": "latency-rf3-durable",
    "startup": "startup",
    "recovery": "recovery",
}

LIMIT_NAMES = {
    "tcp_loopback_mib_s": ("loopback TCP, one stream", "MiB/s"),
    "write_fdatasync_mib_s": ("sequential 1 MiB writes + fdatasync", "MiB/s"),
    "write_buffered_mib_s": ("sequential 1 MiB writes, buffered", "MiB/s"),
    "fsync_ops_s": ("4 KiB append + fdatasync", "ops/s"),
    "fsync_ms": ("one 4 KiB append + fdatasync", "ms"),
    "read_crc_ms": ("reading and checksumming the segment (same run)", "ms"),
}

# The targets of issue 12. bound: the limit the figure is compared with (ratio = figure / bound);
# target: (kind, op, value) with kind "ratio" (to the bound) or "abs" (in the figure's unit), or
# None for a figure that is only reported.
CHECKS = [
    dict(what="produce 1 KiB, acks=1, RF 1, 1 partition, page cache",
         scenario="produce-1k-pagecache",
         metric="mib_s", unit="MiB/s", bound="tcp_loopback_mib_s", target=("ratio", ">=", 0.5),
         text=">= 0.5 x loopback TCP"),
    dict(what="produce 1 KiB, acks=1, RF 1, 1 partition, durable", scenario="produce-1k-durable",
         metric="mib_s", unit="MiB/s", bound="write_fdatasync_mib_s", target=("ratio", ">=", 0.9),
         text=">= 0.9 x sequential fdatasync"),
    dict(what="produce 1 KiB, acks=1, 3 partitions, page cache", scenario="produce-1k-3p-pagecache",
         metric="mib_s", unit="MiB/s", bound="tcp_loopback_mib_s", target=None, text="report"),
    dict(what="produce 1 KiB, acks=1, 3 partitions, durable", scenario="produce-1k-3p-durable",
         metric="mib_s", unit="MiB/s", bound="write_fdatasync_mib_s", target=None, text="report"),
    dict(what="produce 100 B, acks=1, page cache", scenario="produce-100b-pagecache",
         metric="records_s", unit="records/s", bound=None, target=("abs", ">=", 2.5e6),
         text=">= 2.5 M records/s"),
    dict(what="produce 1 KiB, linger.ms=0, one producer, durable",
         scenario="produce-linger0-durable",
         metric="records_s", unit="records/s", bound="fsync_ops_s", target=("ratio", ">=", 5),
         text=">= 5 x fsync ops/s"),
    dict(what="produce 1 KiB, acks=all, RF 3, three brokers, durable",
         scenario="produce-1k-rf3-durable",
         metric="mib_s", unit="MB/s", bound="write_fdatasync_mib_s", target=("abs", ">=", 200),
         text=">= 200 MB/s"),
    dict(what="consume 1 KiB from the page cache", scenario="consume-1k", metric="mib_s",
         unit="MiB/s", bound="tcp_loopback_mib_s", target=("ratio", ">=", 0.7),
         text=">= 0.7 x loopback TCP"),
    dict(what="consume 100 B from the page cache", scenario="consume-100b", metric="records_s",
         unit="records/s", bound=None, target=("abs", ">=", 3e6), text=">= 3 M records/s"),
    dict(what="e2e latency p50 at 10 MiB/s, RF 3, acks=all, durable",
         scenario="latency-rf3-durable",
         metric="p50_ms", unit="ms", bound="fsync_ms", target=("abs", "<=", 1), text="<= 1 ms"),
    dict(what="e2e latency p99 at 10 MiB/s, RF 3, acks=all, durable",
         scenario="latency-rf3-durable",
         metric="p99_ms", unit="ms", bound="fsync_ms", target=("abs", "<=", 5), text="<= 5 ms"),
    dict(what="broker CPU per GB produced (1 KiB, page cache)", scenario="produce-1k-pagecache",
         metric="cpu_s_per_gb", unit="CPU-s/GB", bound=None, target=("abs", "<=", 1.0),
         text="<= 1.0 CPU-s"),
    dict(what="broker CPU per GB consumed (1 KiB)", scenario="consume-1k", metric="cpu_s_per_gb",
         unit="CPU-s/GB", bound=None, target=("abs", "<=", 0.3), text="<= 0.3 CPU-s"),
    dict(what="broker RSS idle after start", scenario="produce-1k-pagecache", metric="rss_idle_mib",
         unit="MiB", bound=None, target=("abs", "<=", 10), text="<= 10 MB"),
    dict(what="broker peak RSS (VmHWM) after producing 1 KiB, page cache",
         scenario="produce-1k-pagecache", metric="hwm_mib", unit="MiB", bound=None,
         target=("abs", "<=", 64), text="<= 64 MB"),
    dict(what="broker start to first answered request (empty data dir)", scenario="startup",
         metric="ms", unit="ms", bound=None, target=("abs", "<=", 50), text="<= 50 ms"),
    dict(what="recovery of a 1 GiB segment after kill -9 (restart to first answer)",
         scenario="recovery", metric="restart_ms", unit="ms", bound="read_crc_ms",
         target=("ratio", "<=", 2), text="<= 2 x reading and checksumming it"),
]

# The figures shown per scenario in the detail table, in order.
DETAIL = ["mib_s", "records_s", "p50_ms", "p99_ms", "p999_ms", "avg_ms", "cpu_s_per_gb",
          "rss_idle_mib", "hwm_mib", "background_records_s", "ms", "restart_ms", "read_crc_ms"]


def derive(row, clk_tck):
    """Adds the figures computed from raw ones: CPU-s per GB, RSS in MiB, µs latencies in ms."""
    out = dict(row)
    if "cpu_ticks" in row and row.get("bytes"):
        out["cpu_s_per_gb"] = row["cpu_ticks"] / clk_tck / (row["bytes"] / 1e9)
    for kb, mib in (("rss_idle_kb", "rss_idle_mib"), ("hwm_kb", "hwm_mib")):
        if kb in row:
            out[mib] = row[kb] / 1024
    for name in ("avg", "p50", "p95", "p99", "p999", "max"):
        if f"{name}_us" in row:  # finer than a _ms figure of the same line
            out[f"{name}_ms"] = row[f"{name}_us"] / 1000
    return out


def summarize(rows):
    """{scenario: {generator: {"status", "runs", "metrics": {m: {"median", "runs"}}}}}"""
    result = {}
    for row in rows:
        entry = result.setdefault(row["scenario"], {}).setdefault(
            row["generator"], {"ok": [], "other": []})
        (entry["ok"] if row.get("status") == "ok" else entry["other"]).append(row)
    summary = {}
    for scenario, gens in result.items():
        for gen, entry in gens.items():
            ok = sorted(entry["ok"], key=lambda r: r["run"])
            metrics = {}
            for key in sorted({k for r in ok for k in r}):
                values = [r[key] for r in ok if isinstance(r.get(key), (int, float))]
                if key in ("run",) or not values or len(values) != len(ok):
                    continue
                metrics[key] = {"median": statistics.median(values), "runs": values}
            statuses = sorted({r["status"] for r in entry["other"]})
            if ok and not statuses:
                status = "ok"
            elif ok:
                runs = len(ok) + len(entry["other"])
                status = f"{len(ok)} of {runs} runs ok; " + "; ".join(statuses)
            else:
                status = "; ".join(statuses)
            summary.setdefault(scenario, {})[gen] = {
                "status": status,
                "runs_ok": len(ok),
                "metrics": metrics,
            }
    return summary


def fmt(value, unit=""):
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if value == 0:
        return f"0 {unit}".strip()
    a = abs(value)
    if a >= 100000:
        s = f"{value:,.0f}".replace(",", " ")
    elif a >= 100:
        s = f"{value:.0f}"
    elif a >= 10:
        s = f"{value:.1f}"
    elif a >= 1:
        s = f"{value:.2f}"
    else:
        s = f"{value:.3f}"
    return f"{s} {unit}".strip()


def main():
    p = argparse.ArgumentParser()
    for name in ("raw", "limits", "out", "rev", "dirty", "build", "loadavg", "scenarios",
                 "elapsed"):
        p.add_argument(f"--{name.replace('_', '-')}", required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--records", type=int, required=True)
    p.add_argument("--quick", type=int, required=True)
    p.add_argument("--clk-tck", type=int, required=True)
    args = p.parse_args()

    with open(args.limits) as f:
        limits = json.load(f)
    with open(args.raw) as f:
        rows = [derive(json.loads(line), args.clk_tck) for line in f if line.strip()]
    summary = summarize(rows)
    selected = set(args.scenarios.split(","))

    cpu_model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    bounds = {k: limits[k] for k in ("tcp_loopback_mib_s", "write_fdatasync_mib_s",
                                     "write_buffered_mib_s", "fsync_ops_s")}
    bounds["fsync_ms"] = 1000 / limits["fsync_ops_s"] if limits["fsync_ops_s"] else None
    recovery = summary.get("recovery", {}).get("-", {}).get("metrics", {})
    if "read_crc_ms" in recovery:
        bounds["read_crc_ms"] = recovery["read_crc_ms"]["median"]

    checks = []
    for check in CHECKS:
        gens = ["-"] if check["scenario"] in ("startup", "recovery") else GENERATORS
        for gen in gens:
            group = SCENARIOS[check["scenario"]]
            entry = summary.get(check["scenario"], {}).get(gen)
            row = {
                "what": check["what"],
                "scenario": check["scenario"],
                "generator": gen,
                "metric": check["metric"],
                "unit": check["unit"],
                "target": check["text"],
                "median": None,
                "runs": [],
                "bound": None,
                "ratio": None,
                "met": None,
            }
            if entry is None:
                row["status"] = "not selected" if group not in selected else "no result"
            else:
                row["status"] = entry["status"]
                m = entry["metrics"].get(check["metric"])
                if m is None and entry["runs_ok"]:
                    row["status"] = f"{entry['status']}; no {check['metric']} figure"
                if m is not None:
                    row["median"], row["runs"] = m["median"], m["runs"]
            bound_value = bounds.get(check["bound"]) if check["bound"] else None
            if check["bound"]:
                name, unit = LIMIT_NAMES[check["bound"]]
                row["bound"] = {"limit": check["bound"], "name": name, "value": bound_value,
                                "unit": unit}
            if row["median"] is not None and bound_value:
                row["ratio"] = row["median"] / bound_value
            if row["median"] is not None and check["target"]:
                kind, op, value = check["target"]
                figure = row["ratio"] if kind == "ratio" else row["median"]
                if figure is not None:
                    row["target_value"] = value * bound_value if kind == "ratio" else value
                    row["met"] = figure >= value if op == ">=" else figure <= value
            if check["scenario"] == "recovery" and entry is not None:
                waits = entry["metrics"].get("session_wait", {}).get("runs", [])
                if any(waits):
                    row["status"] += ("; a restart waited for the killed broker's session to "
                                      "expire, so its figure overstates recovery")
            checks.append(row)

    machine = {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "loadavg_before": [float(x) for x in args.loadavg.split()],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    result = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git": {"rev": args.rev, "dirty": args.dirty == "true"},
        "build": args.build,
        "machine": machine,
        "settings": {"runs": args.runs, "records": args.records, "quick": bool(args.quick),
                     "scenarios": sorted(selected), "elapsed_s": int(args.elapsed)},
        "limits": limits,
        "checks": checks,
        "scenarios": summary,
        "raw": rows,
    }
    with open(args.out + ".json", "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")

    tick_per_gb = 1 / args.clk_tck / (args.records * 1024 / 1e9)
    md = []
    rev = args.rev + (" (dirty)" if args.dirty == "true" else "")
    md.append(f"# Benchmark results {result['generated']}\n")
    md.append(f"- revision: {rev}; release build: {args.build}")
    md.append(f"- machine: {cpu_model}, {machine['cores']} cores, Linux {machine['kernel']}")
    md.append("- load average before: " + " ".join(args.loadavg.split())
              + "; after: " + " ".join(f"{x:.2f}" for x in machine["loadavg_after"]))
    mode = "quick" if args.quick else "full"
    md.append(f"- {mode} run: {args.runs} run(s) per scenario (median shown), {args.records} "
              f"records per 1 KiB scenario; {args.elapsed} s of scenarios")
    d = limits.get("detail", {})
    md.append(f"- disk: {d.get('device', '?')} ({d.get('fs_type', '?')}, mounted on "
              f"{d.get('mount_point', '?')}), the broker data directories' file system")
    md.append("")
    md.append("## Machine limits (same run)\n")
    md.append("| limit | value |")
    md.append("|---|---|")
    for key in ("tcp_loopback_mib_s", "write_fdatasync_mib_s", "write_buffered_mib_s",
                "fsync_ops_s"):
        name, unit = LIMIT_NAMES[key]
        md.append(f"| {name} | {fmt(limits[key], unit)} |")
    md.append("")
    md.append("## Targets (issue 12)\n")
    md.append("| what | generator | median | runs | bound | ratio | target | met |")
    md.append("|---|---|---|---|---|---|---|---|")
    for row in checks:
        if row["median"] is None:
            median = row["status"]
        else:
            median = fmt(row["median"], row["unit"])
        runs = ", ".join(fmt(v) for v in row["runs"]) if row["runs"] else ""
        bound = ""
        if row["bound"]:
            bound = f"{row['bound']['name']}: {fmt(row['bound']['value'], row['bound']['unit'])}"
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else ""
        met = {True: "met", False: "**missed**", None: ""}[row["met"]]
        if row["met"] is None and row["median"] is not None and row["target"] == "report":
            met = "report"
        md.append(f"| {row['what']} | {row['generator']} | {median} | {runs} | {bound} | {ratio} "
                  f"| {row['target']} | {met} |")
    md.append("")
    md.append("## Every scenario (medians)\n")
    md.append("| scenario | generator | status | " + " | ".join(DETAIL) + " |")
    md.append("|---|---|---|" + "---|" * len(DETAIL))
    for scenario in SCENARIOS:
        entries = summary.get(scenario, {})
        for gen in sorted(entries, key=lambda g: (GENERATORS + ["-"]).index(g)):
            entry = entries[gen]
            cells = [fmt(entry["metrics"][k]["median"]) if k in entry["metrics"] else ""
                     for k in DETAIL]
            md.append(f"| {scenario} | {gen} | {entry['status']} | " + " | ".join(cells) + " |")
    md.append("")
    notes = [f"- {r['what']} ({r['generator']}): {r['status']}" for r in checks
             if r["median"] is not None and r["status"] != "ok"]
    if notes:
        md.append("Notes:\n")
        md.extend(notes)
        md.append("")
    md.append("Generators: " + "; ".join(f"`{g}` = {n}" for g, n in GENERATOR_NAMES.items()) + ".")
    md.append("MiB/s and MB/s are 2^20 bytes/s (Kafka's perf tools' MB); CPU-s/GB is the brokers' "
              "utime+stime during the measured phase per 10^9 bytes of record payload (summed over "
              "the three brokers for replication factor 3); one clock tick "
              f"({1000 / args.clk_tck:.0f} ms) is {tick_per_gb:.3f} CPU-s/GB at {args.records} "
              "records of 1 KiB, the resolution of those figures. RSS from /proc/<pid>/status. "
              "The latency bound is one 4 KiB append + fdatasync; kafka-e2e-latency prints its "
              "percentiles in whole milliseconds, truncated as Kafka's EndToEndLatency does (0 "
              "means under 1 ms). The load generators share the machine's cores with the brokers.")
    with open(args.out + ".md", "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
