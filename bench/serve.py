#!/usr/bin/env python3
"""bench/serve.py - zcopy serve against Debian's nginx and lighttpd and a floor
on the same files, interleaved A B C A B C in one run, so the ratios survive a
noisy shared machine. Prints req/s, MB/s and server CPU per GB (utime+stime of
all the server's processes, from /proc/PID/stat, over each run), medians of
--rounds runs, each server's ratio to the best peer (the higher req/s, the
lower CPU of nginx and lighttpd, per round) and its CPU per GB over the floor's.

Two clients: wrk (8 KiB reads: past 1 MiB bodies wrk is the bottleneck) and
bench/fastget (1 MiB reads, so the server is). The floor (bench/floor.c) is a
blocking thread-per-connection server that writes the headers and sendfiles
the whole body: what serving a file costs with nothing else around it.

Bytes are what wrk says it read (headers included), not completed requests
times the file size: at 256 MiB a run completes only a few bodies, and the
partial ones in flight when wrk stops would otherwise be billed as free CPU
or, when a run ends just after a completion, as no CPU. Large files also get
longer runs (--large-seconds). --variant adds more zcopy configurations (another
binary, other options) to the interleaving, for before/after comparisons.

Not a test: nothing here asserts on time. Every load run is bounded by wrk's
-d; every server started is stopped by PID.
"""
import argparse
import os
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
SIZES = {"4K": 4 << 10, "64K": 64 << 10, "1M": 1 << 20, "256M": 256 << 20}


def cpu_seconds(pids):
    """utime + stime of every listed process (all its threads included)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / CLK_TCK


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def free_port():
    """A port no one listens on. Bound without SO_REUSEPORT, so a server that
    shares ports (nginx reuseport, zcopy) already on it makes this fail rather
    than silently split our load with a stranger."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


class Server:
    def __init__(self, name, argv, port, pid_of_tree, env=None):
        self.name, self.argv, self.port = name, argv, port
        self.pid_of_tree = pid_of_tree
        self.env = env
        self.proc = None

    def start(self):
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=env)
        wait_port(self.port, self.proc)

    def pids(self):
        return self.pid_of_tree(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def nginx_conf(tmp, root, port, workers):
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
master_process on;
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log error;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    sendfile on;
    tcp_nopush on;
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port} reuseport;
        root {root};
    }}
}}
""")
    return conf


def lighttpd_conf(tmp, root, port):
    conf = os.path.join(tmp, "lighttpd.conf")
    with open(conf, "w") as f:
        f.write(f"""server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.max-keep-alive-requests = 1000000
