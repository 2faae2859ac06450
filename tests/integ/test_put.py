#!/usr/bin/env python3
"""zcopy put against a PUT handler written on Python's http.server:
byte-exact uploads of several sizes, the status line reported, exit codes
for refusals, a progress bar under a pseudo-terminal; and, when zcopy serve
has --upload, a round trip through it."""
import os
import re
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client_helpers import (Tap, Server, ZcopyServe, content, free_port,  # noqa: E402
                            RawServer, read_request_head, require_zcopy, rmtree, run,
                            run_bounded, run_in_pty, sha, sha_file, tmpdir, ZCOPY)

RECEIVED = {}                       # path -> (headers, body)


class PutHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_expect_100(self):
        if self.path.startswith("/early"):
            RECEIVED[self.path] = (dict(self.headers), None)
            self.send_error(413)        # refused before any body byte
            return False
        return super().handle_expect_100()

    def do_PUT(self):
        length = self.headers.get("Content-Length")
        if length is None:
            self.send_error(411)
            return
        body = self.rfile.read(int(length))
        RECEIVED[self.path] = (dict(self.headers), body)
        if self.path.startswith("/forbidden"):
            self.send_error(403)
            return
        if self.path.startswith("/toolarge"):
            self.send_error(413)
            return
        self.send_response(204 if self.path.startswith("/nocontent") else 201)
        self.send_header("Content-Length", "0")
        self.end_headers()


class OldPutHandler(PutHandler):
    """Answers in HTTP/1.0 and so ignores Expect: 100-continue."""
    protocol_version = "HTTP/1.0"


def test_expect(t, srv, d):
    big = os.path.join(d, "up8388611")
    small = os.path.join(d, "up4096")
    t.eq(RECEIVED["/dir/up8388611.bin"][0].get("Expect"), "100-continue",
         "a body of 1 MiB or more is announced with Expect: 100-continue")
    t.eq(RECEIVED["/dir/up4096.bin"][0].get("Expect"), None, "a small body is not")
    r = run(["put", big, srv.url("/early/x"), "--stats"])
    t.eq(r.returncode, 3, "413 before the body (after Expect): exit 3")
    t.ok(RECEIVED.get("/early/x") == (RECEIVED["/early/x"][0], None) and
         re.search(rb" 0 bytes moved by libzcopy", r.stderr) is not None,
         "413 before the body: not one body byte sent", r.stderr)
    old = Server(OldPutHandler)
    try:
        r = run(["put", big, old.url("/old")])
        t.ok(r.returncode == 0 and
             sha(RECEIVED["/old"][1]) == sha(content(8 * 1024 * 1024 + 3, "put8388611")),
             "a server that ignores Expect gets the body after the wait", r.stderr)
    finally:
        old.stop()
    r = run(["put", small, srv.url("/small")])
    t.eq(r.returncode, 0, "small body without Expect: exit 0")


def test_sizes(t, srv, d):
    for size in (0, 1, 4096, 65537, 8 * 1024 * 1024 + 3):
        data = content(size, "put%d" % size)
        src = os.path.join(d, "up%d" % size)
        with open(src, "wb") as f:
            f.write(data)
        path = "/dir/up%d.bin" % size
        r = run(["put", src, srv.url(path)])
        t.eq(r.returncode, 0, "put %d bytes: exit 0" % size)
        t.eq(r.stdout, b"201 Created\n", "put %d bytes: status line on stdout" % size)
        got = RECEIVED.get(path)
        t.ok(got is not None and sha(got[1]) == sha(data),
             "put %d bytes: the server received them byte-exact" % size, r.stderr)
        if got:
            t.eq(got[0].get("Content-Length"), str(size), "put %d: Content-Length" % size)


def test_statuses(t, srv, d):
    src = os.path.join(d, "small")
    with open(src, "wb") as f:
        f.write(b"hello")
    r = run(["put", src, srv.url("/nocontent")])
    t.ok(r.returncode == 0 and r.stdout == b"204 No Content\n", "204: exit 0", r.stderr)
    r = run(["put", src, srv.url("/forbidden/x")])
    t.eq(r.returncode, 3, "403: exit 3")
    t.ok(b"403" in r.stdout + r.stderr, "403: status reported")
    r = run(["put", "-q", src, srv.url("/toolarge")])
    t.eq(r.returncode, 3, "413: exit 3")
    t.eq(r.stdout, b"", "-q: no status line")
    r = run(["put", os.path.join(d, "missing"), srv.url("/x")])
    t.eq(r.returncode, 4, "missing local file: exit 4")
    r = run(["put", d, srv.url("/x")])
    t.eq(r.returncode, 4, "a directory: exit 4")
    r = run(["put", src, "http://127.0.0.1:%d/x" % free_port(), "--timeout", "5"])
    t.eq(r.returncode, 2, "connection refused: exit 2")
    r = run(["put", src, "https://127.0.0.1/x"])
    t.eq(r.returncode, 5, "https://: exit 5")
    r = run(["put", src])
    t.eq(r.returncode, 1, "missing URL: exit 1")
    r = run(["put", src, srv.url("/stats"), "--stats"])
    t.ok(r.returncode == 0 and re.search(rb"5 bytes moved", r.stderr) is not None and
         b"method" in r.stderr, "--stats reports bytes and methods", r.stderr)


