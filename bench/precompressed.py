#!/usr/bin/env python3
"""bench/precompressed.py - a 100 KiB HTML page served precompressed vs
plain: zcopy serve --precompressed gzip and nginx with gzip_static on, each
asked with and without Accept-Encoding: gzip, interleaved A B C D A B C D in
one run. Prints bytes on the wire per response (wrk's bytes read / requests,
headers included) and server CPU per request (utime+stime from /proc over the
run), medians of --rounds runs, and ratios to the plain response of the same
server and to nginx.

Not a test: nothing here asserts on time. Every wrk run is bounded by -d;
every server started is stopped by PID. Reuses bench/serve.py's helpers."""
import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve as sb  # noqa: E402


def nginx_conf(tmp, root, port):
    conf = sb.nginx_conf(tmp, root, port)
    with open(conf) as f:
        text = f.read()
    # gzip_static serves page.html.gz; gzip_vary adds the Vary zcopy sends.
    text = text.replace("sendfile on;", "sendfile on;\n    gzip_static on;\n    gzip_vary on;")
    with open(conf, "w") as f:
        f.write(text)
    return conf


def run_wrk(port, path, seconds, accept_gzip):
    """(requests, seconds, bytes) of one wrk run."""
    cmd = ["wrk", "-t1", "-c64", f"-d{seconds}s", "--timeout", "10s"]
    if accept_gzip:
        cmd += ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}/{path}"], capture_output=True,
                         text=True, timeout=seconds + 30).stdout
    m = sb.re.search(r"(\d+) requests in ([\d.]+)(\w+), ([\d.]+)([KMGT]?B) read", out)
    if not m or "Non-2xx" in out:
        raise RuntimeError("wrk:\n" + out)
    dur = float(m.group(2)) * {"s": 1, "ms": 1e-3, "m": 60}.get(m.group(3), 1)
    return int(m.group(1)), dur, float(m.group(4)) * sb.UNIT[m.group(5)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("zcopy")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    if not shutil.which("wrk") or not os.path.exists("/usr/sbin/nginx"):
        sys.exit("bench: wrk and nginx needed (scripts/deps.sh bench)")

    tmp = tempfile.mkdtemp(prefix="zcbench.", dir="/var/tmp")
    os.chmod(tmp, 0o755)
    root = os.path.join(tmp, "root")
    os.mkdir(root)
    # Text that compresses like a real page (not random bytes, not one
    # repeated line): numbered paragraphs with varying words.
    words = ["zero", "copy", "sendfile", "splice", "page", "cache", "socket", "kernel",
             "buffer", "request", "static", "server", "compress", "variant"]
    html = "".join(f"<p id=\"p{i}\">{' '.join(words[(i * j) % len(words)] for j in range(9))}"
                   f" {i * 7919 % 100003}</p>\n" for i in range(1800)).encode()
    html = (b"<!doctype html><title>bench</title>\n" + html)[:100 << 10]
    with open(os.path.join(root, "page.html"), "wb") as f:
        f.write(html)
    with open(os.path.join(root, "page.html.gz"), "wb") as f:
        f.write(gzip.compress(html, 9))
    st = os.stat(os.path.join(root, "page.html"))
    os.utime(os.path.join(root, "page.html.gz"), ns=(st.st_atime_ns, st.st_mtime_ns))

    zport, nport = sb.free_port(), sb.free_port()
    zcopy = sb.Server("zcopy", [args.zcopy, "serve", root, "--listen", f"127.0.0.1:{zport}",
                                "--threads", str(args.threads), "--access-log", "off",
                                "--precompressed", "gzip"], zport, lambda pid: [pid])
    nginx = sb.Server("nginx", ["/usr/sbin/nginx", "-c", nginx_conf(tmp, root, nport),
                                "-p", tmp], nport, lambda pid: [pid] + sb.children(pid))
    configs = [(zcopy, True), (zcopy, False), (nginx, True), (nginx, False)]
    results = {}
    loads = []
    try:
        zcopy.start()
        nginx.start()
        for rnd in range(args.rounds):
            for srv, gz in configs:
                pids = srv.pids()
                loads.append(sb.loadavg())
                c0 = sb.cpu_seconds(pids)
                reqs, dur, nbytes = run_wrk(srv.port, "page.html", args.seconds, gz)
                cpu = sb.cpu_seconds(pids) - c0
                rec = (reqs / dur, nbytes / reqs, cpu / reqs * 1e6)
                key = (srv.name, "gzip" if gz else "plain")
                results.setdefault(key, []).append(rec)
                print(f"# round {rnd + 1} {key[0]:6} {key[1]:5} {rec[0]:9.0f} req/s "
                      f"{rec[1]:9.0f} B/resp {rec[2]:7.1f} us/req load {loads[-1]:.2f}",
                      file=sys.stderr, flush=True)
    finally:
        zcopy.stop()
        nginx.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"# page {len(html)} B, page.html.gz {len(gzip.compress(html, 9))} B; wrk -t1 -c64, "
          f"{args.seconds}s per run, median of {args.rounds} interleaved rounds; "
          f"load average {min(loads):.2f}-{max(loads):.2f}; {os.cpu_count()} cores shared")
    print(f"{'server':6} {'asked':5} {'req/s':>9} {'B/resp':>8} {'CPU us/req':>10} "
          f"{'B ×plain':>8} {'CPU ×plain':>10} {'CPU ×nginx':>10}")
    med = {k: [statistics.median(x[i] for x in v) for i in range(3)]
           for k, v in results.items()}
    for (name, asked), (rps, b, us) in sorted(med.items()):
        plain = med[(name, "plain")]
        ng = med[("nginx", asked)]
        print(f"{name:6} {asked:5} {rps:9.0f} {b:8.0f} {us:10.1f} {b / plain[1]:8.3f} "
              f"{us / plain[2]:10.3f} {us / ng[2]:10.3f}")


if __name__ == "__main__":
    main()
