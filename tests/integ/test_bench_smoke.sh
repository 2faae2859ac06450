#!/bin/sh
# test_bench_smoke.sh - `zcopy bench --size 1M --runs 1 --format json` runs
# every default method x sink and emits a record for each with the required
# keys; methods that worked moved bytes at a positive throughput. No timing
# is asserted. Also: CSV parses, the table prints, the source file is gone.
set -eu

: "${ZCOPY:?ZCOPY must point at the zcopy program}"
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/zcbench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

"$ZCOPY" bench --size 1M --runs 1 --dir "$work" --format json >"$work/out.json" 2>"$work/err"
"$ZCOPY" bench --size 4K --runs 1 --dir "$work" --method readwrite,sendfile \
    --sink pipe,devnull --format csv >"$work/out.csv" 2>>"$work/err"
plot=""
if command -v gnuplot >/dev/null 2>&1; then
    plot="$work/plot.svg"
fi
"$ZCOPY" bench --size 64K --runs 2 --dir "$work" --method readwrite --sink devnull \
    ${plot:+--plot "$plot"} >"$work/out.txt" 2>>"$work/err"
# The veth sink needs root and iproute2; its namespaces die with the process.
veth=""
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1; then
    veth="$work/veth.json"
    "$ZCOPY" bench --size 1M --runs 1 --dir "$work" --method readwrite --sink veth \
        --format json >"$veth" 2>>"$work/err"
fi
export plot veth

python3 - "$work" <<'PY'
import csv, json, os, sys
work = sys.argv[1]
n = 0
def ok(cond, what):
    global n
    n += 1
    print(("ok %d - " if cond else "not ok %d - ") % n + what)
    if not cond:
        ok.failed = True
ok.failed = False

d = json.load(open(os.path.join(work, "out.json")))
m = d["machine"]
ok(all(m.get(k) for k in ("kernel", "cpu", "cores", "memory_bytes", "filesystem")),
   "json: machine described (kernel, cpu, cores, memory, filesystem)")
recs = d["records"]
methods = {"readwrite", "mmap", "sendfile", "splice", "copy_file_range",
           "msg_zerocopy", "uring", "direct"}
sinks = {"tcp", "unix", "pipe", "file", "devnull"}
ok(len(recs) == 30, "json: 30 default method x sink records (got %d)" % len(recs))
ok({r["method"] for r in recs} == methods, "json: every method present")
ok({r["sink"] for r in recs} == sinks, "json: every default sink present")
need = {"method", "sink", "status", "throughput", "cpu", "syscalls", "bytes",
        "receiver_cpu", "est_cpu_copies", "theory", "verdict"}
ok(all(need <= set(r) for r in recs), "json: every record has the required keys")
worked = [r for r in recs if r["status"] == "ok"]
ok(any(r["method"] == "readwrite" for r in worked), "json: readwrite worked")
for r in worked:
    tag = "%s -> %s" % (r["method"], r["sink"])
    ok(r["transfers"] >= 1 and r["bytes"] == r["transfers"] << 20,
       tag + ": moved whole 1 MiB transfers")
    ok(r["throughput"] > 0 and r["syscalls"] > 0 and r["cpu"] >= 0,
       tag + ": positive throughput and syscalls")
for r in recs:
    if r["status"] != "ok":
        ok(r["throughput"] is None and r["error"], "%s -> %s: %s (%s), no numbers"
           % (r["method"], r["sink"], r["status"], r["error"]))

rows = [row for row in csv.reader(l for l in open(os.path.join(work, "out.csv"), newline="")
                                  if not l.startswith("#"))]
head, body = rows[0], rows[1:]
ok(len(body) == 4 and all(len(x) == len(head) for x in body), "csv: 4 rows, full width")
rw = [dict(zip(head, x)) for x in body if x[0] == "readwrite"]
ok(all(float(x["ns_per_transfer"]) > 0 and int(x["transfers"]) > 1 for x in rw),
   "csv: small transfers repeat and report ns per transfer")
ok(all(float(x["syscalls_per_transfer"]) == 2 for x in rw),
   "csv: readwrite of 4 KiB is exactly one pread + one write")

txt = open(os.path.join(work, "out.txt")).read()
ok("readwrite" in txt and "devnull" in txt and "machine:" in txt, "table: printed")
if os.environ.get("plot"):
    svg = open(os.environ["plot"]).read()
    ok("<svg" in svg and "readwrite" in svg, "plot: an SVG naming the method")
else:
    ok(True, "plot # SKIP gnuplot not installed")
if os.environ.get("veth"):
    v = json.load(open(os.environ["veth"]))["records"]
    ok(len(v) == 1 and v[0]["sink"] == "veth" and v[0]["status"] == "ok"
       and v[0]["bytes"] == v[0]["transfers"] << 20, "veth: readwrite across two namespaces moved 1 MiB")
    ok(os.system("ip link show zcb0 >/dev/null 2>&1") != 0, "veth: nothing left in this namespace")
else:
    ok(True, "veth # SKIP needs root and iproute2")
left = [f for f in os.listdir(work) if f.startswith("zcopy-bench-")]
ok(not left, "no source or sink file left behind")
print("1..%d" % n)
sys.exit(1 if ok.failed else 0)
PY
