#!/usr/bin/env python3
"""zcopy serve under systemd socket activation, without systemd: a launcher
(listen_fds_launcher.py) hands over listening sockets as fds 3.. with
LISTEN_FDS / LISTEN_PID set, as sd_listen_fds(3) describes."""
import os
import re
import socket
import subprocess
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (Server, done, eq, make_root, ok, pattern, request,  # noqa: E402
                        write, zcopy)

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = [sys.executable, os.path.join(HERE, "listen_fds_launcher.py")]

root = make_root()
data = pattern(50000, seed=3)
write(root, "f.bin", data)


def listener(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(64)
    return s


def launcher(socks, *extra):
    return LAUNCHER + [",".join(str(s.fileno()) for s in socks)] + list(extra) + ["--"]


def test_activated():
    a, b = listener(), listener(socket.AF_INET6, "::1")
    ports = {a.getsockname()[1], b.getsockname()[1]}
    with Server(root, "--threads", "2", listen=None, wrapper=launcher([a, b]),
                pass_fds=(a.fileno(), b.fileno()), stdout_lines=2) as srv:
        a.close()
        b.close()
        eq(len(srv.urls), 2, "one line per inherited socket")
        got = set(int(u.rsplit(":", 1)[1].strip("/")) for u in srv.urls)
        eq(got, ports, "the printed ports are the inherited sockets'")
        ok(any("[::1]" in u for u in srv.urls), "the IPv6 socket is served too")
        # Several connections: each worker watches the same accept queue.
        for i in range(6):
            r = request(srv, "GET", "/f.bin")
            ok(r is not None and r.status == 200 and r.body == data,
               "GET %d through the inherited socket" % i)
        for u in srv.urls:
            m = re.match(r"http://\[?([^\]]+?)\]?:(\d+)/", u)
            srv.host, srv.port = m.group(1), int(m.group(2))
            r = request(srv, "GET", "/f.bin")
            ok(r is not None and r.status == 200 and r.body == data, "GET via %s" % u)


def test_listen_ignored():
    a = listener()
    port = a.getsockname()[1]
    with Server(root, listen="127.0.0.1:0", wrapper=launcher([a]),
                pass_fds=(a.fileno(),)) as srv:
        a.close()
        eq(srv.port, port, "--listen gives way to the inherited socket")
        r = request(srv, "GET", "/f.bin")
        ok(r is not None and r.status == 200, "served")
    ok("--listen ignored" in srv.stderr_text, "and says so on stderr")


def test_other_pid():
    a = listener()
    port = a.getsockname()[1]
    with Server(root, wrapper=launcher([a], "--pid"), pass_fds=(a.fileno(),)) as srv:
        ok(srv.port != port, "LISTEN_PID of another process: not activated, --listen used")
        r = request(srv, "GET", "/f.bin")
        ok(r is not None and r.status == 200, "served on --listen")
    a.close()


def run_bad(socks, name):
    fds = tuple(s.fileno() for s in socks)
    cmd = launcher(socks) + [zcopy(), "serve", root]
    try:
        p = subprocess.run(cmd, pass_fds=fds, capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        ok(False, "%s: exits" % name)
        return
    eq(p.returncode, 1, "%s: exit status 1" % name)
    ok(b"socket activation" in p.stderr, "%s: message names socket activation" % name)


def test_refused():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    run_bad([u], "a UDP socket")
    u.close()
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))            # bound, not listening
    run_bad([t], "a TCP socket that does not listen")
    t.close()
    un = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    un.bind(os.path.join(root, "sock"))
    un.listen(1)
    run_bad([un], "an AF_UNIX listener")
    un.close()
    with open(os.path.join(root, "f.bin"), "rb") as f:
        run_bad([f], "a regular file")


test_activated()
test_listen_ignored()
test_other_pid()
test_refused()
done()
