#!/usr/bin/env python3
"""bench-markdown.py - turn `zcopy bench --format json` output into the
Markdown tables of docs/BENCHMARKS.md: throughput, sender CPU per GB,
receiver CPU per GB and syscalls per transfer as method x sink grids, the
articles' theory next to them, and the verdicts.

usage: zcopy bench --format json > run.json; scripts/bench-markdown.py run.json
"""
import json
import sys

SINKS = ["tcp", "unix", "pipe", "file", "devnull", "veth"]


def grid(recs, sinks, methods, cell):
    out = ["| method | " + " | ".join(sinks) + " |",
           "|---|" + "---:|" * len(sinks)]
    for m in methods:
        row = []
        for s in sinks:
            r = recs.get((m, s))
            if r is None:
                row.append("")
            elif r["status"] != "ok":
                row.append("n/a (%s)" % r["error"])
            else:
                row.append(cell(r))
        out.append("| %s | %s |" % (m, " | ".join(row)))
    return "\n".join(out)


def size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return "%g %s" % (n, unit)
        n /= 1024


def num(v, fmt):
    return "-" if v is None else fmt % v


def main():
    d = json.load(open(sys.argv[1]))
    m = d["machine"]
    recs = {(r["method"], r["sink"]): r for r in d["records"]}
    methods = list(dict.fromkeys(r["method"] for r in d["records"]))
    sinks = [s for s in SINKS if any(k[1] == s for k in recs)]
    small = d["size"] < (1 << 20)

    print("Machine: %s; %s%s; %d cores; %.1f GiB RAM; source on %s (%s); "
          "memcpy %.1f GB/s (%s blocks)." % (
              m["kernel"], m["cpu"], " (virtual machine)" if m["virtual_machine"] else "",
              m["cores"], m["memory_bytes"] / 2**30, m["filesystem"], m["source_dir"],
              m["memcpy_gbps"], size(m["memcpy_block"])))
    print("Command: `%s`\n" % d["command"])
    if small:
        print("**Time per transfer, ns** (median of %d runs)\n" % d["runs"])
        print(grid(recs, sinks, methods, lambda r: num(r["ns_per_transfer"], "%.0f")))
        print()
    print("**Throughput, GB/s** (median of %d runs; min-max in the JSON)\n" % d["runs"])
    print(grid(recs, sinks, methods, lambda r: num(r["throughput"], "%.2f")))
    print("\n**Sender CPU, seconds per GB** (user + sys)\n")
    print(grid(recs, sinks, methods, lambda r: num(r["cpu"], "%.3f")))
    print("\n**Receiver CPU, seconds per GB**\n")
    print(grid(recs, [s for s in sinks if s not in ("file", "devnull")], methods,
               lambda r: num(r["receiver_cpu"], "%.3f")))
    print("\n**Syscalls per transfer** (exact; the articles' switches are twice this)\n")
    print(grid(recs, sinks, methods,
               lambda r: num(r["syscalls_per_transfer"], "%.0f") +
               (" (%d MiB copied)" % (r["zc_copied"] >> 20) if r["zc_copied"] else "")))
    print("\n**Estimated CPU copies per byte** (ESTIMATE: sender CPU x memcpy rate)\n")
    print(grid(recs, sinks, methods, lambda r: num(r["est_cpu_copies"], "%.1f")))
    print("\n**The articles' table** (theory: CPU copies / DMA copies / switches)\n")
    print("| method | CPU copies | DMA copies | switches | where |\n|---|---|---|---|---|")
    for mm in methods:
        t = next(r["theory"] for r in d["records"] if r["method"] == mm)
        print("| %s | %s | %s | %s | %s |" % (mm, t["cpu_copies"] or "-",
                                              t["dma_copies"] or "-",
                                              t["switches"] or "-", t["source"]))
    print("\n**Verdicts** (where the measurement contradicts the articles)\n")
    for r in d["records"]:
        if r["status"] == "ok" and r["verdict"]:
            print("- %s -> %s: %s" % (r["method"], r["sink"], r["verdict"]))


if __name__ == "__main__":
    main()
