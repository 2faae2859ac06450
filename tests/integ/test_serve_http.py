#!/usr/bin/env python3
"""zcopy serve: methods, headers, keep-alive, pipelining, directories,
listing, content types, --help, IPv6 and named methods."""
import email.utils
import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (Server, done, eq, exchange, make_root, ok, pattern,  # noqa: E402
                        parse_responses, recv_until_close, request, write, zcopy)

root = make_root()
small = write(root, "a.txt", b"hello, zcopy\n")
write(root, "page.html", b"<p>page</p>\n")
write(root, "img.png", pattern(5000))
write(root, "noext", b"x" * 10)
big_data = pattern((1 << 20) + 1, seed=3)
write(root, "big.bin", big_data)
write(root, "empty.txt", b"")
write(root, "docs/index.html", b"<h1>docs</h1>\n")
write(root, "bare/<b>&\"x'.txt", b"tricky\n")
os.makedirs(os.path.join(root, "bare/sub dir"))


def test_index_option():
    write(root, "alt/home.htm", b"home\n")
    with Server(root, "--index", "home.htm", "--threads", "1") as srv:
        r = request(srv, "GET", "/alt/")
        eq((r.status, r.body), (200, b"home\n"), "--index home.htm served")
        eq(request(srv, "GET", "/docs/").status, 403, "--index: index.html no longer used")


def test_help():
    p = subprocess.run([zcopy(), "serve", "--help"], capture_output=True, timeout=10)
    eq(p.returncode, 0, "--help exits 0")
    text = p.stdout.decode()
    for opt in ("--listen", "--threads", "--method", "--access-log", "--index",
                "--listing", "--max-connections", "--header-timeout",
                "--keepalive-timeout", "--user"):
        ok(opt in text, "--help documents %s" % opt)
    p = subprocess.run([zcopy(), "serve", root, "--method", "nonsense"],
                       capture_output=True, timeout=10)
    eq(p.returncode, 2, "unknown --method is a usage error")
    p = subprocess.run([zcopy(), "serve", root, "--listen", "nowhere"],
                       capture_output=True, timeout=10)
    eq(p.returncode, 2, "bad --listen is a usage error")
    # A port already in use is refused, not silently shared through
    # SO_REUSEPORT with whoever holds it.
    with Server(root, "--threads", "1") as first:
        p = subprocess.run([zcopy(), "serve", root, "--listen",
                            "127.0.0.1:%d" % first.port], capture_output=True, timeout=10)
        eq(p.returncode, 1, "port in use: exit 1")
        ok(b"in use" in p.stderr, "port in use: says so")


def test_get_head(srv):
    st = os.stat(small)
    r = request(srv, "GET", "/a.txt")
    eq(r.status, 200, "GET file: 200")
    eq(r.body, b"hello, zcopy\n", "GET file: exact body")
    eq(r.get("content-length"), "13", "Content-Length")
    eq(r.get("content-type"), "text/plain; charset=utf-8", "Content-Type from mime.types")
    eq(r.get("accept-ranges"), "bytes", "Accept-Ranges: bytes")
    eq(r.get("last-modified"), email.utils.formatdate(st.st_mtime, usegmt=True),
       "Last-Modified is the file's mtime")
    ok(r.get("server", "").startswith("zcopy/"), "Server header")
    ok(email.utils.parsedate_to_datetime(r.get("date")) is not None, "Date header parses")
    etag = r.get("etag", "")
    ok(etag.startswith('"') and etag.endswith('"') and len(etag) > 2, "strong ETag")

    h = request(srv, "HEAD", "/a.txt")
    eq(h.status, 200, "HEAD: 200")
    for name in ("content-length", "content-type", "etag", "last-modified",
                 "accept-ranges"):
        eq(h.get(name), r.get(name), "HEAD: same %s as GET" % name)
    # HEAD then GET pipelined: the GET's status line must follow the HEAD's
    # head immediately, which proves the HEAD sent no body.
    resps, data, _ = exchange(
        srv, b"HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"
             b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        head_only=(0,))
    eq([x.status for x in resps], [200, 200], "HEAD + GET pipelined")
    eq(len(data), len(resps[0].raw_head) + 4 + len(resps[1].raw_head) + 4 + 13,
       "HEAD carried no body")

    for name, ctype in (("page.html", "text/html; charset=utf-8"), ("img.png", "image/png"),
                        ("noext", "application/octet-stream")):
        eq(request(srv, "GET", "/" + name).get("content-type"), ctype,
           "Content-Type of %s" % name)
    r = request(srv, "GET", "/empty.txt")
    eq((r.status, r.get("content-length"), r.body), (200, "0", b""), "empty file")


