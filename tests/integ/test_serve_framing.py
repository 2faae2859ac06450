#!/usr/bin/env python3
"""zcopy serve: request framing (RFC 9112 section 6) is decided before the
method is looked at. For every method, with and without --upload: a
Transfer-Encoding whose final coding is not chunked is 400 (a coding before
chunked 501), Transfer-Encoding with Content-Length or in HTTP/1.0 is 400,
and so are a duplicate or list-valued Content-Length, obs-fold, bare CR and
bare LF; each closes the connection, so a request hidden in the body is
never answered. An unknown expectation is 417 (RFC 9110 10.1.1)."""
import os
import shutil
import socket
import subprocess
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (Server, done, eq, exchange, make_root, ok,  # noqa: E402
                        recv_until_close, write)

root = make_root()
write(root, "a.txt", b"inside\n")
os.makedirs(os.path.join(root, "up"))

# Sent after each refused request's head: the server must never answer it.
SMUGGLED = b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
BODY = b"5\r\nhello\r\n0\r\n\r\n"

# (name, fields after Host, version, status)
FRAMING = [
    ("TE gzip", b"Transfer-Encoding: gzip\r\n", b"1.1", 400),
    ("TE xchunked", b"Transfer-Encoding: xchunked\r\n", b"1.1", 400),
    ("TE chunked, gzip", b"Transfer-Encoding: chunked, gzip\r\n", b"1.1", 400),
    ("TE chunked twice", b"Transfer-Encoding: chunked, chunked\r\n", b"1.1", 400),
    ("TE in two fields", b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", b"1.1", 400),
    ("TE empty", b"Transfer-Encoding: \r\n", b"1.1", 400),
    ("TE gzip, chunked", b"Transfer-Encoding: gzip, chunked\r\n", b"1.1", 501),
    ("TE with CL", b"Transfer-Encoding: chunked\r\nContent-Length: 15\r\n", b"1.1", 400),
    ("TE in HTTP/1.0", b"Transfer-Encoding: chunked\r\n", b"1.0", 400),
    ("CL list", b"Content-Length: 15, 15\r\n", b"1.1", 400),
    ("CL twice, equal", b"Content-Length: 15\r\nContent-Length: 15\r\n", b"1.1", 400),
    ("obs-fold", b"X-A: 1\r\n folded\r\nContent-Length: 15\r\n", b"1.1", 400),
    ("bare LF", b"X-A: 1\nContent-Length: 15\r\n", b"1.1", 400),
    ("bare CR", b"X-A: 1\rContent-Length: 15\r\n", b"1.1", 400),
    ("Expect unknown", b"Expect: fly\r\nContent-Length: 15\r\n", b"1.1", 417),
]
METHODS = [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"BREW"]


def check_framing(srv, label):
    for name, fields, version, want in FRAMING:
        for method in METHODS:
            what = "%s: %s %s" % (label, method.decode(), name)
            raw = (method + b" /up/x.bin HTTP/" + version + b"\r\nHost: t\r\n" + fields +
                   b"\r\n" + BODY + SMUGGLED)
            resps, data, closed = exchange(srv, raw)
            eq([r.status for r in resps], [want], what + ": %d, the smuggled GET unanswered"
               % want)
            ok(closed and resps and resps[0].get("connection") == "close",
               what + ": Connection: close, closed")
    ok(not os.path.exists(os.path.join(root, "up", "x.bin")), label + ": nothing stored")


def test_framing():
    with Server(root, "--threads", "1") as srv:
        check_framing(srv, "no --upload")
        ok(srv.alive(), "alive")
    with Server(root, "--threads", "1", "--upload") as srv:
        check_framing(srv, "--upload")
        ok(srv.alive(), "alive")


def test_valid_framing_still_works():
    with Server(root, "--threads", "1", "--upload") as srv:
        # chunked is valid framing: a PUT gets 411 (bodies need a length),
        # a GET 400 (no body allowed); both close, the body unread.
        for method, want in ((b"PUT", 411), (b"GET", 400), (b"POST", 405)):
            raw = (method + b" /up/c.bin HTTP/1.1\r\nHost: t\r\n"
                   b"Transfer-Encoding: CHUNKED\r\n\r\n" + BODY + SMUGGLED)
            resps, _, closed = exchange(srv, raw)
            eq([r.status for r in resps], [want], "%s chunked: %d" % (method.decode(), want))
            ok(closed, "%s chunked: closed" % method.decode())
        # Expect: 100-continue (any case) still gets its 100 and the upload.
        with srv.connect() as s:
            s.sendall(b"PUT /up/e.bin HTTP/1.1\r\nHost: t\r\nExpect: 100-Continue\r\n"
                      b"Content-Length: 5\r\nConnection: close\r\n\r\n")
            first = s.recv(64)
            eq(first, b"HTTP/1.1 100 Continue\r\n\r\n", "Expect: 100-Continue: 100 first")
            s.sendall(b"hello")
            rest, _ = recv_until_close(s)
        ok(rest.startswith(b"HTTP/1.1 201 "), "then 201")
        with open(os.path.join(root, "up", "e.bin"), "rb") as f:
            eq(f.read(), b"hello", "body stored")
        # An HTTP/1.0 client never gets a 100 (RFC 9110 10.1.1).
        with srv.connect() as s:
            s.sendall(b"PUT /up/e0.bin HTTP/1.0\r\nExpect: 100-continue\r\n"
                      b"Content-Length: 5\r\n\r\n")
            s.settimeout(0.3)
            try:
                early = s.recv(64)
            except socket.timeout:
                early = b""
            eq(early, b"", "HTTP/1.0 Expect: 100-continue: no 100")
            s.sendall(b"hello")
            rest, _ = recv_until_close(s)
        ok(rest.startswith(b"HTTP/1.1 201 "), "HTTP/1.0 upload: 201")
        # A keep-alive GET with an empty Expect list is served and kept.
        resps, _, _ = exchange(srv, b"GET /a.txt HTTP/1.1\r\nHost: t\r\nExpect:\r\n\r\n"
                                    b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        eq([(r.status, r.body) for r in resps], [(200, b"inside\n")] * 2,
           "empty Expect: served, connection kept")
        if shutil.which("curl"):
            p = subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                                "-w", "%{http_code}", "-H", "Expect: fly",
                                srv.urls[0] + "a.txt"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            eq(p.stdout, b"417", "curl with Expect: fly gets 417")
            p = subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                                "-w", "%{http_code}", "-X", "POST", "-H",
                                "Transfer-Encoding: gzip", "--data-binary", "x",
                                srv.urls[0] + "a.txt"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            eq(p.stdout, b"400", "curl POST with Transfer-Encoding: gzip gets 400, not 405")
        else:
            print("# curl absent: curl checks skipped")


test_framing()
test_valid_framing_still_works()
done()
