#!/usr/bin/env python3
"""zcopy serve --loop: the start line names the loop that runs; --loop uring
serves whole bodies, uploads and many connections; where io_uring is refused
(a seccomp filter, as Docker's default profile) it falls back to epoll and
says so; a bad name is a usage error."""
import hashlib
import os
import subprocess
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (Server, done, eq, make_root, ok, pattern,  # noqa: E402
                        parse_responses, recv_until_close, refuses_option, stop, write)

root = make_root()
big = pattern((5 << 20) + 7, seed=3)
write(root, "big.bin", big)
write(root, "small.txt", b"hello\n")
DENY = os.environ.get("ZC_DENY_SYSCALLS")


def curl(url):
    p = subprocess.run(["curl", "-sS", "--max-time", "30", url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout


refuses_option(root, "--loop", ("kqueue", ""))

with Server(root, "--threads", "1", "--loop", "epoll") as srv:
    ok("loop epoll)" in srv.lines[0], "--loop epoll: start line says so (%r)" % srv.lines[0])

with Server(root, "--threads", "2", "--loop", "uring", "--upload") as srv:
    uring = "loop uring)" in srv.lines[0]
    if not uring:
        ok("loop epoll)" in srv.lines[0], "io_uring unavailable: fell back to epoll # SKIP")
    else:
        ok(True, "--loop uring: start line says so")
    rc, body = curl(srv.urls[0] + "big.bin")
    eq((rc, hashlib.sha256(body).digest() == hashlib.sha256(big).digest()), (0, True),
       "5 MiB body whole")
    # A body larger than the ring's buffers, with a request pipelined behind it.
    upload = pattern(3 << 20, seed=9)
    with srv.connect() as s:
        s.sendall(b"PUT /up.bin HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                  % len(upload) + upload +
                  b"GET /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data, _ = recv_until_close(s)
    resps = parse_responses(data)
    eq([r.status for r in resps], [201, 200], "pipelined 3 MiB PUT then GET")
    eq(resps[-1].body if len(resps) == 2 else None, b"hello\n", "the GET after the body")
    with open(os.path.join(root, "up.bin"), "rb") as f:
        ok(f.read() == upload, "uploaded bytes exact")
    # Many connections at once, each a keep-alive pair of requests.
    socks = [srv.connect() for _ in range(200)]
    for s in socks:
        s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    good = 0
    for s in socks:
        data, _ = recv_until_close(s)
        good += [r.body for r in parse_responses(data)] == [b"hello\n"] * 2
        s.close()
    eq(good, 200, "200 connections, 2 requests each")
    eq(stop(srv), 0, "SIGTERM: exit 0")

if DENY and os.access(DENY, os.X_OK) and \
        subprocess.run([DENY, "io_uring_setup", "true"]).returncode == 0:
    with Server(root, "--threads", "1", "--loop", "uring",
                wrapper=(DENY, "io_uring_setup,io_uring_enter,io_uring_register")) as srv:
        ok("loop epoll)" in srv.lines[0], "io_uring refused: runs on epoll (%r)" % srv.lines[0])
        rc, body = curl(srv.urls[0] + "big.bin")
        eq((rc, body == big), (0, True), "and serves whole bodies")
        eq(stop(srv), 0, "SIGTERM: exit 0")
        srv.kill()
        ok("--loop uring: Operation not permitted; using epoll" in srv.stderr_text,
           "the fallback is said on stderr (%r)" % srv.stderr_text[-300:])
else:
    ok(True, "io_uring refused # SKIP seccomp filters unavailable")
done()
