#!/usr/bin/env python3
"""bench/clients.py - receive-side CPU of `zcopy get` against `curl -o` and
`wget -O` downloading the same file from the same nginx (sendfile on) on
loopback, and `zcopy cp` against coreutils `cp` for the same file.
Runs are interleaved (A B C ... A B C ...) and each figure is the median of
--rounds runs; ratios are to curl (downloads) and to coreutils cp (copies).

CPU is the client process's user + system time (wait4 rusage). On loopback
the TCP receive path (softirq) runs on the sender's CPU and, without
CONFIG_IRQ_TIME_ACCOUNTING, is billed to the sender: the client's CPU is
what it does itself (copying out of the socket, writing the file).

usage: bench/clients.py [--zcopy build/zcopy] [--size-mib 1024] [--rounds 5]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MiB = 1 << 20


def nginx_conf(tmp, root, port):
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log error;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
""")
    return conf


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def proc_cpu(pid):
    """utime + stime in seconds of a process (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nginx_worker(master_pid):
    for line in os.listdir("/proc"):
        if not line.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % line) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            return int(line)
    return master_pid


def run_timed(argv, server_pid=None):
    """(client CPU s, wall s, server CPU s) of one run; raises on failure."""
    s0 = proc_cpu(server_pid) if server_pid else 0.0
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read()
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv, p.returncode, err[-300:]))
    s1 = proc_cpu(server_pid) if server_pid else 0.0
    return ru.ru_utime + ru.ru_stime, wall, s1 - s0


def count_syscalls(argv, tmp):
    """Total syscalls of one run, counted by strace -c (not timed)."""
    out = os.path.join(tmp, "strace.txt")
    subprocess.run(["strace", "-f", "-c", "-o", out] + argv, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        for line in f:
            fields = line.split()
            if fields and fields[-1] == "total":
                # "100.00 secs usecs/call calls [errors] total"
                nums = [x for x in fields[:-1] if x.replace(".", "").isdigit()]
                return int(nums[3]) if len(nums) >= 4 else int(nums[-1])
    return -1


def drop(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def table(title, results, base, gib, syscalls):
    print("\n" + title)
    print("| client | CPU s/GiB (median) | ×%s | wall s/GiB | GiB/s | syscalls/GiB | runs |"
          % base)
    print("|---|---|---|---|---|---|---|")
    base_cpu = statistics.median(r[0] for r in results[base]) / gib
    for name, runs in results.items():
        cpu = statistics.median(r[0] for r in runs) / gib
        wall = statistics.median(r[1] for r in runs) / gib
        print("| %s | %.3f | %.2f | %.3f | %.2f | %d | %d |"
              % (name, cpu, cpu / base_cpu, wall, 1 / wall, syscalls[name] / gib,
                 len(runs)))


def bench_get(args, tmp, src_name, gib):
    port = free_port()
    root = os.path.dirname(os.path.join(tmp, src_name))
    nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", nginx_conf(tmp, root, port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_port(port):
            raise RuntimeError("nginx did not start")
        time.sleep(0.2)
        worker = nginx_worker(nginx.pid)
        url = "http://127.0.0.1:%d/%s" % (port, src_name)
        out = os.path.join(tmp, "out.bin")
        clients = {
            "zcopy get (splice)": [args.zcopy, "get", "-q", "-o", out, url],
            "zcopy get --method readwrite": [args.zcopy, "get", "-q", "--method",
                                             "readwrite", "-o", out, url],
            "curl -o": ["curl", "-s", "-o", out, url],
            "wget -O": ["wget", "-q", "-O", out, url],
        }
        results = {k: [] for k in clients}
        server = {k: [] for k in clients}
        for name, argv in clients.items():     # warm-up, not counted
            run_timed(argv)
            drop(out)
        for _ in range(args.rounds):
            for name, argv in clients.items():
                cpu, wall, srv = run_timed(argv, worker)
                results[name].append((cpu, wall))
                server[name].append(srv)
                if os.path.getsize(out) != args.size_mib * MiB:
                    raise RuntimeError("%s: wrong size" % name)
                drop(out)
        syscalls = {}
        for name, argv in clients.items():
            syscalls[name] = count_syscalls(argv, tmp)
            drop(out)
        table("Download of a %d MiB file from nginx 1.22 (sendfile on) over loopback"
              % args.size_mib, results, "curl -o", gib, syscalls)
        print("\nnginx worker CPU s/GiB during the same runs (median): " +
              ", ".join("%s %.3f" % (k, statistics.median(v) / gib)
                        for k, v in server.items()))
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


def bench_cp(args, tmp, src, gib):
    dst = os.path.join(tmp, "copy.bin")
    clients = {
        "zcopy cp": [args.zcopy, "cp", "-q", src, dst],
        "zcopy cp --method readwrite": [args.zcopy, "cp", "-q", "--method", "readwrite",
                                        src, dst],
        "coreutils cp": ["cp", src, dst],
    }
    results = {k: [] for k in clients}
    for name, argv in clients.items():
        run_timed(argv)
        drop(dst)
    for _ in range(args.rounds):
        for name, argv in clients.items():
            cpu, wall, _ = run_timed(argv)
            results[name].append((cpu, wall))
            drop(dst)
    syscalls = {}
    for name, argv in clients.items():
        syscalls[name] = count_syscalls(argv, tmp)
        drop(dst)
    table("Copy of a %d MiB page-cached file on ext4 (same filesystem)" % args.size_mib,
          results, "coreutils cp", gib, syscalls)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zcopy", default="build/zcopy")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", choices=["get", "cp"])
    args = ap.parse_args()
    args.zcopy = os.path.abspath(args.zcopy)
    for tool in ("curl", "wget", "cp", "strace", "/usr/sbin/nginx"):
        if not shutil.which(tool):
            print("bench/clients.py: %s is missing (scripts/deps.sh bench)" % tool)
            return 77
    tmp = tempfile.mkdtemp(prefix="zcbench.", dir=os.environ.get("TMPDIR", "/var/tmp"))
    os.chmod(tmp, 0o755)                     # the nginx worker must read it
    try:
        src = os.path.join(tmp, "src.bin")
        with open(src, "wb") as f:
            block = os.urandom(MiB)
            for _ in range(args.size_mib):
                f.write(block)
        with open(src, "rb") as f:           # page-cache it
            while f.read(16 * MiB):
                pass
        gib = args.size_mib / 1024
        print("machine: %s, %d CPUs, kernel %s; shared with other work, so compare "
              "within this run only" % (os.uname().machine, os.cpu_count(),
                                         os.uname().release))
        if args.only in (None, "get"):
            bench_get(args, tmp, "src.bin", gib)
        if args.only in (None, "cp"):
            bench_cp(args, tmp, src, gib)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
