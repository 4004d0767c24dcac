#!/usr/bin/env python3
"""Compare the interop matrix's verdicts with the committed expectations (scripts/interop.sh).

For each server, results/<server>.json is the suite's JSON report and
expected/<server>.json maps each rule ID to its expected verdict (a string, or a list of
verdicts when the server's answer depends on timing). Writes results/summary.md (the matrix),
prints every difference, and exits 1 when there is one. With --update, writes the verdicts
seen as the new expectations instead (keeping a list where the verdict seen is in it).
"""

import argparse
import json
import os
import sys

VERDICTS = ["pass", "fail", "warn", "non-strict", "info", "skip"]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


ABBREV = {"pass": "P", "fail": "F", "warn": "W", "non-strict": "N", "info": "i", "skip": "-"}


def rule_table(rows):
    """The rule-by-rule matrix (docs/interop.md has a copy): one row per rule, one column per server."""
    reports = [(server, report) for server, report, _ in rows if report]
    order = []
    for _, report in reports:
        order += [r["id"] for r in report["rules"] if r["id"] not in order]
    seen = {s: {r["id"]: r["verdict"] for r in report["rules"]} for s, report in reports}
    lines = [
        "| rule | " + " | ".join(s for s, _ in reports) + " |",
        "| --- | " + " | ".join(":-:" for _ in reports) + " |",
    ]
    for rule in order:
        cells = [ABBREV.get(seen[s].get(rule), "") for s, _ in reports]
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("servers", nargs="+")
    args = ap.parse_args()

    versions = {}
    vpath = os.path.join(args.results, "versions.txt")
    if os.path.exists(vpath):
        for line in open(vpath, encoding="utf-8"):
            name, _, version = line.rstrip("\n").partition("\t")
            versions[name] = version

    rows, problems = [], []
    for server in args.servers:
        rpath = os.path.join(args.results, server + ".json")
        epath = os.path.join(args.expected, server + ".json")
        if not os.path.exists(rpath):
            problems.append(f"{server}: no report (the check did not finish; see {server}.stderr)")
            rows.append((server, None, "no report"))
            continue
        report = load(rpath)
        seen = {r["id"]: r["verdict"] for r in report["rules"]}
        if args.update:
            old = load(epath) if os.path.exists(epath) else {}
            new = {}
            for rule, verdict in sorted(seen.items()):
                prev = old.get(rule)
                new[rule] = prev if isinstance(prev, list) and verdict in prev else verdict
            with open(epath, "w", encoding="utf-8") as f:
                json.dump(new, f, indent=2, sort_keys=True)
                f.write("\n")
            print(f"{server}: wrote {len(new)} expected verdicts to {epath}")
            rows.append((server, report, "updated"))
            continue
        if not os.path.exists(epath):
            problems.append(f"{server}: no expectations at {epath} (run scripts/interop.sh --update {server})")
            rows.append((server, report, "no expectations"))
            continue
        expected = load(epath)
        diffs = []
        for rule in sorted(set(seen) | set(expected)):
            want, got = expected.get(rule), seen.get(rule)
            allowed = want if isinstance(want, list) else [want]
            if got not in allowed:
                want_text = "not run" if want is None else " or ".join(allowed)
                diffs.append(f"{server}: {rule}: expected {want_text}, got {got or 'not run'}")
        problems.extend(diffs)
        rows.append((server, report, "as expected" if not diffs else f"{len(diffs)} differ"))

    lines = [
        "| server | version | " + " | ".join(VERDICTS) + " | verdicts |",
        "| --- | --- | " + " | ".join("---:" for _ in VERDICTS) + " | --- |",
    ]
    for server, report, state in rows:
        counts = (report or {}).get("counts", {})
        cells = [str(counts.get(v, 0)) if report else "–" for v in VERDICTS]
        lines.append(f"| {server} | {versions.get(server, '?')} | " + " | ".join(cells) + f" | {state} |")
    with open(os.path.join(args.results, "differs.txt"), "w", encoding="utf-8") as f:
        f.writelines(server + "\n" for server, _, state in rows if state not in ("as expected", "updated"))
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.results, "summary.md"), "w", encoding="utf-8") as f:
        f.write(table + "\n" + rule_table(rows))
    print(table)
    for p in problems:
        print("DIFFERS  " + p)
    if problems:
        print(
            f"\ninterop: {len(problems)} verdict(s) differ from conformance/interop/expected/. "
            "If the change is intended (a rule was added or fixed), read the reports in "
            f"{args.results} and run scripts/interop.sh --update, then review the diff.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
