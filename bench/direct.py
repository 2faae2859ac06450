#!/usr/bin/env python3
"""bench/direct.py - the direct method (O_DIRECT reads kept in flight through
io_uring) at several queue depths and buffer sizes, beside the page-cache
methods, cold cache (or warm with --warm), 1 GiB per transfer.

Each round runs one `zcopy bench --runs 1 --format json` per depth x buffer
setting, in turn (A B C ... A B C ...), so the page-cache methods run in every
invocation too and the shared machine's drift spreads over all settings. Each
figure is the median over rounds (page-cache methods: over every invocation).
Raw JSON of every invocation (without the notes, theory and verdicts
every report repeats) goes to --out.

usage: bench/direct.py [--zcopy build/zcopy] [--rounds 3] [--warm]
                       [--sinks devnull,pipe,tcp] [--out docs/bench/direct-cold.json]
"""
import argparse
import json
import statistics
import subprocess
import sys

SETTINGS = [(1, "1M"), (4, "1M"), (16, "1M"), (4, "256K"), (16, "256K"), (4, "2M"),
            (8, "2M"), (4, "4M")]
PAGE_CACHE = ["readwrite", "mmap", "sendfile", "splice"]


def run(zcopy, depth, buf, sinks, warm):
    cmd = [zcopy, "bench", "--runs", "1", "--format", "json",
           "--method", ",".join(["direct"] + PAGE_CACHE), "--sink", sinks,
           "--direct-depth", str(depth), "--direct-buf", buf]
    if not warm:
        cmd.append("--cold")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zcopy", default="build/zcopy")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sinks", default="devnull,pipe,tcp")
    ap.add_argument("--warm", action="store_true")
    ap.add_argument("--settings", help="e.g. 1:1M,4:1M (default: a sweep)")
    ap.add_argument("--out")
    a = ap.parse_args()
    settings = SETTINGS
    if a.settings:
        settings = [(int(d), b) for d, b in (x.split(":") for x in a.settings.split(","))]

    samples = {}        # (row, sink) -> [(gbps, cpu)]
    raw = []
    for rnd in range(a.rounds):
        for depth, buf in settings:
            print(f"round {rnd + 1}/{a.rounds}: depth {depth}, {buf}", file=sys.stderr)
            doc = run(a.zcopy, depth, buf, a.sinks, a.warm)
            # The text every report repeats stays out of the raw file.
            for k in ("notes", "units"):
                doc.pop(k, None)
            for r in doc["records"]:
                r.pop("theory", None)
                r.pop("verdict", None)
            raw.append({"round": rnd, "depth": depth, "buf": buf, "report": doc})
            for r in doc["records"]:
                if r["status"] != "ok":
                    continue
                row = (f"direct qd {depth} x {buf}" if r["method"] == "direct"
                       else r["method"])
                samples.setdefault((row, r["sink"]), []).append(
                    (r["throughput"], r["cpu"]))

    sinks = a.sinks.split(",")
    rows = PAGE_CACHE + [f"direct qd {d} x {b}" for d, b in settings]
    print(f"| method | " + " | ".join(f"{s} GB/s | {s} s/GB" for s in sinks) + " |")
    print("|---|" + "---:|---:|" * len(sinks))
    for row in rows:
        cells = []
        for s in sinks:
            v = samples.get((row, s), [])
            if not v:
                cells += ["", ""]
                continue
            cells.append(f"{statistics.median(x[0] for x in v):.2f}")
            cells.append(f"{statistics.median(x[1] for x in v):.3f}")
        n = max(len(samples.get((row, s), [])) for s in sinks)
        print(f"| {row} (n={n}) | " + " | ".join(cells) + " |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(raw, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
