#!/usr/bin/env python3
"""bench/broker.py - zcopy broker under librdkafka's rdkafka_performance:
produce N messages, then consume them all from the beginning, for several
message sizes and broker configurations interleaved A B C A B C in one run (a
shared machine is noisy: only ratios within one run mean something).

Configurations: --append write with --fetch-method sendfile (Kafka's path),
the same with --fetch-method readwrite (the copy the articles compare with),
and --append mmap (RocketMQ's write path). Reported: the tool's msgs/s and
MB/s, and the broker's CPU seconds per GB (utime+stime of all its threads
from /proc/PID/stat over the phase), medians of --rounds.

rdkafka_performance has no Debian binary: it is built from the librdkafka
source that tests/integ/test_broker_librdkafka.sh fetches into
~/.cache/zcopy (run that test once, or give --perf). The broker runs on CPU 1
and the client on CPU 0 (taskset), on loopback.

Not a test: nothing here asserts on time. Every run is bounded (timeout);
every broker started is stopped by PID.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

CLK_TCK = os.sysconf("SC_CLK_TCK")
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")),
                     "zcopy", "librdkafka-2.0.2")
CONFIGS = {
    "sendfile": ["--append", "write", "--fetch-method", "sendfile"],
    "readwrite": ["--append", "write", "--fetch-method", "readwrite"],
    "mmap-append": ["--append", "mmap", "--fetch-method", "sendfile"],
}
SIZES = {"100B": 100, "1K": 1024, "16K": 16384}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def perf_build():
    perf = os.path.join(CACHE, "examples", "rdkafka_performance")
    if not os.access(perf, os.X_OK):
        if not os.path.isdir(os.path.join(CACHE, "examples")):
            sys.exit("bench/broker.py: no librdkafka source in %s: run "
                     "tests/integ/test_broker_librdkafka.sh once (ctest -R librdkafka)" % CACHE)
        subprocess.run(["make", "-C", os.path.join(CACHE, "examples"), "rdkafka_performance"],
                       check=True, stdout=subprocess.DEVNULL)
    return perf


def start_broker(zcopy, data, args):
    p = subprocess.Popen(["taskset", "-c", "1", zcopy, "broker", data, "--listen",
                          "127.0.0.1:0", "--threads", "1"] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    m = re.search(r"kafka://(\S+) ", p.stdout.readline().decode())
    if not m:
        p.kill()
        sys.exit("broker did not start")
    return p, m.group(1)


def run_perf(perf, args, timeout=300):
    out = subprocess.run(["taskset", "-c", "0", perf] + args, capture_output=True,
                         timeout=timeout).stdout.decode()
    return out


def phase(perf, pid, args):
    """(msgs/s, MB/s, broker CPU s) of one rdkafka_performance run."""
    c0 = cpu_seconds(pid)
    out = run_perf(perf, args)
    cpu = cpu_seconds(pid) - c0
    m = re.findall(r"(\d+) msgs/s and ([\d.]+) MB/s|(\d+) msgs/s \(([\d.]+) MB/s\)", out)
    if not m:
        print(out, file=sys.stderr)
        return None
    last = m[-1]
    rate, mbs = (last[0], last[1]) if last[0] else (last[2], last[3])
    return int(rate), float(mbs), cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("zcopy", help="the zcopy binary")
    ap.add_argument("--perf", help="rdkafka_performance (default: built from the cache)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bytes", type=int, default=256 << 20, help="produced per size")
    ap.add_argument("--json", help="write the raw results here")
    a = ap.parse_args()
    perf = a.perf or perf_build()
    results = {}                           # (size, config, phase) -> [(rate, MB/s, cpu)]
    for rnd in range(a.rounds):
        for size_name, size in SIZES.items():
            count = max(a.bytes // size, 1000)
            for cfg, args in CONFIGS.items():
                data = tempfile.mkdtemp(prefix="zc-bench-broker-")
                p, addr = start_broker(a.zcopy, data, args)
                try:
                    common = ["-b", addr, "-t", "bench", "-p", "0"]
                    prod = phase(perf, p.pid, ["-P", "-s", str(size), "-c", str(count), "-a", "1",
                                               "-X", "linger.ms=5"] + common)
                    cons = phase(perf, p.pid, ["-C", "-o", "beginning", "-c", str(count), "-e"]
                                 + common)
                finally:
                    p.send_signal(signal.SIGTERM)
                    p.wait(30)
                    shutil.rmtree(data, True)
                for name, r in (("produce", prod), ("consume", cons)):
                    if r:
                        results.setdefault((size_name, cfg, name), []).append(r + (count * size,))
                print(f"# round {rnd + 1} {size_name} {cfg}: produce {prod} consume {cons}",
                      flush=True)
    print("\n| size | phase | config | msgs/s | MB/s | broker CPU s/GB | vs sendfile |")
    print("|---|---|---|---|---|---|---|")
    raw = {}
    for size_name in SIZES:
        for name in ("produce", "consume"):
            base = None
            for cfg in CONFIGS:
                rs = results.get((size_name, cfg, name), [])
                if not rs:
                    continue
                rate = statistics.median(r[0] for r in rs)
                mbs = statistics.median(r[1] for r in rs)
                cpg = statistics.median(r[2] / (r[3] / 1e9) for r in rs)
                if cfg == "sendfile":
                    base = cpg
                ratio = f"{cpg / base:.2f}x" if base else "-"
                print(f"| {size_name} | {name} | {cfg} | {rate:,.0f} | {mbs:.0f} | {cpg:.3f} | {ratio} |")
                raw[f"{size_name}/{name}/{cfg}"] = rs
    if a.json:
        with open(a.json, "w") as f:
            json.dump(raw, f, indent=1)


main()
