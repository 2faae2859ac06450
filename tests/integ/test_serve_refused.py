#!/usr/bin/env python3
"""zcopy serve under a seccomp policy that refuses a transfer method's
syscalls with EPERM (as Docker's default profile refuses io_uring): every
body still arrives whole, by another method, and the server says which
method was refused and what it uses instead.

The server runs under tests/deny_syscalls.c, which installs the filter
itself; no container or privilege is needed."""
import hashlib
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (Server, done, eq, exchange, make_root, ok,  # noqa: E402
                        pattern, skip_all, stop, write)

DENY = os.environ.get("ZC_DENY_SYSCALLS")
if not DENY or not os.access(DENY, os.X_OK):
    skip_all("ZC_DENY_SYSCALLS not set (run through ctest)")
probe = subprocess.run([DENY, "splice", "true"], stderr=subprocess.PIPE)
if probe.returncode == 77:
    skip_all("seccomp filters unavailable: %s" % probe.stderr.decode().strip())

URING = "io_uring_setup,io_uring_enter,io_uring_register"
SIZE = (3 << 20) + 1                    # far above the small-body path (16 KiB)
data = pattern(SIZE, seed=5)
digest = hashlib.sha256(data).hexdigest()
root = make_root()
write(root, "big.bin", data)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def stored(rel):
    try:
        with open(os.path.join(root, rel), "rb") as f:
            return sha(f.read())
    except FileNotFoundError:
        return None


def get_bodies(srv, what):
    """Two pipelined GETs on one connection (keep-alive, then close), and
    one by curl: each must be the whole file."""
    raw = (b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"
           b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    resps, got, closed = exchange(srv, raw, timeout=20)
    eq([(r.status, len(r.body), sha(r.body) == digest) for r in resps],
       [(200, SIZE, True)] * 2, "%s: two keep-alive bodies whole" % what)
    ok(closed and len(got) == sum(len(r.raw_head) + 4 + len(r.body) for r in resps),
       "%s: nothing after them, then closed" % what)
    if not shutil.which("curl"):
        print("# curl absent: curl check skipped")
        return
    p = subprocess.run(["curl", "-sS", "--max-time", "20", srv.urls[0] + "big.bin"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    eq((p.returncode, len(p.stdout), sha(p.stdout) == digest), (0, SIZE, True),
       "%s: curl gets the whole body (stderr %r)" % (what, p.stderr[-200:]))


def serve(deny, *args):
    return Server(root, "--threads", "1", *args, wrapper=(DENY, deny))


def check_log(srv, what, *lines):
    eq(stop(srv), 0, "%s: SIGTERM exit 0" % what)
    srv.kill()                          # collects stderr
    for line in lines:
        ok(line in srv.stderr_text, "%s: server logged %r (stderr: %r)"
           % (what, line, srv.stderr_text[-400:]))


def test_uring_refused():
    # The report: 200 with the full Content-Length, then 0 bytes.
    with serve(URING, "--method", "uring") as srv:
        get_bodies(srv, "uring refused")
        # Built without liburing the method refuses with EOPNOTSUPP instead.
        check_log(srv, "uring refused", "method uring refused (Operation not ",
                  "); using auto")


def test_sendfile_refused_named():
    with serve("sendfile", "--method", "sendfile") as srv:
        get_bodies(srv, "--method sendfile, sendfile refused")
        check_log(srv, "--method sendfile, sendfile refused",
                  "method sendfile refused (Operation not permitted); using auto",
                  "sendfile refused (Operation not permitted); bodies now go by splice")


def test_sendfile_refused_auto():
    with serve("sendfile") as srv:
        get_bodies(srv, "auto, sendfile refused")
        check_log(srv, "auto, sendfile refused",
                  "sendfile refused (Operation not permitted); bodies now go by splice")


def test_sendfile_and_splice_refused():
    with serve("sendfile,splice") as srv:
        get_bodies(srv, "auto, sendfile and splice refused")
        check_log(srv, "auto, sendfile and splice refused",
                  "bodies now go by mmap")


def test_splice_refused():
    with serve("splice", "--method", "splice") as srv:
        get_bodies(srv, "--method splice, splice refused")
        check_log(srv, "--method splice, splice refused",
                  "method splice refused (Operation not permitted); using auto")


def test_upload_splice_refused():
    # Upload bodies go socket -> file by splice: refused, they are read.
    with serve("splice", "--upload") as srv:
        head = ("PUT /up.bin HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
                "Connection: close\r\n\r\n" % SIZE).encode()
        resps, _, _ = exchange(srv, head + data, timeout=20)
        eq([r.status for r in resps], [201], "PUT with splice refused: 201")
        eq(stored("up.bin"), digest, "PUT with splice refused: stored byte-exact")
        if shutil.which("curl"):
            src = os.path.join(root, "big.bin")
            p = subprocess.run(["curl", "-sS", "--max-time", "20", "-o", "/dev/null",
                                "-w", "%{http_code}", "-T", src,
                                srv.urls[0] + "up2.bin"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            eq((p.returncode, p.stdout), (0, b"201"),
               "curl -T with splice refused: 201 (stderr %r)" % p.stderr[-200:])
            eq(stored("up2.bin"), digest, "curl -T with splice refused: byte-exact")


test_uring_refused()
test_sendfile_refused_named()
test_sendfile_refused_auto()
test_sendfile_and_splice_refused()
test_splice_refused()
test_upload_splice_refused()
done()
