#!/usr/bin/env python3
"""zcopy serve --upload: PUT bodies land byte-exact and atomically (201, 204),
aborted uploads leave nothing, 411/413/412/405/404/400 refusals, uploads stay
inside the root, and uploads are refused without --upload."""
import os
import subprocess
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (Server, done, eq, exchange, make_root, ok,  # noqa: E402
                        pattern, recv_until_close, request, wait_for,
                        wait_server_read, write)

root = make_root()
os.mkdir(os.path.join(root, "sub"))
# Outside the root, and private: the shared /tmp may hold an escape.bin of a
# test running beside this one.
outside = make_root()
os.symlink(outside, os.path.join(root, "out"))
write(root, "keep.txt", b"old contents\n")


def listing():
    """Every name under the root, hidden temporary files included."""
    names = []
    for d, _, files in os.walk(root):
        names += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return sorted(names)


def put(srv, path, body, headers=(), send_body=True):
    head = ["PUT %s HTTP/1.1" % path, "Host: t", "Connection: close"]
    if not any(h[0].lower() == "content-length" for h in headers):
        head.append("Content-Length: %d" % len(body))
    head += ["%s: %s" % h for h in headers]
    raw = ("\r\n".join(head) + "\r\n\r\n").encode() + (body if send_body else b"")
    resps, _, closed = exchange(srv, raw)
    return resps[0] if resps else None


def read_file(rel):
    with open(os.path.join(root, rel), "rb") as f:
        return f.read()


# One worker, a long cache validity: a GET right after a PUT must still see
# the new bytes, so the upload itself must drop the cached entry.
with Server(root, "--upload", "--max-upload", "32M", "--threads", "1",
            "--cache-valid", "60000") as srv:
    for size in (0, 1, 4096, 70000, 5 << 20):
        data = pattern(size, seed=size % 251)
        r = put(srv, "/new-%d.bin" % size, data)
        eq(r and r.status, 201, "PUT %d bytes to a new name: 201" % size)
        ok(os.path.exists(os.path.join(root, "new-%d.bin" % size)) and
           read_file("new-%d.bin" % size) == data, "%d bytes stored byte-exact" % size)

    r = request(srv, "GET", "/keep.txt")
    eq(r and r.body, b"old contents\n", "GET before PUT (now in the open-file cache)")
    r = put(srv, "/keep.txt", b"new contents\n")
    eq(r and r.status, 204, "PUT over an existing file: 204")
    eq(r and r.get("content-length"), None, "204 has no Content-Length")
    eq(read_file("keep.txt"), b"new contents\n", "replaced contents")
    r = request(srv, "GET", "/keep.txt")
    eq(r and r.body, b"new contents\n", "GET after PUT serves the new bytes")

    r = put(srv, "/sub/deep.bin", b"x" * 100)
    eq(r and r.status, 201, "PUT into a subdirectory: 201")

    # Expect: 100-continue: the server must answer 100 before the body.
    with srv.connect() as s:
        body = pattern(300000, seed=3)
        s.sendall(b"PUT /cont.bin HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        first = s.recv(4096)
        ok(first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), "100 Continue before the body")
        s.sendall(body)
        data, _ = recv_until_close(s)
        ok(b"HTTP/1.1 201" in first + data, "then 201")
    eq(read_file("cont.bin"), body, "Expect: 100-continue upload byte-exact")

    # curl, a real client (it sends Expect: 100-continue for large bodies).
    src = os.path.join(root, "..", os.path.basename(root) + ".curl-src")
    with open(src, "wb") as f:
        f.write(pattern(3 << 20, seed=77))
    try:
        out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                              "-T", src, srv.urls[0] + "curl.bin"],
                             capture_output=True, text=True, timeout=30)
        eq(out.stdout, "201", "curl -T: 201")
        eq(read_file("curl.bin"), pattern(3 << 20, seed=77), "curl -T byte-exact")
    finally:
        os.unlink(src)

    # Refusals.
    r = put(srv, "/chunked.bin", b"5\r\nhello\r\n0\r\n\r\n",
            headers=(("Transfer-Encoding", "chunked"), ("Content-Length", "0")))
    eq(r and r.status, 400, "Content-Length with Transfer-Encoding: 400 (parser)")
    r = put(srv, "/chunked.bin", b"5\r\nhello\r\n0\r\n\r\n",
            headers=(("Transfer-Encoding", "chunked"), ("Content-Length", "x")))
    ok(r is not None and r.status == 400, "bad Content-Length: 400")
    raw = (b"PUT /nolen.bin HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
           b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    resps, _, closed = exchange(srv, raw)
    eq(resps and resps[0].status, 411, "chunked PUT without length: 411")
    raw = b"PUT /nolen.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    resps, _, closed = exchange(srv, raw)
    eq(resps and resps[0].status, 411, "PUT without Content-Length: 411")
    r = put(srv, "/huge.bin", b"", headers=(("Content-Length", str(33 << 20)),),
            send_body=False)
    eq(r and r.status, 413, "body over --max-upload: 413 before any byte is read")
    r = put(srv, "/keep.txt", b"no", headers=(("If-None-Match", "*"),))
    eq(r and r.status, 412, "If-None-Match: * on an existing file: 412")
    eq(read_file("keep.txt"), b"new contents\n", "412 left the file alone")
    r = put(srv, "/sub", b"x")
    eq(r and r.status, 405, "PUT on a directory: 405")
    r = put(srv, "/missing/x.bin", b"x")
    eq(r and r.status, 404, "PUT into a missing directory: 404")
    for path in ("/../escape.bin", "/%2e%2e/escape.bin", "/sub/..%2fescape.bin",
                 "/a%00b", "/sub\\..\\escape.bin"):
        r = put(srv, path, b"x")
        eq(r and r.status, 400, "PUT %s: 400" % path)
    r = put(srv, "/out/escape.bin", b"x")
    eq(r and r.status, 403, "PUT through a symlink leaving the root: 403")
    ok(not os.listdir(outside), "nothing written outside the root")

    # A client that dies mid-body leaves nothing, under any name.
    before = listing()
    with srv.connect() as s:
        s.sendall(b"PUT /aborted.bin HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"
                  + b"z" * 300000)
        # Cut only once the server holds the bytes (in its temporary):
        # else the check below could pass before it even started.
        ok(wait_server_read(s), "upload to be cut: the server read what was sent")
    ok(wait_for(lambda: listing() == before), "aborted upload: no file, no temporary")
    ok(srv.alive(), "server alive after an aborted upload")

    # Keep-alive: two PUTs and a GET on one connection.
    with srv.connect() as s:
        s.sendall(b"PUT /ka1 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                  b"PUT /ka2 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\ndefg"
                  b"GET /ka1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data, closed = recv_until_close(s)
    from serve_util import parse_responses  # noqa: E402
    resps = parse_responses(data)
    eq([r.status for r in resps], [201, 201, 200], "pipelined PUT, PUT, GET")
    eq(resps[-1].body if resps else None, b"abc", "GET sees the pipelined upload")

with Server(root) as srv:
    r = put(srv, "/nope.bin", b"x")
    eq(r and r.status, 405, "without --upload PUT is 405")
    eq(r and r.get("allow"), "GET, HEAD", "Allow lists GET, HEAD")
    ok(not os.path.exists(os.path.join(root, "nope.bin")), "and nothing is written")

done()
