#!/usr/bin/env python3
"""zcopy serve: malformed requests (raw sockets), smuggling shapes, size
limits, GET with a body, path confinement, slowloris, idle keep-alive and
--max-connections."""
import atexit
import os
import shutil
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (Server, done, eq, exchange, make_root, ok,  # noqa: E402
                        parse_responses, recv_until_close, request, wait_for, write)

root = make_root()
write(root, "a.txt", b"inside\n")
write(root, "sub/b.txt", b"sub\n")
outside = tempfile.mkdtemp(prefix="zc-outside-")
atexit.register(shutil.rmtree, outside, True)
secret = os.path.join(outside, "secret.txt")
with open(secret, "wb") as f:
    f.write(b"SECRET\n")
os.symlink(secret, os.path.join(root, "abs-link"))
os.symlink(os.path.relpath(secret, root), os.path.join(root, "rel-link"))
os.symlink(outside, os.path.join(root, "dir-link"))
os.symlink("a.txt", os.path.join(root, "inside-link"))
os.symlink("../a.txt", os.path.join(root, "sub/up-link"))


def status_and_close(srv, raw, name, want):
    resps, data, closed = exchange(srv, raw)
    eq(resps[0].status if resps else data[:40], want, name + ": %d" % want)
    ok(closed, name + ": connection closed")
    return resps