def test_errors(srv):
    eq(request(srv, "GET", "/missing").status, 404, "missing file: 404")
    eq(request(srv, "GET", "/a.txt/x").status, 404, "file used as a directory: 404")
    for m in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
        r = request(srv, m, "/a.txt", headers=(("Content-Length", "0"),))
        eq(r.status, 405, "%s: 405" % m)
        eq(r.get("allow"), "GET, HEAD", "%s: Allow: GET, HEAD" % m)
    r = request(srv, "FROB", "/a.txt")
    eq(r.status, 501, "unknown method: 501")
    resps, _, closed = exchange(srv, b"GET /a.txt HTTP/2.0\r\nHost: t\r\n\r\n")
    eq(resps[0].status if resps else None, 505, "HTTP/2.0: 505")
    ok(closed, "505 closes the connection")


def test_keepalive(srv):
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
    socks = set()
    for i in range(5):
        conn.request("GET", "/a.txt")
        r = conn.getresponse()
        body = r.read()
        socks.add(id(conn.sock))
        ok(r.status == 200 and body == b"hello, zcopy\n", "keep-alive request %d" % i)
    eq(len(socks), 1, "HTTP/1.1 reuses one connection")
    conn.request("GET", "/missing")
    r = conn.getresponse()
    r.read()
    eq(r.status, 404, "404 keeps the connection")
    conn.request("GET", "/a.txt")
    r = conn.getresponse()
    eq(r.read(), b"hello, zcopy\n", "request after a 404 on the same connection")
    conn.close()

    # Connection: close is honoured: the server closes after the response.
    resps, _, closed = exchange(
        srv, b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    ok(closed and resps[0].get("connection") == "close", "Connection: close honoured")
    # HTTP/1.0: close by default, keep-alive on request.
    resps, _, closed = exchange(srv, b"GET /a.txt HTTP/1.0\r\n\r\n")
    ok(closed and resps[0].status == 200 and resps[0].body == b"hello, zcopy\n",
       "HTTP/1.0 closes by default")
    with srv.connect() as s:
        s.sendall(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        s.settimeout(5)
        data = b""
        while b"hello, zcopy\n" not in data:
            b = s.recv(4096)
            if not b:
                break
            data += b
        r = parse_responses(data)
        ok(r and r[0].get("connection", "").lower() == "keep-alive",
           "HTTP/1.0 keep-alive answered with Connection: keep-alive")
        s.sendall(b"GET /page.html HTTP/1.0\r\n\r\n")
        more, closed = recv_until_close(s)
        r = parse_responses(more)
        ok(r and r[0].body == b"<p>page</p>\n" and closed,
           "second HTTP/1.0 request on the kept-alive connection")


def test_pipelining(srv):
    reqs = b"".join(b"GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % n for n in
                    (b"a.txt", b"page.html", b"missing", b"noext"))
    reqs += b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    resps, _, closed = exchange(srv, reqs)
    eq([r.status for r in resps], [200, 200, 404, 200, 200], "pipelined statuses in order")
    eq([r.body for r in resps if r.status == 200],
       [b"hello, zcopy\n", b"<p>page</p>\n", b"x" * 10, b"hello, zcopy\n"],
       "pipelined bodies in order")
    ok(closed, "closed after the last pipelined request")
    # More pipelined requests than one turn serves (the connection yields to
    # others and resumes): all answered, in order.
    reqs = b"".join(b"GET /%s HTTP/1.1\r\nHost: t\r\n\r\n" % (b"a.txt" if i % 3 else b"noext")
                    for i in range(99))
    reqs += b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    resps, _, closed = exchange(srv, reqs)
    eq(len(resps), 100, "100 pipelined requests: 100 responses")
    ok(all(r.body == (b"hello, zcopy\n" if i % 3 else b"x" * 10) for i, r in enumerate(resps[:99])),
       "100 pipelined responses in order")
    # Bytes dribbled one at a time still make one request.
    with srv.connect() as s:
        for ch in b"GET /a.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n":
            s.send(bytes([ch]))
        data, _ = recv_until_close(s)
    r = parse_responses(data)
    ok(r and r[0].body == b"hello, zcopy\n", "request split into 1-byte sends")


def test_big(srv):
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=10)
    conn.request("GET", "/big.bin")
    r = conn.getresponse()
    body = r.read()
    eq(hashlib.sha256(body).hexdigest(), hashlib.sha256(big_data).hexdigest(),
       "1 MiB + 1 body byte-exact")
    conn.close()
    if shutil.which("curl"):
        p = subprocess.run(["curl", "-sS", "--max-time", "20", srv.urls[0] + "big.bin"],
                           capture_output=True, timeout=30)
        eq(hashlib.sha256(p.stdout).hexdigest(), hashlib.sha256(big_data).hexdigest(),
           "curl: 1 MiB + 1 byte-exact")
        p = subprocess.run(["curl", "-sS", "-I", "--max-time", "10", srv.urls[0] + "a.txt"],
                           capture_output=True, timeout=30)
        ok(b"200 OK" in p.stdout and b"Content-Length: 13" in p.stdout, "curl -I")
    else:
        print("# curl absent: curl checks skipped")


def test_dirs(srv, listing_srv):
    r = request(srv, "GET", "/docs")
    eq((r.status, r.get("location")), (301, "/docs/"), "directory without slash: 301")
    r = request(srv, "GET", "/docs?x=1")
    eq(r.get("location"), "/docs/?x=1", "301 keeps the query")
    r = request(srv, "GET", "//docs")
    eq((r.status, r.get("location")), (301, "/docs/"),
       "//docs: 301 to /docs/, never a protocol-relative //docs/")
    r = request(srv, "GET", "//a.txt")
    eq((r.status, r.body), (200, b"hello, zcopy\n"), "leading // collapses")
    r = request(srv, "GET", "/docs/")
    eq((r.status, r.body), (200, b"<h1>docs</h1>\n"), "index file served")
    eq(r.get("content-type"), "text/html; charset=utf-8", "index file Content-Type")
    eq(request(srv, "GET", "/bare/").status, 403, "no index, no --listing: 403")

    r = request(listing_srv, "GET", "/bare/")
    eq(r.status, 200, "--listing: 200")
    body = r.body.decode()
    ok("&lt;b&gt;&amp;&quot;x&#39;.txt" in body or "&lt;b&gt;&amp;&quot;x&#x27;.txt" in body,
       "--listing: names HTML-escaped")
    ok("<b>" not in body, "--listing: no raw markup from names")
    ok('href="sub%20dir/"' in body, "--listing: subdirectory link encoded with slash")
    many = os.path.join(root, "many")
    os.mkdir(many)
    for i in range(10001):
        os.close(os.open(os.path.join(many, "f%05d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
    r = request(listing_srv, "GET", "/many/")
    eq(r.body.count(b"<li>"), 10001, "huge directory: listing bounded at 10000 names (+ ../)")
    ok(b"(listing truncated)" in r.body, "huge directory: says it is truncated")
    r = request(listing_srv, "HEAD", "/bare/")
    eq((r.status, r.body, r.get("content-length")), (200, b"", str(len(body.encode()))),
       "--listing: HEAD has the length and no body")
    r = request(listing_srv, "GET", "/docs/")
    eq(r.body, b"<h1>docs</h1>\n", "--listing still prefers the index")
    r = request(listing_srv, "GET", "/bare/%3Cb%3E%26%22x'.txt")
    eq(r.body, b"tricky\n", "percent-encoded name is served")


def test_ipv6_and_methods():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        have6 = True
    except OSError:
        have6 = False
    if have6:
        with Server(root, "--listen", "127.0.0.1:0", listen="[::1]:0",
                    stdout_lines=2) as srv6:
            eq(len(srv6.urls), 2, "two listeners print two URLs")
            ok(srv6.urls[0].startswith("http://[::1]:"), "IPv6 URL printed")
            r = request(srv6, "GET", "/a.txt")
            eq(r.body if r else None, b"hello, zcopy\n", "GET over IPv6")
    else:
        print("# no IPv6 loopback: skipped")
    for m in ("readwrite", "sendfile", "splice", "mmap", "copy_file_range",
              "msg_zerocopy", "uring", "direct"):
        with Server(root, "--method", m, "--threads", "1") as srv:
            r = request(srv, "GET", "/big.bin")
            ok(r is not None and r.body == big_data, "--method %s: 1 MiB + 1 byte-exact" % m)
            r = request(srv, "GET", "/a.txt")
            ok(r is not None and r.body == b"hello, zcopy\n", "--method %s: small file" % m)
            # A slow reader makes the socket fill: the method must resume
            # after EAGAIN at the exact offset.
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            s.settimeout(10)
            s.connect((srv.host, srv.port))
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            data = b""
            for i in range(20000):
                b = s.recv(16384)
                if not b:
                    break
                data += b
                if i < 40:
                    time.sleep(0.005)
            s.close()
            r = parse_responses(data)
            ok(r and r[0].body == big_data, "--method %s: slow reader byte-exact" % m)


test_help()
test_index_option()
with Server(root, "--threads", "2") as srv, Server(root, "--listing") as lsrv:
    test_get_head(srv)
    test_errors(srv)
    test_keepalive(srv)
    test_pipelining(srv)
    test_big(srv)
    test_dirs(srv, lsrv)
    ok(srv.alive() and lsrv.alive(), "servers still running")
test_ipv6_and_methods()
done()
