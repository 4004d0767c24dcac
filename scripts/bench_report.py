#!/usr/bin/env python3
"""Joins the parts scripts/bench.sh measured into one JSON document and prints summary tables.

Usage: bench_report.py WORK_DIR OUT_JSON QUICK(0|1)

Every ratio is against a baseline of the same run: the contention runs against 1 client of the
same round writing a counter of as many slots (the same document), pacing against the same client count with pacing off, the SDK benches
against their own baselines (as their harness reports them). A missing part is recorded as
skipped, never invented; a part that should be there and is not (or is not JSON) fails.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import datetime, timezone


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def machine():
    def run(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": run("git", "rev-parse", "--short", "HEAD"),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "rustc": run("rustc", "--version"),
    }


def contention(work):
    runs = []
    folder = os.path.join(work, "contention")
    for name in sorted(os.listdir(folder)):
        # <round>-<mode>-<clients>.json; the mode may hold a dash (client-go). Mode `base` is one
        # client writing the counter of <clients> slots that the <clients>-client runs write.
        round_, rest = name[: -len(".json")].split("-", 1)
        mode, clients = rest.rsplit("-", 1)
        s = load(os.path.join(folder, name))
        steady = s.get("steady")
        runs.append(
            {
                "round": int(round_),
                "retry": mode,
                "clients": s["clients"],
                "slots": s["slots"],
                "goodput_per_second": s["goodput_per_second"],
                "steady_goodput_per_second": steady["goodput_per_second"] if steady else s["goodput_per_second"],
                "steady_p50_ms": steady["p50_ms"] if steady else s["p50_ms"],
                "steady_p99_ms": steady["p99_ms"] if steady else s["p99_ms"],
                "clients_served": steady["clients_acknowledged"] if steady else 1,
                "acknowledged": s["acknowledged"],
                "failed": s["failed"],
                "lost_updates": s["lost_updates"],
                "attempts_per_update": s["attempts_per_update"],
            }
        )
    base = {(r["round"], r["slots"]): r for r in runs if r["retry"] == "base"}
    for r in runs:
        b = base.get((r["round"], r["slots"]))
        if b and r["retry"] != "base":
            r["steady_ratio"] = round(r["steady_goodput_per_second"] / b["steady_goodput_per_second"], 3)
            r["whole_ratio"] = round(r["goodput_per_second"] / b["goodput_per_second"], 3)
    summary = []
    for mode in ("contended", "client-go", "shared"):
        for clients in (8, 16):
            rs = [r for r in runs if r["retry"] == mode and r["clients"] == clients and "steady_ratio" in r]
            if not rs:
                continue
            ratios = [r["steady_ratio"] for r in rs]
            bases = [base[(r["round"], r["slots"])]["goodput_per_second"] for r in rs]
            summary.append(
                {
                    "retry": mode,
                    "clients": clients,
                    "baseline_per_second_min": min(bases),
                    "baseline_per_second_max": max(bases),
                    "steady_ratio_min": min(ratios),
                    "steady_ratio_median": statistics.median(ratios),
                    "steady_ratio_max": max(ratios),
                    "whole_ratio_median": statistics.median(r["whole_ratio"] for r in rs),
                    "p99_over_p50_max": max(r["steady_p99_ms"] / max(r["steady_p50_ms"], 0.01) for r in rs),
                    "clients_served_min": min(r["clients_served"] for r in rs),
                    "give_ups": sum(r["failed"] for r in rs),
                    "lost_updates": sum(r["lost_updates"] for r in rs),
                }
            )
    return {"runs": runs, "summary": summary}


def suite(work):
    s = load(os.path.join(work, "suite.json"))
    return {
        "elapsed_ms": s["elapsed_ms"],
        "rules_duration_ms": s["duration_ms"],
        "counts": s["counts"],
        "passed": s["passed"],
    }


def server(work):
    folder = os.path.join(work, "server")
    return [load(os.path.join(folder, n)) for n in sorted(os.listdir(folder))]


def optional(work, name):
    path = os.path.join(work, name)
    return load(path) if os.path.exists(path) else None


# How the contention table names each mode (`shared`: tasks sharing one client, `contended`).
LABELS = {"shared": "contended, one shared client"}


def tables(report):
    lines = []
    c = report["contention"]["summary"]
    if c:
        lines += [
            "| contention | clients | 1 client, same document (updates/s) | steady ratio min / median / max | whole-run ratio (median) | worst p99/p50 | clients served (min) | give-ups | lost |",
            "|---|---:|---:|---|---:|---:|---:|---:|---:|",
        ]
        for r in c:
            lines.append(
                f"| {LABELS.get(r['retry'], r['retry'])} | {r['clients']} | {r['baseline_per_second_min']:.0f}–{r['baseline_per_second_max']:.0f}"
                f" | {r['steady_ratio_min']:.2f} / {r['steady_ratio_median']:.2f} / {r['steady_ratio_max']:.2f}"
                f" | {r['whole_ratio_median']:.2f} | {r['p99_over_p50_max']:.0f} | {r['clients_served_min']} of {r['clients']}"
                f" | {r['give_ups']} | {r['lost_updates']} |"
            )
        lines.append("")
    p = report["pacing"]
    lines += [
        f"| pacing (limit {p['rate']}/s) | clients | share of the limit achieved | 429 share |",
        "|---|---:|---:|---:|",
    ]
    for r in p["runs"]:
        label = "adaptive" if r["adaptive"] else "plain backoff"
        lines.append(f"| {label} | {r['clients']} | {r['share_of_capacity']:.2f} | {r['throttled_share']:.3f} |")
    lines.append("")
    s = report["suite"]
    lines += [
        "| suite, every profile | elapsed | rules' time added up | passed |",
        "|---|---:|---:|---|",
        f"| embedded server | {s['elapsed_ms']} ms | {s['rules_duration_ms']} ms | {s['passed']} |",
        "",
        "| server | documents | writes/s | server CPU share |",
        "|---|---|---:|---:|",
    ]
    for r in report["server"]:
        lines.append(f"| {r['storage']} | {r['mode']} | {r['writes_per_second']:.0f} | {r['server_cpu_share']:.2f} |")
    sdk = report["sdk"]
    if isinstance(sdk, dict):
        lines += ["", "| SDK bench | measured | ratio to its baseline (median) |", "|---|---|---:|"]
        for bench in (sdk["overhead"], sdk["merge"]):
            for comparison in bench.get("comparisons", []):
                for m in comparison.get("measured", []):
                    if "ratio" in m:
                        lines.append(f"| {comparison['name']} | {m['label']} | {m['ratio']:.2f} |")
    w = report["wasm"]
    if isinstance(w, dict) and w.get("size"):
        size = w["size"]
        kb = lambda n: n / 1024
        lines += [
            "",
            f"wasm: {kb(size['files']['optimized']['gzip']):.1f} KB gzipped"
            f" (limit {kb(size['limitGzipBytes']):.1f} KB, aim {kb(size['targetGzipBytes']):.0f} KB)",
        ]
        runtime = w.get("runtime")
        if runtime:
            for r in runtime.get("results", []):
                lines.append(f"npm package, {r['op']}: {r['ratio']:.2f}x plain fetch (median), +{r['overheadMs']['median']:.2f} ms")
    return "\n".join(lines)


def main():
    work, out, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    report = {
        "machine": machine(),
        "quick": quick,
        "contention": contention(work),
        "pacing": load(os.path.join(work, "pacing.json")),
        "suite": suite(work),
        "server": server(work),
        "sdk": {
            "overhead": optional(work, "sdk-overhead.json"),
            "merge": optional(work, "sdk-merge.json"),
        }
        if not quick
        else "skipped (QUICK=1)",
        "wasm": {
            "size": optional(work, "wasm-size.json"),
            "runtime": optional(work, "wasm-bench.json"),
        }
        if os.path.exists(os.path.join(work, "wasm-size.json"))
        else "skipped (WASM=0 or QUICK=1)",
    }
    if not quick and (report["sdk"]["overhead"] is None or report["sdk"]["merge"] is None):
        sys.exit("bench: the SDK benchmarks wrote no JSON")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(tables(report))


if __name__ == "__main__":
    main()