def test_malformed(srv):
    H = b"Host: t\r\n"
    cases = [
        ("no Host in HTTP/1.1", b"GET /a.txt HTTP/1.1\r\n\r\n", 400),
        ("two Host fields", b"GET /a.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("malformed Host", b"GET /a.txt HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        ("Content-Length + Transfer-Encoding",
         b"GET /a.txt HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("differing Content-Length",
         b"GET /a.txt HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("bare LF line ends", b"GET /a.txt HTTP/1.1\nHost: t\n\n", 400),
        ("bare LF in a field line", b"GET /a.txt HTTP/1.1\r\nHost: t\nX-A: 1\r\n\r\n", 400),
        ("obs-fold", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A: 1\r\n  folded\r\n\r\n", 400),
        ("field without colon", b"GET /a.txt HTTP/1.1\r\n" + H + b"NoColon\r\n\r\n", 400),
        ("space before colon", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A : 1\r\n\r\n", 400),
        ("NUL in a field", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
        ("control char in target", b"GET /a\x01.txt HTTP/1.1\r\n" + H + b"\r\n", 400),
        ("garbage request line", b"HELLO\r\n\r\n", 400),
        ("two If-None-Match", b"GET /a.txt HTTP/1.1\r\n" + H +
         b"If-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\n\r\n", 400),
        ("HTTP/3.0", b"GET /a.txt HTTP/3.0\r\n" + H + b"\r\n", 505),
        ("long target", b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
        ("huge field", b"GET /a.txt HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
        ("too many fields", b"GET /a.txt HTTP/1.1\r\n" + H +
         b"".join(b"X-%d: v\r\n" % i for i in range(100)) + b"\r\n", 431),
        ("GET with a body", b"GET /a.txt HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello", 400),
        ("GET with chunked body", b"GET /a.txt HTTP/1.1\r\n" + H +
         b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400),
    ]
    for name, raw, want in cases:
        status_and_close(srv, raw, name, want)
    # A body the server does not read closes the connection whatever the
    # status, so the body is never parsed as a request.
    for method in (b"POST", b"PUT", b"FROB"):
        resps, _, closed = exchange(
            srv, method + b" /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 36\r\n\r\n"
                 b"GET /sub/b.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        eq([r.status for r in resps], [501 if method == b"FROB" else 405],
           "%s with a body: one response" % method.decode())
        ok(closed and resps[0].get("connection") == "close",
           "%s with a body: Connection: close, closed" % method.decode())
    # A smuggled second request after a refused one is never answered.
    resps, _, closed = exchange(
        srv, b"GET /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 30\r\n\r\n"
             b"GET /sub/b.txt HTTP/1.1\r\nHost: t\r\n\r\n")
    eq([r.status for r in resps], [400], "smuggled request after a body is not served")
    # A higher HTTP/1.x minor is HTTP/1.1.
    resps, _, _ = exchange(srv, b"GET /a.txt HTTP/1.7\r\nHost: t\r\nConnection: close\r\n\r\n")
    eq((resps[0].status, resps[0].body) if resps else None, (200, b"inside\n"),
       "HTTP/1.7 served as 1.1")
    r = request(srv, "GET", "/a.txt", headers=[("X-Pad", "\t spaced \t")])
    eq(r.status, 200, "whitespace around a field value is stripped")
    ok(srv.alive(), "server alive after malformed input")


def test_confinement(srv):
    refused = [
        "/../a.txt", "/../../etc/passwd", "/sub/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd", "/%2E%2E%2Fetc%2Fpasswd", "/..%2f..%2fetc/passwd",
        "/sub/%2e%2e/%2e%2e/etc/passwd", "/a.txt%00", "/%00/etc/passwd",
        "/..\\..\\etc\\passwd", "/%5c..%5c..%5cetc%5cpasswd", "/bad%zzescape",
    ]
    for target in refused:
        resps, _, _ = exchange(srv, ("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                                     % target).encode())
        st = resps[0].status if resps else None
        ok(st in (400, 403, 404) and b"SECRET" not in (resps[0].body if resps else b"")
           and b"root:" not in (resps[0].body if resps else b""),
           "%s refused (%s)" % (target, st))
        eq(st, 400, "%s: 400" % target)
    for target, want in (("/abs-link", 403), ("/rel-link", 403), ("/dir-link/secret.txt", 403),
                         ("/dir-link/", 403)):
        r = request(srv, "GET", target)
        eq(r.status, want, "symlink out of the root %s: %d" % (target, want))
        ok(b"SECRET" not in r.body, "%s: no secret" % target)
    r = request(srv, "GET", "/inside-link")
    eq((r.status, r.body), (200, b"inside\n"), "symlink inside the root is served")
    r = request(srv, "GET", "/sub/up-link")
    eq((r.status, r.body), (200, b"inside\n"), "symlink up but still inside the root")
    r = request(srv, "GET", "/sub%2fb.txt")
    eq((r.status, r.body), (200, b"sub\n"), "encoded slash decodes to a path inside")
    r = request(srv, "GET", "http://t/a.txt")
    eq((r.status, r.body), (200, b"inside\n"), "absolute-form target")
    os.mkfifo(os.path.join(root, "fifo"))
    eq(request(srv, "GET", "/fifo").status, 403, "FIFO: 403, worker not blocked")
    write(root, "locked.txt", b"locked\n", mode=0)
    if os.geteuid() != 0:
        eq(request(srv, "GET", "/locked.txt").status, 403, "unreadable file: 403")


def test_slowloris():
    with Server(root, "--threads", "1", "--header-timeout", "1") as srv:
        s = srv.connect()
        s.sendall(b"GET /a.txt HTTP/1.1\r\n")
        got, closed = b"", False
        drip = b"X-Slow: " + b"a" * 60
        # One byte every 0.2 s would take 13 s; the 1 s head deadline must
        # end it long before. Bounded: at most len(drip) iterations.
        for ch in drip:
            try:
                s.send(bytes([ch]))
            except OSError:
                closed = True
                break
            # Meanwhile another client is served by the same single worker.
            if ch == ord("a"):
                r = request(srv, "GET", "/sub/b.txt")
                if r is None or r.body != b"sub\n":
                    ok(False, "other client served during the drip")
            time.sleep(0.2)
            s.setblocking(False)
            try:
                b = s.recv(4096)
                if b:
                    got += b
                else:
                    closed = True
            except BlockingIOError:
                pass
            except OSError:
                closed = True
            s.setblocking(True)
            if closed:
                break
        if not closed:
            more, closed = recv_until_close(s, timeout=15)
            got += more
        s.close()
        ok(closed, "dripping client closed by the server before it finished")
        r = parse_responses(got)
        eq(r[0].status if r else None, 408, "dripping client got 408")

        # A connection that never sends a byte: 408 and close too.
        with srv.connect() as s2:
            data, closed = recv_until_close(s2, timeout=15)
        r = parse_responses(data)
        ok(closed and r and r[0].status == 408, "silent new connection: 408 then close")

        # Complete pipelined requests are answered; the half one at the end
        # gets 408 at the head deadline, framed after them, then close.
        resps, _, closed = exchange(srv, b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
                                         b"HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
                                         b"GET /a.txt HTTP/1.1\r\nHo", head_only=(1,))
        eq([(x.status, x.body) for x in resps], [(200, b"inside\n"), (200, b""), (408, resps[-1].body
                                                  if resps else None)],
           "pipeline ending in half a request: 200, HEAD 200, then 408")
        ok(closed and resps and resps[-1].get("connection") == "close", "and closed")
        ok(srv.alive(), "server alive after slow clients")


def test_idle_keepalive():
    with Server(root, "--threads", "1", "--keepalive-timeout", "1") as srv:
        with srv.connect() as s:
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            data = b""
            for _ in range(50):
                if data.endswith(b"inside\n"):
                    break
                b = s.recv(4096)
                if not b:
                    break
                data += b
            eq(parse_responses(data)[0].body, b"inside\n", "first keep-alive response")
            rest, closed = recv_until_close(s, timeout=15)
            ok(closed and rest == b"", "idle keep-alive connection closed silently")


def test_max_connections():
    with Server(root, "--threads", "1", "--max-connections", "2") as srv:
        held = []
        for i in range(2):
            s = srv.connect()
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n")
            data = b""
            for _ in range(50):
                if data.endswith(b"inside\n"):
                    break
                b = s.recv(4096)
                if not b:
                    break
                data += b
            ok(data.endswith(b"inside\n"), "connection %d under the limit served" % i)
            held.append(s)
        with srv.connect() as s3:
            data, closed = recv_until_close(s3, timeout=15)
        r = parse_responses(data)
        ok(closed and r and r[0].status == 503, "connection over the limit: 503 and closed")
        held.pop().close()
        ok(_wait_served(srv), "a slot freed: new connection served")
        for s in held:
            s.close()


def _wait_served(srv):
    # Bounded in time, not in tries: each try may meet the 503 until the
    # server has seen the close, however long a loaded machine takes.
    def served():
        r = request(srv, "GET", "/a.txt")
        return r is not None and r.status == 200
    return wait_for(served)


with Server(root, "--threads", "2") as srv:
    test_malformed(srv)
    test_confinement(srv)
    ok(srv.alive(), "server still running")
test_slowloris()
test_idle_keepalive()
test_max_connections()
done()