def test_progress(t, srv, d):
    data = content(3 * 1024 * 1024, "tty")
    src = os.path.join(d, "tty")
    with open(src, "wb") as f:
        f.write(data)
    status, out = run_in_pty([ZCOPY, "put", src, srv.url("/tty")])
    text = out.decode("ascii", errors="replace")
    t.eq(status, 0, "put under a terminal: exit 0")
    t.ok(re.search(r"\b100%", text) is not None and text.endswith("\n"),
         "put: the bar shows a percentage and the output ends with a newline", repr(text))
    t.ok(all(c in "\r\n" or 32 <= ord(c) < 127 for c in text),
         "put: only printable text, CR and LF", repr(text))
    t.ok(sha(RECEIVED["/tty"][1]) == sha(data), "put under a terminal: byte-exact")


def early_success(conn, stop):
    """Answers 201 to the head, before any body byte (after Expect)."""
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    stop.wait(5)


def read_body_then(conn, after):
    head = read_request_head(conn)
    m = re.search(rb"Content-Length: (\d+)", head)
    left = int(m.group(1)) - len(head.split(b"\r\n\r\n", 1)[1]) if m else 0
    while left > 0:
        chunk = conn.recv(min(left, 65536))
        if not chunk:
            return
        left -= len(chunk)
    after()


def flood_interim(conn, stop):
    """Takes the body, then answers 100 Continue forever (bounded: 10 s)."""
    def flood():
        deadline = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < deadline:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" * 16)
            time.sleep(0.001)
    read_body_then(conn, flood)


def silent(conn, stop):
    """Takes the body, never answers (bounded)."""
    read_body_then(conn, lambda: stop.wait(15))


def never_reads(conn, stop):
    """Accepts, then reads nothing: the sender's buffers fill (bounded)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stop.wait(15)



def test_hostile(t, d):
    big = os.path.join(d, "up8388611")
    small = os.path.join(d, "up4096")
    with RawServer(early_success) as srv:
        r = run_bounded(t, ["put", big, srv.url("/x")], "early 2xx")
        if r:
            t.eq(r.returncode, 5, "2xx before the body was sent (after Expect): exit 5, "
                 "not a success")
            t.ok(b"before the body" in r.stderr, "2xx before the body: said so", r.stderr)
    with RawServer(flood_interim) as srv:
        r = run_bounded(t, ["put", small, srv.url("/x")], "interim flood")
        if r:
            t.eq(r.returncode, 5, "endless 100 Continue after the body: exit 5")
    with RawServer(silent) as srv:
        r = run_bounded(t, ["put", "--max-time", "1", small, srv.url("/x")], "max-time")
        if r:
            t.ok(r.returncode == 2 and b"--max-time reached" in r.stderr,
                 "--max-time 1 with a server that never answers: exit 2", r.stderr)
        r = run_bounded(t, ["put", "--timeout", "1", small, srv.url("/x")], "timeout")
        if r:
            t.ok(r.returncode == 2 and b"timed out" in r.stderr,
                 "a response that never comes: exit 2, 'timed out' as get says it",
                 r.stderr)
    with RawServer(never_reads) as srv:
        r = run_bounded(t, ["put", "--timeout", "1", big, srv.url("/x")], "send stall")
        if r:
            t.ok(r.returncode == 2 and b"sending the body: timed out" in r.stderr,
                 "a server that stops reading the body: exit 2, timed out", r.stderr)


def serve_has_upload():
    try:
        r = subprocess.run([ZCOPY, "serve", "--help"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--upload" in r.stdout + r.stderr


def test_zcopy_serve(t, d):
    if not serve_has_upload():
        t.skip("put to zcopy serve --upload", "zcopy serve has no --upload yet")
        return
    root = os.path.join(d, "serve-root")
    os.mkdir(root)
    srv = ZcopyServe(root, "--upload")
    try:
        if not t.ok(srv.base is not None, "zcopy serve --upload started"):
            return
        data = content(5 * 1024 * 1024 + 1, "serve")
        src = os.path.join(d, "to-serve")
        with open(src, "wb") as f:
            f.write(data)
        r = run(["put", src, srv.base + "/up.bin"])
        t.ok(r.returncode == 0 and sha_file(os.path.join(root, "up.bin")) == sha(data),
             "put to zcopy serve --upload: byte-exact", r.stderr)
        out = os.path.join(d, "from-serve")
        r = run(["get", srv.base + "/up.bin", "-o", out])
        t.ok(r.returncode == 0 and sha_file(out) == sha(data),
             "get back from zcopy serve: byte-exact", r.stderr)
        small = os.path.join(d, "up4096")
        r = run(["put", small, srv.base + "/up.bin"])
        t.ok(r.returncode == 0 and r.stdout.startswith(b"204") and
             sha_file(os.path.join(root, "up.bin")) == sha_file(small),
             "put over an existing file on zcopy serve: 204, replaced", r.stdout)
    finally:
        srv.stop()
    srv = ZcopyServe(root, "--upload", "--max-upload", "2M")
    try:
        big = os.path.join(d, "up8388611")
        r = run(["put", big, srv.base + "/too-big.bin", "--stats"])
        t.ok(r.returncode == 3 and r.stdout.startswith(b"413") and
             re.search(rb" 0 bytes moved by libzcopy", r.stderr) is not None,
             "zcopy serve --max-upload 2M: 413 before the body, nothing sent",
             r.stdout + r.stderr)
        t.ok(not os.path.exists(os.path.join(root, "too-big.bin")),
             "zcopy serve --max-upload: no file created")
    finally:
        srv.stop()


def main():
    require_zcopy()
    t = Tap()
    d = tmpdir()
    srv = Server(PutHandler)
    try:
        test_sizes(t, srv, d)
        test_statuses(t, srv, d)
        test_expect(t, srv, d)
        test_progress(t, srv, d)
        test_hostile(t, d)
        test_zcopy_serve(t, d)
    finally:
        srv.stop()
        rmtree(d)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