server.errorlog = "{tmp}/lighttpd-error.log"
include_shell "/usr/share/lighttpd/create-mime.conf.pl"
""")
    return conf


UNIT = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


def run_wrk(port, name, size, seconds):
    """Return (requests, seconds, bytes read, non-2xx, socket errors)."""
    # Large bodies: few connections, or wrk's 8 KiB reads swamp the machine.
    conns = 64 if size <= (1 << 20) else 4
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s",
         f"http://127.0.0.1:{port}/{name}"],
        capture_output=True, text=True, timeout=seconds + 30).stdout
    # "1234 requests in 5.00s, 4.53GB read": wrk prints 3 significant digits.
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+), ([\d.]+)([KMGT]?B) read", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock_err = re.search(r"Socket errors: (.*)", out)
    if not m:
        raise RuntimeError("cannot parse wrk output:\n" + out)
    reqs = int(m.group(1))
    dur = float(m.group(2)) * {"s": 1, "ms": 1e-3, "m": 60}.get(m.group(3), 1)
    nbytes = float(m.group(4)) * UNIT[m.group(5)]
    return reqs, dur, nbytes, (errors.group(1) if errors else None), \
        (sock_err.group(1) if sock_err else None)


def run_fastget(prog, port, name, size, seconds):
    """Same tuple as run_wrk, from bench/fastget (1 MiB per recv)."""
    conns = 64 if size <= (1 << 20) else 4
    out = subprocess.run([prog, "-c", str(conns), "-d", str(seconds), "127.0.0.1",
                          str(port), f"/{name}"],
                         capture_output=True, text=True, timeout=seconds + 30)
    m = re.search(r"requests (\d+) bytes (\d+) seconds ([\d.]+) non2xx (\d+) "
                  r"errors (\d+)", out.stdout)
    if not m:
        raise RuntimeError("cannot parse fastget output:\n" + out.stdout + out.stderr)
    non2xx, errs = int(m.group(4)), int(m.group(5))
    return int(m.group(1)), float(m.group(3)), float(m.group(2)), \
        (non2xx or None), (errs or None)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("zcopy", help="path to the zcopy program")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--large-seconds", type=int, default=15,
                    help="run length for files over 1 MiB (a 256 MiB body takes "
                         "~0.1-0.3 s under wrk: short runs measure a handful)")
    ap.add_argument("--sizes", default="4K,64K,1M,256M")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="zcopy's worker threads and nginx's worker processes "
                         "(default: cores; lighttpd always runs one process)")
    ap.add_argument("--no-lighttpd", action="store_true")
    ap.add_argument("--clients", default="wrk,fast",
                    help="wrk (8 KiB reads), fast (bench/fastget, 1 MiB reads)")
    ap.add_argument("--bench-dir", help="where fastget and floor were built "
                    "(default: bench/ beside the zcopy program)")
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=[VAR=VALUE] PROG [ARGS]",
                    help="another zcopy configuration in the interleaving, e.g. "
                         "'splice=build/zcopy --method splice' (repeatable; ARGS "
                         "follow 'serve ROOT --listen ...')")
    args = ap.parse_args()

    bdir = args.bench_dir or os.path.join(os.path.dirname(args.zcopy), "bench")
    fastget, floor = os.path.join(bdir, "fastget"), os.path.join(bdir, "floor")
    clients = [c for c in args.clients.split(",") if c]
    for c in clients:
        if c not in ("wrk", "fast"):
            sys.exit(f"bench: unknown client {c!r}")
    for prog in ([fastget] if "fast" in clients else []) + ([] if args.no_floor else [floor]):
        if not os.access(prog, os.X_OK):
            sys.exit(f"bench: {prog} not built (make bench-serve builds it)")
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"bench: {tool} not found (scripts/deps.sh bench installs it)")

    tmp = tempfile.mkdtemp(prefix="zcbench.", dir="/var/tmp")
    os.chmod(tmp, 0o755)   # nginx and lighttpd workers run unprivileged
    root = os.path.join(tmp, "root")
    os.mkdir(root)
    sizes = [s for s in args.sizes.split(",") if s]
    for s in sizes:
        with open(os.path.join(root, f"f{s}"), "wb") as f:
            left = SIZES[s]
            block = os.urandom(1 << 20)
            while left:
                n = min(left, len(block))
                f.write(block[:n])
                left -= n

    def zcopy_server(name, prog, extra, env=None):
        port = free_port()
        return Server(name, [prog, "serve", root, "--listen", f"127.0.0.1:{port}",
                             "--threads", str(args.threads), "--access-log", "off"]
                      + extra, port, lambda pid: [pid], env)

    nport, lport, fport = free_port(), free_port(), free_port()
    servers = [zcopy_server("zcopy", args.zcopy, [])]
    for v in args.variant:
        name, _, cmd = v.partition("=")
        words = shlex.split(cmd)
        env = {}
        while words and "=" in words[0]:
            k, _, val = words.pop(0).partition("=")
            env[k] = val
        if not name or not words:
            sys.exit(f"bench: --variant wants NAME=[VAR=VALUE...] PROG [ARGS], not {v!r}")
        servers.append(zcopy_server(name, words[0], words[1:], env))
    servers += [
        Server("nginx", ["/usr/sbin/nginx", "-c", nginx_conf(tmp, root, nport, args.threads),
                         "-p", tmp], nport, lambda pid: [pid] + children(pid)),
    ]
    if not args.no_lighttpd and os.path.exists("/usr/sbin/lighttpd"):
        servers.append(Server("lighttpd", ["/usr/sbin/lighttpd", "-D", "-f",
                                           lighttpd_conf(tmp, root, lport)],
                              lport, lambda pid: [pid]))
    if not args.no_floor:
        servers.append(Server("floor", [floor, root, str(fport)], fport,
                              lambda pid: [pid]))
    # (server, size, client) -> list of (req/s, MB/s, cpu s/GB, cpu us/req, client s/GB)
    results = {}
    loads = []
    try:
        for srv in servers:
            srv.start()
        for size, client, rnd in ((s, c, r) for s in sizes for c in clients
                                  for r in range(args.rounds)):
                nbytes = SIZES[size]
                for srv in servers:   # interleaved: A B C A B C ...
                    pids = srv.pids()
                    secs = args.seconds if nbytes <= (1 << 20) else args.large_seconds
                    loads.append(loadavg())
                    c0 = cpu_seconds(pids)
                    w0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    if client == "wrk":
                        reqs, dur, got, non2xx, sockerr = run_wrk(
                            srv.port, f"f{size}", nbytes, secs)
                    else:
                        reqs, dur, got, non2xx, sockerr = run_fastget(
                            fastget, srv.port, f"f{size}", nbytes, secs)
                    cpu = cpu_seconds(pids) - c0
                    w1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    # The client is the only child waited for here (the servers
                    # are reaped at the end), so this is its CPU over the run.
                    wcpu = (w1.ru_utime - w0.ru_utime) + (w1.ru_stime - w0.ru_stime)
                    gb = got / 1e9
                    nan = float("nan")
                    rec = (reqs / dur, got / dur / 1e6,
                           cpu / gb if gb else nan,
                           cpu / reqs * 1e6 if reqs else nan,
                           wcpu / gb if gb else nan)
                    results.setdefault((srv.name, size, client), []).append(rec)
                    note = ""
                    if non2xx or sockerr:
                        note = f"  (non-2xx {non2xx}, socket errors {sockerr})"
                    print(f"# {size:>5} {client:4} round {rnd + 1} {srv.name:9} "
                          f"{rec[0]:10.0f} req/s {rec[1]:9.1f} MB/s "
                          f"{rec[2]:7.3f} s/GB {rec[3]:8.1f} us/req "
                          f"client {rec[4]:6.3f} s/GB load {loads[-1]:.2f}{note}",
                          file=sys.stderr, flush=True)
    finally:
        for srv in servers:
            srv.stop()
        for log in ("nginx-error.log", "lighttpd-error.log"):
            path = os.path.join(tmp, log)
            if os.path.exists(path) and os.path.getsize(path):
                with open(path) as f:
                    print(f"# {log} (last lines):\n" + "".join(f.readlines()[-5:]),
                          file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)

    uname = os.uname()
    print(f"# {uname.sysname} {uname.release}, {os.cpu_count()} cores; wrk -t1 and "
          f"fastget (1 MiB reads), {args.seconds}s per run ({args.large_seconds}s over "
          f"1 MiB), median of {args.rounds} interleaved rounds; load average "
          f"{min(loads):.2f}-{max(loads):.2f} (median {statistics.median(loads):.2f}); "
          f"bytes = the client's bytes read")
    print("# CPU = the server's utime+stime; client s/GB = the client's, same run; "
          "x peer = over the best of nginx and lighttpd in each round (higher "
          "req/s, lower CPU/GB), median and range of the rounds")
    peers = [p for p in ("nginx", "lighttpd") if (p, sizes[0], clients[0]) in results]
    has_floor = ("floor", sizes[0], clients[0]) in results
    print(f"{'size':>5} {'client':6} {'server':9} {'req/s':>10} {'MB/s':>9} "
          f"{'CPU s/GB':>9} {'CPU us/req':>10} {'cli s/GB':>8} "
          f"{'req/s x peer':>18} {'CPU/GB x peer':>18} {'CPU/GB x floor':>18}")

    def ratio(vals):
        return f"{statistics.median(vals):.2f} ({min(vals):.2f}-{max(vals):.2f})"

    for size in sizes:
        for client in clients:
            peer_runs = [results[(p, size, client)] for p in peers]
            best_rq = [max(r[i][0] for r in peer_runs) for i in range(args.rounds)]
            best_cg = [min(r[i][2] for r in peer_runs) for i in range(args.rounds)]
            floor_runs = results.get(("floor", size, client))
            for srv in servers:
                mine = results[(srv.name, size, client)]
                med = [statistics.median(x) for x in zip(*mine)]
                rq = ratio([a[0] / b for a, b in zip(mine, best_rq)])
                cg = ratio([a[2] / b for a, b in zip(mine, best_cg)])
                fl = (ratio([a[2] / b[2] for a, b in zip(mine, floor_runs)])
                      if has_floor else "")
                print(f"{size:>5} {client:6} {srv.name:9} {med[0]:10.0f} {med[1]:9.1f} "
                      f"{med[2]:9.3f} {med[3]:10.1f} {med[4]:8.3f} "
                      f"{rq:>18} {cg:>18} {fl:>18}")


if __name__ == "__main__":
    main()
