#!/bin/sh
# test_bench_fanout.sh - `zcopy bench --fanout 1,2`: one record per method x
# sink x receiver count, each carrying "method" and "receivers"; every run
# delivered its bytes unchanged (the receiver checks them, a changed page
# fails the run); write copied once per receiver, the pool once per message
# (its first receiver) and replaced pages only with two receivers, pool-ref
# and vmsplice copied nothing; the comparison rows "buffer sharing" and "copy-on-write" are
# filled; the XFS reflink part ran (root) or says why not. CSV and the
# table print. No timing is asserted.
set -eu

: "${ZCOPY:?ZCOPY must point at the zcopy program}"
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/zcfanout.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

"$ZCOPY" bench --fanout 1,2 --size 256K --runs 1 --dir "$work" --format json \
    >"$work/out.json" 2>"$work/err"
"$ZCOPY" bench --fanout 2 --size 256K --runs 1 --dir "$work" --method write,pool \
    --sink unix --format csv >"$work/out.csv" 2>>"$work/err"
"$ZCOPY" bench --fanout 2 --size 256K --runs 1 --dir "$work" --method pool \
    --sink unix >"$work/out.txt" 2>>"$work/err"

python3 - "$work" <<'PY'
import csv, json, os, sys
work = sys.argv[1]
n = 0
failed = False
def ok(cond, what):
    global n, failed
    n += 1
    print(("ok %d - " if cond else "not ok %d - ") % n + what)
    failed |= not cond

d = json.load(open(os.path.join(work, "out.json")))
recs = d["records"]
ok(len(recs) == 20, "json: 5 methods x 2 sinks x 2 counts = 20 records (got %d)" % len(recs))
ok(all("method" in r and "receivers" in r for r in recs), "json: records carry method and receivers")
ok({r["method"] for r in recs} == {"write", "pool", "pool-map", "pool-ref", "vmsplice"}, "json: every method")
ok({r["receivers"] for r in recs} == {1, 2}, "json: every receiver count")
bad = [(r["method"], r["sink"], r["receivers"], r["error"]) for r in recs if r["status"] != "ok"]
ok(not bad, "json: every run delivered its bytes unchanged %s" % (bad or ""))
for r in recs:
    if r["status"] != "ok":
        continue
    if r["method"] == "write":
        ok(r["copied_per_message"] == 256 * 1024 * r["receivers"],
           "json: write copies once per receiver (%s %d)" % (r["sink"], r["receivers"]))
    elif r["method"] in ("pool", "pool-map"):
        ok(r["copied_per_message"] == 256 * 1024,
           "json: %s copies once, to the first receiver (%s %d)" % (r["method"], r["sink"], r["receivers"]))
        ok(r["fresh_pages_per_message"] == 0 if r["receivers"] == 1 else r["fresh_pages_per_message"] > 0,
           "json: %s replaces pages only when a receiver took them by reference (%s %d)"
           % (r["method"], r["sink"], r["receivers"]))
    else:
        ok(r["copied_per_message"] == 0,
           "json: %s copies nothing (%s %d)" % (r["method"], r["sink"], r["receivers"]))
    ok(r["throughput"] > 0 and r["cpu"] > 0, "json: %s %s %d measured" %
       (r["method"], r["sink"], r["receivers"]))
pools = [r for r in recs if r["method"] == "pool-ref" and r["status"] == "ok"]
ok(any(r["fresh_pages_per_message"] > 0 for r in pools),
   "json: the pool replaced pages under sent bytes (steady state reached)")
comp = {c["technique"]: c for c in d["comparison"]}
ok(set(comp) == {"buffer sharing", "copy-on-write"}, "json: the two comparison rows")
ok("zc_pool" in comp["buffer sharing"]["measured"], "json: buffer sharing row measured")
ok("writing a sent" in comp["copy-on-write"]["measured"], "json: copy-on-write row measured")
cow = d["cow"]
ok(cow["pool_rewrite_write_us"] and cow["pool_rewrite_pointer_us"], "json: pool rewrite timed")
if cow["fs"]["done"]:
    ok(cow["fs"]["ficlone_ms"] >= 0 and cow["fs"]["read_write_ms"] > 0, "json: XFS copies timed")
    ok(cow["fs"]["ficlone_own_mib"] == 0 and cow["fs"]["read_write_own_mib"] > 0,
       "json: the reflink shares every block, the read/write copy owns its blocks")
else:
    ok(bool(cow["fs"]["skipped"]), "json: XFS part skipped with a reason: %s" % cow["fs"]["skipped"])

rows = [r for r in csv.reader(open(os.path.join(work, "out.csv"), newline="")) if r and not r[0].startswith("#")]
ok(rows[0][:3] == ["method", "sink", "receivers"], "csv: header")
ok(len(rows) == 3, "csv: two records")
txt = open(os.path.join(work, "out.txt")).read()
ok("buffer sharing" in txt and "copy-on-write" in txt, "table: comparison rows printed")
left = [f for f in os.listdir(work) if f.startswith("zcopy-cow")]
ok(not left, "no XFS image or mount point left behind")
print("1..%d" % n)
sys.exit(1 if failed else 0)
PY
