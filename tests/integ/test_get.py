#!/usr/bin/env python3
"""zcopy get against Python's http.server (a peer no one here wrote):
byte-exact downloads of several sizes, chunked bodies, redirects, resume
with -c after a lost connection and after SIGINT, error statuses and their
exit codes, IPv6, and the progress bar under a pseudo-terminal."""
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client_helpers import (Tap, Server, ZcopyServe, content, free_port,  # noqa: E402
                            RawServer, fifo_reader, read_request_head, require_zcopy,
                            rmtree, run, run_bounded, run_in_pty, sha, sha_file, tmpdir,
                            wait_for, zcopy_on_private_dev, ZCOPY)

MiB = 1024 * 1024
SIZES = {"empty.bin": 0, "one.bin": 1, "page.bin": 4096, "odd.bin": 65537,
         "big.bin": 8 * 1024 * 1024 + 3}
FILES = {name: content(size, name) for name, size in SIZES.items()}
ROOT = tmpdir()
RELEASE = threading.Event()         # lets the /slow/ handler finish
VERSION = {"data": b"", "etag": ""}  # what /vcut/ and /vrange/ serve now
HOSTILE = content(1000, "hostile")  # what /hostile/ serves, badly


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=ROOT, **kw)

    def log_message(self, *a):
        pass

    def do_GET(self):
        parts = self.path.split("?")[0].split("/")
        kind = parts[1] if len(parts) > 1 else ""
        name = parts[2] if len(parts) > 2 else ""
        if kind == "files":
            self.path = "/" + "/".join(parts[2:])
            return super().do_GET()
        handler = getattr(self, "get_" + kind, None)
        if handler is None:
            self.send_error(404)
            return
        handler(name, parts[3:])

    def head_only(self, status, headers, proto="HTTP/1.0"):
        self.protocol_version = proto
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def get_chunked(self, name, rest):
        data, piece = FILES[name], int(rest[0])
        self.head_only(200, [("Transfer-Encoding", "chunked"), ("Connection", "close")],
                       "HTTP/1.1")
        batch = b""
        for i in range(0, len(data), piece):
            c = data[i:i + piece]
            ext = b";note=\"x y\"" if i == 0 else b""
            size = (b"%x" if (i // piece) % 2 else b"%X") % len(c)
            batch += size + ext + b"\r\n" + c + b"\r\n"
            if len(batch) >= 65536:
                self.wfile.write(batch)
                batch = b""
        self.wfile.write(batch + b"0\r\nX-Trailer: done\r\n\r\n")

    def get_redir(self, name, rest):
        n = int(name)
        if n == 0:
            loc = "/files/one.bin"
        elif n % 2:
            loc = "http://%s/redir/%d" % (self.headers["Host"], n - 1)
        else:
            loc = "%d" % (n - 1)                # relative to /redir/N
        self.head_only(302 if n % 2 else 307, [("Location", loc), ("Content-Length", "0")])

    def get_range(self, name, rest):
        data = FILES[name]
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if not m:
            self.head_only(200, [("Content-Length", str(len(data)))])
            self.wfile.write(data)
            return
        start = int(m.group(1))
        if start >= len(data):
            self.head_only(416, [("Content-Range", "bytes */%d" % len(data)),
                                 ("Content-Length", "0")])
            return
        self.head_only(206, [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1,
                                                                    len(data))),
                             ("Content-Length", str(len(data) - start))])
        self.wfile.write(data[start:])

    def get_cut(self, name, rest):
        """Announces the whole file, sends the first half, then closes."""
        data = FILES[name]
        self.head_only(200, [("Content-Length", str(len(data)))])
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    def get_slow(self, name, rest):
        """Sends the first half, then waits (bounded) before the rest."""
        data = FILES[name]
        self.head_only(200, [("Content-Length", str(len(data)))])
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        RELEASE.wait(20)
        try:
            self.wfile.write(data[len(data) // 2:])
        except OSError:
            pass

    def get_raw(self, name, rest):
        raw = {
            "smuggle": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "garbage": b"hello there\r\n\r\n",
            "badchunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5\r\nhelloXX0\r\n\r\n",
            "continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                        b"Content-Length: 5\r\n\r\nhello",
            "untilclose": b"HTTP/1.0 200 OK\r\n\r\n" + FILES["odd.bin"],
            "bighead": b"HTTP/1.1 200 OK\r\n" + b"X-Pad: %s\r\n" % (b"p" * 100) * 60 +
                       b"Content-Length: 65537\r\n\r\n" + FILES["odd.bin"],
            "manyfields": b"HTTP/1.1 200 OK\r\n" + b"X-F: 1\r\n" * 101 +
                          b"Content-Length: 5\r\n\r\nhello",
            "chunked10": b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n0\r\n\r\n",
            "hugehead": b"HTTP/1.1 200 OK\r\n" + b"X-Pad: %s\r\n" % (b"p" * 100) * 99 +
                        b"X-More: %s\r\n" % (b"m" * 8000) +
                        b"Content-Length: 5\r\n\r\nhello",
        }[name]
        self.wfile.write(raw)
        self.close_connection = True

    def get_dribble(self, name, rest):
        """A chunked response written a few bytes at a time (TCP_NODELAY), so
        the head and every piece of framing arrive split across segments."""
        body = FILES["odd.bin"][:1200]
        wire = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                b"Connection: close\r\n\r\n")
        for i in range(0, len(body), 400):
            c = body[i:i + 400]
            wire += b"%x;k=v\r\n" % len(c) + c + b"\r\n"
        wire += b"0\r\nT: 1\r\n\r\n"
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        step = int(name)
        for i in range(0, len(wire), step):
            self.wfile.write(wire[i:i + step])
            self.wfile.flush()
            time.sleep(0.0005)
        self.close_connection = True

    def get_vcut(self, name, rest):
        """The current version with its ETag, cut after half the body."""
        data = VERSION["data"]
        self.head_only(200, [("Content-Length", str(len(data))), ("ETag", VERSION["etag"])])
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    def get_vrange(self, name, rest):
        """Range with If-Range: a validator that is not the current ETag
        gets the whole current version (200)."""
        data, etag = VERSION["data"], VERSION["etag"]
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if_range = self.headers.get("If-Range")
        if not m or (if_range is not None and if_range != etag):
            self.head_only(200, [("Content-Length", str(len(data))), ("ETag", etag)])
            self.wfile.write(data)
            return
        start = int(m.group(1))
        self.head_only(206, [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1,
                                                                    len(data))),
                             ("Content-Length", str(len(data) - start)), ("ETag", etag)])
        self.wfile.write(data[start:])

    def get_hostile(self, name, rest):
        """Servers that answer a Range request wrongly, or fail after a 2xx."""
        data = HOSTILE
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        start = int(m.group(1)) if m else None
        if name == "no416" and start is not None:
            self.head_only(416, [("Content-Length", "0")])
        elif name in ("badcl", "short") and start is not None:
            last = min(start + 99, len(data) - 1)
            send = data[start:] if name == "badcl" else data[start:last + 1]
            self.head_only(206, [("Content-Range", "bytes %d-%d/%d" % (start, last, len(data))),
                                 ("Content-Length", str(len(send)))])
            self.wfile.write(send)
        elif name == "bigchunk" and start is not None:
            last = min(start + 99, len(data) - 1)
            self.head_only(206, [("Content-Range", "bytes %d-%d/%d" % (start, last, len(data))),
                                 ("Transfer-Encoding", "chunked")], "HTTP/1.1")
            rest_ = data[start:]
            self.wfile.write(b"%x\r\n" % len(rest_) + rest_ + b"\r\n0\r\n\r\n")
            self.close_connection = True
        elif name == "cut200":
            self.head_only(200, [("Content-Length", str(len(data)))])
            self.wfile.write(data[:10])
            self.close_connection = True
        elif name == "badframing":
            self.head_only(200, [("Transfer-Encoding", "chunked")], "HTTP/1.1")
            self.wfile.write(b"a\r\n" + data[:10] + b"\r\nzz\r\n")
            self.close_connection = True
        else:
            self.head_only(200, [("Content-Length", str(len(data)))])
            self.wfile.write(data)

    def get_named(self, name, rest):
        self.head_only(200, [("Content-Length", "5")])
        self.wfile.write(b"hello")

    def get_status(self, name, rest):
        self.send_error(int(name))

    def get_loop(self, name, rest):
        self.head_only(301, [("Location", "/loop/x"), ("Content-Length", "0")])


def test_sizes(t, srv, d):
    for name, data in FILES.items():
        out = os.path.join(d, "sz-" + name)
        r = run(["get", srv.url("/files/" + name), "-o", out])
        t.eq(r.returncode, 0, "get %s (%d bytes): exit 0" % (name, len(data)))
        t.ok(os.path.exists(out) and sha_file(out) == sha(data),
             "get %s: byte-exact" % name, r.stderr.decode(errors="replace"))
        t.eq(r.stderr, b"", "get %s: nothing on a non-terminal stderr" % name)


def test_default_name_and_stdout(t, srv, d):
    r = run(["get", srv.url("/files/odd.bin?x=1")], cwd=d)
    p = os.path.join(d, "odd.bin")
    t.ok(r.returncode == 0 and sha_file(p) == sha(FILES["odd.bin"]),
         "default output name is the last path segment", r.stderr)
    r = run(["get", srv.url("/files/")], cwd=d)
    t.ok(r.returncode == 0 and os.path.getsize(os.path.join(d, "index.html")) > 0,
         "a URL ending in / is saved as index.html", r.stderr)
    r = run(["get", srv.url("/files/big.bin"), "-o", "-"])
    t.ok(r.returncode == 0 and sha(r.stdout) == sha(FILES["big.bin"]),
         "-o - writes the body to stdout", r.stderr)
    p = subprocess.Popen([ZCOPY, "get", srv.url("/files/big.bin"), "-o", "-"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = p.stdout.read(10)
        p.stdout.close()
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    t.ok(first == FILES["big.bin"][:10] and p.returncode == 4,
         "stdout closed early: exit 4 (no death by SIGPIPE)", (p.returncode, err))


def test_chunked(t, srv, d):
    for name, piece in [("empty.bin", 7), ("one.bin", 1), ("odd.bin", 1),
                        ("odd.bin", 4096), ("big.bin", 65536), ("big.bin", 1000003)]:
        out = os.path.join(d, "ch-%s-%d" % (name, piece))
        r = run(["get", srv.url("/chunked/%s/%d" % (name, piece)), "-o", out, "--stats"])
        t.ok(r.returncode == 0 and sha_file(out) == sha(FILES[name]),
             "chunked %s in chunks of %d: byte-exact" % (name, piece), r.stderr)
        # The server writes its head on its own, so the head is peeked and
        # consumed alone: every data byte then goes through zc_transfer
        # (spliced), none through a user-space read.
        m = re.search(rb"(\d+) bytes moved by libzcopy", r.stderr)
        t.ok(m is not None and int(m.group(1)) == len(FILES[name]),
             "chunked %s in chunks of %d: all chunk data moved by libzcopy"
             % (name, piece), r.stderr)


def test_raw(t, srv, d):
    out = os.path.join(d, "raw-continue")
    r = run(["get", srv.url("/raw/continue"), "-o", out])
    t.ok(r.returncode == 0 and open(out, "rb").read() == b"hello",
         "an interim 100 Continue is skipped", r.stderr)
    out = os.path.join(d, "raw-untilclose")
    r = run(["get", srv.url("/raw/untilclose"), "-o", out])
    t.ok(r.returncode == 0 and sha_file(out) == sha(FILES["odd.bin"]),
         "a body without length ends at the close", r.stderr)
    for step in (1, 3, 64):
        out = os.path.join(d, "dribble-%d" % step)
        r = run(["get", srv.url("/dribble/%d" % step), "-o", out])
        t.ok(r.returncode == 0 and open(out, "rb").read() == FILES["odd.bin"][:1200],
             "chunked response dribbled %d byte(s) per write: byte-exact" % step, r.stderr)
    out = os.path.join(d, "raw-bighead")
    r = run(["get", srv.url("/raw/bighead"), "-o", out])
    t.ok(r.returncode == 0 and sha_file(out) == sha(FILES["odd.bin"]),
         "a 6 KiB response head (peeked in growing steps)", r.stderr)
    for name in ("smuggle", "garbage", "hugehead"):
        out = os.path.join(d, "raw-" + name)
        r = run(["get", srv.url("/raw/" + name), "-o", out])
        t.eq(r.returncode, 5, "malformed response (%s): exit 5" % name)
        t.ok(not os.path.exists(out), "malformed response (%s): no file" % name)
    out = os.path.join(d, "raw-manyfields")
    r = run(["get", srv.url("/raw/manyfields"), "-o", out])
    t.ok(r.returncode == 5 and b"too many header fields" in r.stderr,
         "101 header fields: exit 5, said to be too many", r.stderr)
    out = os.path.join(d, "raw-chunked10")
    r = run(["get", srv.url("/raw/chunked10"), "-o", out])
    t.ok(r.returncode == 5 and not os.path.exists(out),
         "an HTTP/1.0 response with chunked framing: refused (exit 5)", r.stderr)
    r = run(["get", srv.url("/named/evil%0d%0a%1b[2Jname")], cwd=d)
    t.ok(os.path.exists(os.path.join(d, "evil___[2Jname")),
         "control bytes decoded from the URL become '_' in the saved name",
         sorted(n for n in os.listdir(d) if n.startswith("evil")))
    out = os.path.join(d, "raw-badchunk")
    r = run(["get", srv.url("/raw/badchunk"), "-o", out])
    t.eq(r.returncode, 5, "malformed chunk framing: exit 5")


def test_redirects(t, srv, d):
    out = os.path.join(d, "redir-ok")
    r = run(["get", srv.url("/redir/4"), "-o", out])
    t.ok(r.returncode == 0 and open(out, "rb").read() == FILES["one.bin"],
         "5 redirects (absolute and relative Location) are followed", r.stderr)
    out = os.path.join(d, "redir-many")
    r = run(["get", srv.url("/redir/5"), "-o", out])
    t.eq(r.returncode, 6, "6 redirects: exit 6")
    t.ok(not os.path.exists(out), "6 redirects: no file")
    r = run(["get", srv.url("/loop/x"), "-o", out])
    t.eq(r.returncode, 6, "a redirect loop: exit 6")


def test_errors(t, srv, d):
    out = os.path.join(d, "missing")
    r = run(["get", srv.url("/files/missing"), "-o", out])
    t.eq(r.returncode, 3, "404: exit 3")
    t.ok(not os.path.exists(out), "404: no file created")
    t.ok(b"404" in r.stderr, "404: status reported", r.stderr)
    with open(out, "wb") as f:
        f.write(b"keep me")
    r = run(["get", srv.url("/status/500"), "-o", out])
    t.eq(r.returncode, 3, "500: exit 3")
    t.eq(open(out, "rb").read(), b"keep me", "500: an existing file is untouched")
    r = run(["get", "http://127.0.0.1:%d/x" % free_port(), "-o", out, "--timeout", "5"])
    t.eq(r.returncode, 2, "connection refused: exit 2")
    r = run(["get", "https://127.0.0.1/x", "-o", out])
    t.eq(r.returncode, 5, "https://: exit 5")
    r = run(["get", "http://[::1/x"])
    t.eq(r.returncode, 1, "malformed URL: exit 1")
    r = run(["get"])
    t.eq(r.returncode, 1, "no URL: exit 1")
    r = run(["get", "--help"])
    t.ok(r.returncode == 0 and b"exit status" in r.stdout, "--help documents exit codes")


def test_resume_after_cut(t, srv, d):
    data = FILES["big.bin"]
    out = os.path.join(d, "resume-cut")
    r = run(["get", "-c", srv.url("/cut/big.bin"), "-o", out])
    t.eq(r.returncode, 2, "connection closed mid-body: exit 2")
    half = len(data) // 2
    t.ok(os.path.getsize(out) == half and sha_file(out) == sha(data[:half]),
         "-c, connection closed mid-body: the file holds exactly the bytes received",
         "size %d" % os.path.getsize(out))
    r = run(["get", "-c", srv.url("/range/big.bin"), "-o", out, "--stats"])
    t.eq(r.returncode, 0, "-c resumes with a Range request (206)")
    t.ok(sha_file(out) == sha(data), "-c: the resumed file is byte-exact",
         r.stderr.decode(errors="replace"))
    t.ok(b"stats:" in r.stderr and b"bytes" in r.stderr and b"method" in r.stderr,
         "--stats reports bytes and methods", r.stderr)
    m = re.search(rb"(\d+) bytes moved by libzcopy", r.stderr)
    t.ok(m is not None and int(m.group(1)) <= len(data) - half,
         "-c moved only the missing bytes", r.stderr)
    r = run(["get", "-c", srv.url("/range/big.bin"), "-o", out])
    t.ok(r.returncode == 0 and sha_file(out) == sha(data),
         "-c on a complete file (416): exit 0, file unchanged", r.stderr)
    with open(out, "r+b") as f:
        f.truncate(1000)
    r = run(["get", "-c", srv.url("/files/big.bin"), "-o", out])
    t.ok(r.returncode == 0 and sha_file(out) == sha(data),
         "-c when the server ignores Range (200): restarted from 0", r.stderr)
    out2 = os.path.join(d, "resume-none")
    r = run(["get", "-c", srv.url("/range/odd.bin"), "-o", out2])
    t.ok(r.returncode == 0 and sha_file(out2) == sha(FILES["odd.bin"]),
         "-c without a partial file downloads it all", r.stderr)


def partial_file(d, name, n):
    out = os.path.join(d, name)
    with open(out, "wb") as f:
        f.write(HOSTILE[:n])
    return out


def test_hostile_ranges(t, srv, d):
    out = partial_file(d, "h-badcl", 300)
    r = run(["get", "-c", srv.url("/hostile/badcl"), "-o", out])
    t.eq(r.returncode, 5, "206 whose Content-Length disagrees with Content-Range: exit 5")
    t.ok(open(out, "rb").read() == HOSTILE[:300],
         "206 with a wrong Content-Length: nothing written past the range")
    out = partial_file(d, "h-bigchunk", 300)
    r = run(["get", "-c", srv.url("/hostile/bigchunk"), "-o", out])
    t.eq(r.returncode, 5, "chunked 206 longer than its Content-Range: exit 5")
    t.ok(open(out, "rb").read() == HOSTILE[:300],
         "chunked 206 longer than its range: nothing written past the range")
    out = partial_file(d, "h-short", 300)
    r = run(["get", "-c", srv.url("/hostile/short"), "-o", out])
    t.ok(r.returncode == 0 and open(out, "rb").read() == HOSTILE,
         "206 for part of the rest (100 bytes a time): asked again until complete",
         r.stderr)
    out = partial_file(d, "h-no416", 300)
    r = run(["get", "-c", srv.url("/hostile/no416"), "-o", out])
    t.eq(r.returncode, 3, "416 without Content-Range: bytes */N is an HTTP error (exit 3)")
    t.ok(open(out, "rb").read() == HOSTILE[:300], "416 without a length: file untouched")


def test_existing_file_kept(t, srv, d):
    """A failed download never damages what the output file held."""
    good = FILES["odd.bin"]
    for what, path, code in (("connection closed mid-body", "/cut/big.bin", 2),
                             ("short 200 body", "/hostile/cut200", 2),
                             ("malformed chunked body", "/hostile/badframing", 5)):
        out = os.path.join(d, "keep-" + path.split("/")[2])
        with open(out, "wb") as f:
            f.write(good)
        r = run(["get", srv.url(path), "-o", out])
        t.eq(r.returncode, code, "without -c, %s: exit %d" % (what, code))
        t.ok(open(out, "rb").read() == good,
             "without -c, %s: the existing file is untouched" % what, r.stderr)
    r = run(["get", srv.url("/cut/big.bin"), "-o", os.path.join(d, "keep-new")])
    t.ok(r.returncode == 2 and not os.path.exists(os.path.join(d, "keep-new")),
         "without -c, a cut download of a new file leaves no file")
    out = partial_file(d, "keep-partial", 300)
    r = run(["get", "-c", srv.url("/hostile/cut200"), "-o", out])
    t.ok(r.returncode == 2 and open(out, "rb").read() == HOSTILE[:300],
         "-c, a 200 cut short: the partial file is kept as it was", r.stderr)
    t.ok([n for n in os.listdir(d) if ".zcopy-" in n] == [], "no temp file left behind")
    got = zcopy_on_private_dev(t, "-o a device node",
                               [["get", srv.url("/files/odd.bin"), "-o", "/dev/null"]])
    if got is not None:
        t.eq(got, [(0, "character special file")],
             "-o /dev/null (in a private /dev): exit 0, still a device")
    fifo = os.path.join(d, "get-fifo")
    os.mkfifo(fifo)
    th, got = fifo_reader(fifo)
    r = run(["get", srv.url("/files/odd.bin"), "-o", fifo], timeout=30)
    th.join(timeout=30)
    t.ok(r.returncode == 0 and stat.S_ISFIFO(os.lstat(fifo).st_mode) and got and
         got[0] == good, "-o FIFO: its reader got the body, still a FIFO", r.stderr)
    os.unlink(fifo)
    r = run(["get", srv.url("/files/odd.bin"), "-o", "/dev/stdout"])
    t.ok(r.returncode == 0 and r.stdout == good, "-o /dev/stdout (a pipe): written into",
         r.stderr)
    target = os.path.join(d, "get-target")
    with open(target, "wb") as f:
        f.write(b"old")
    link = os.path.join(d, "get-link")
    os.symlink("get-target", link)
    r = run(["get", srv.url("/files/odd.bin"), "-o", link])
    t.ok(r.returncode == 0 and os.path.islink(link) and open(target, "rb").read() == good,
         "-o a symlink: followed, the link kept", r.stderr)


def xattrs_work(d):
    probe = os.path.join(d, "xattr-probe")
    open(probe, "wb").close()
    try:
        os.setxattr(probe, "user.zcopy.probe", b"1")
        return True
    except OSError:
        return False
    finally:
        os.unlink(probe)


def test_if_range(t, srv, d):
    if not xattrs_work(d):
        t.skip("-c with If-Range", "no user xattrs on %s" % d)
        return
    v1, v2 = content(300001, "v1"), content(250003, "v2")
    out = os.path.join(d, "ifrange")
    VERSION.update(data=v1, etag='"v1"')
    r = run(["get", "-c", srv.url("/vcut/x"), "-o", out])
    t.ok(r.returncode == 2 and os.path.getsize(out) == len(v1) // 2,
         "If-Range: first attempt cut mid-body", r.stderr)
    t.eq(os.getxattr(out, "user.zcopy.validator"), b'"v1"',
         "the response's ETag is kept with the partial file")
    r = run(["get", "-c", srv.url("/vrange/x"), "-o", out])
    t.ok(r.returncode == 0 and sha_file(out) == sha(v1),
         "-c with If-Range matching: continued (206), byte-exact", r.stderr)
    VERSION.update(data=v1, etag='"v1"')
    os.unlink(out)
    run(["get", "-c", srv.url("/vcut/x"), "-o", out])
    VERSION.update(data=v2, etag='"v2"')
    r = run(["get", "-c", srv.url("/vrange/x"), "-o", out])
    t.ok(r.returncode == 0 and sha_file(out) == sha(v2),
         "-c after the server's file changed: If-Range fails, restarted with the new "
         "file (not a splice of two versions)", r.stderr)
    t.eq(os.getxattr(out, "user.zcopy.validator"), b'"v2"', "the new ETag is kept")


def test_resume_after_sigint(t, srv, d):
    data = FILES["big.bin"]
    half = len(data) // 2
    out = os.path.join(d, "resume-int")
    RELEASE.clear()
    p = subprocess.Popen([ZCOPY, "get", "-c", srv.url("/slow/big.bin"), "-o", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        got = wait_for(lambda: os.path.exists(out) and os.path.getsize(out) == half, 20)
        t.ok(got, "slow server: half the body arrived")
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        RELEASE.set()
    t.eq(p.returncode, 130, "SIGINT: exit 130")
    t.ok(os.path.getsize(out) == half and sha_file(out) == sha(data[:half]),
         "SIGINT: the partial file holds exactly the bytes received", err)
    r = run(["get", "-c", srv.url("/range/big.bin"), "-o", out])
    t.ok(r.returncode == 0 and sha_file(out) == sha(data),
         "-c after SIGINT: byte-exact", r.stderr)


def test_timeout(t, srv, d):
    data = FILES["big.bin"]
    out = os.path.join(d, "timeout")
    RELEASE.clear()
    try:
        r = run(["get", "-c", "--timeout", "1", srv.url("/slow/big.bin"), "-o", out])
    finally:
        RELEASE.set()
    t.eq(r.returncode, 2, "a server that stalls past --timeout: exit 2")
    t.ok(b"timed out" in r.stderr, "the stall is reported as a timeout", r.stderr)
    t.ok(sha_file(out) == sha(data[:len(data) // 2]),
         "-c: after the timeout the file holds exactly the bytes received")


def flood_interim(conn, stop):
    """Answers with 100 Continue, again and again (bounded: 10 s)."""
    read_request_head(conn)
    deadline = time.monotonic() + 10
    while not stop.is_set() and time.monotonic() < deadline:
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" * 16)
        time.sleep(0.001)


def trickle_head(conn, stop):
    """A response head one byte every 0.2 s: never a per-read timeout."""
    read_request_head(conn)
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"s" * 1000
    for b in head:
        if stop.wait(0.2):
            return
        conn.sendall(bytes([b]))


def trickle_body(conn, stop):
    """A 1 MB body, one byte every 0.2 s after the first 100."""
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"b" * 100)
    for _ in range(50):
        if stop.wait(0.2):
            return
        conn.sendall(b"b")


def stall_after_some(conn, stop):
    """Head and 5000 body bytes, then silence (bounded)."""
    read_request_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
    stop.wait(15)



def test_hangs(t, d):
    with RawServer(flood_interim) as srv:
        r = run_bounded(t, ["get", srv.url("/x"), "-o", os.path.join(d, "flood")],
                        "interim flood")
        if r:
            t.eq(r.returncode, 5, "endless 100 Continue: exit 5 (heads over budget)")
            t.ok(b"too large" in r.stderr, "endless 100 Continue: reported", r.stderr)
    with RawServer(trickle_head) as srv:
        r = run_bounded(t, ["get", "--max-time", "1", srv.url("/x"), "-o",
                            os.path.join(d, "trickle")], "trickled head")
        if r:
            t.eq(r.returncode, 2, "--max-time 1 with a trickled head: exit 2")
            t.ok(b"--max-time reached" in r.stderr, "--max-time: reported as such", r.stderr)
    out = os.path.join(d, "trickle-body")
    with RawServer(trickle_body) as srv:
        r = run_bounded(t, ["get", "-c", "--max-time", "1", srv.url("/x"), "-o", out],
                        "trickled body")
        if r:
            t.eq(r.returncode, 2, "--max-time 1 with a trickled body: exit 2")
            t.ok(os.path.exists(out) and os.path.getsize(out) >= 100 and
                 open(out, "rb").read() == b"b" * os.path.getsize(out),
                 "-c --max-time: the bytes received are kept", r.stderr)
    with RawServer(stall_after_some) as srv:
        r = run_bounded(t, ["get", "--timeout", "1", "--stats", srv.url("/x"), "-o",
                            os.path.join(d, "stall")], "stall")
        if r:
            t.eq(r.returncode, 2, "a stall after 5000 body bytes: exit 2")
            t.ok(re.search(rb"5000 bytes moved by libzcopy in 1 transfer calls",
                           r.stderr) is not None and b"timed out" in r.stderr,
                 "the stall is one timeout: no second transfer call waits again",
                 r.stderr)
            t.ok(b"fallback" not in r.stderr and re.search(rb" 0 refused", r.stderr),
                 "a timeout is not a method refusal: no fallback taken", r.stderr)


def check_terminal_output(t, what, status, out):
    text = out.decode("ascii", errors="replace")
    t.eq(status, 0, "%s under a terminal: exit 0" % what)
    t.ok(re.search(r"\b100%", text) is not None, "%s: the bar shows a percentage" % what,
         repr(text[-300:]))
    t.ok(text.endswith("\n"), "%s: the output ends with a newline" % what, repr(text[-80:]))
    t.ok(all(c in "\r\n" or 32 <= ord(c) < 127 for c in text),
         "%s: only printable text, CR and LF (no escape sequences)" % what, repr(text))
    lines = [seg for seg in re.split(r"[\r\n]", text) if seg.strip()]
    t.ok(lines and all(len(seg) <= 80 for seg in lines),
         "%s: no line wider than the terminal" % what, repr(lines[-3:]))


def test_progress(t, srv, d):
    out = os.path.join(d, "tty")
    status, text = run_in_pty([ZCOPY, "get", srv.url("/files/big.bin"), "-o", out])
    check_terminal_output(t, "get", status, text)
    t.ok(b"MiB/s" in text or b"KiB/s" in text or b"GiB/s" in text,
         "get: the bar shows a rate", text[-200:])
    t.ok(sha_file(out) == sha(FILES["big.bin"]), "get under a terminal: byte-exact")
    status, text = run_in_pty([ZCOPY, "get", "-q", srv.url("/files/big.bin"), "-o", out])
    t.ok(status == 0 and text == b"", "-q: nothing on the terminal", text[-200:])


def test_name(t, srv, d):
    out = os.path.join(d, "byname")
    r = run(["get", "http://localhost:%d/files/odd.bin" % srv.port, "-o", out])
    t.ok(r.returncode == 0 and sha_file(out) == sha(FILES["odd.bin"]),
         "a host name resolved by getaddrinfo (localhost; ::1 refused is skipped)",
         r.stderr)
    try:
        r = run(["get", "http://no-such-host.invalid/x", "-o", out, "--timeout", "5"],
                timeout=30)
    except subprocess.TimeoutExpired:
        # The resolver itself waits on an unreachable DNS server here.
        t.skip("a name that does not resolve", "the resolver took over 30 s")
        return
    t.eq(r.returncode, 2, "a name that does not resolve: exit 2")


def test_ipv6(t, d):
    try:
        srv = Server(Handler, socket.AF_INET6)
    except OSError as e:
        t.skip("get over IPv6", "no ::1 (%s)" % e)
        return
    try:
        out = os.path.join(d, "v6")
        r = run(["get", srv.url("/files/odd.bin"), "-o", out])
        t.ok(r.returncode == 0 and sha_file(out) == sha(FILES["odd.bin"]),
             "get from an IPv6 literal [::1]", r.stderr)
    finally:
        srv.stop()


def moved(stderr):
    m = re.search(rb"(\d+) bytes moved by libzcopy", stderr)
    return int(m.group(1)) if m else -1


def test_zcopy_serve_if_range(t, srv, d):
    data = FILES["big.bin"]
    out = os.path.join(d, "zs-ifrange")
    r = run(["get", srv.base + "/big.bin", "-o", out])
    try:
        etag = os.getxattr(out, "user.zcopy.validator")
    except OSError:
        etag = b""
    t.ok(r.returncode == 0 and etag != b"", "zcopy serve's validator kept with the file",
         etag)
    with open(out, "r+b") as f:
        f.truncate(MiB)
    r = run(["get", "-c", srv.base + "/big.bin", "-o", out, "--stats"])
    t.ok(r.returncode == 0 and sha_file(out) == sha(data) and
         moved(r.stderr) == len(data) - MiB,
         "zcopy serve honours a matching If-Range: only the rest moved", r.stderr)
    with open(out, "r+b") as f:
        f.truncate(MiB)
    os.setxattr(out, "user.zcopy.validator", b'"not-the-etag"')
    r = run(["get", "-c", srv.base + "/big.bin", "-o", out, "--stats"])
    t.ok(r.returncode == 0 and sha_file(out) == sha(data) and moved(r.stderr) == len(data),
         "zcopy serve: a stale If-Range gets the whole file (200), restarted", r.stderr)


def test_resume_past_4gib(t, srv, d):
    """-c where the partial file is already past 4 GiB: the Range offset and
    the append position need 64 bits. Both files are sparse, so only the last
    8 MiB move."""
    size = 4 * 1024 * MiB + 8 * MiB
    tail = content(8 * MiB - 1, "tail")
    src = os.path.join(ROOT, "huge.bin")
    with open(src, "wb") as f:
        f.truncate(size)
        f.seek(size - len(tail))
        f.write(tail)
    out = os.path.join(d, "huge.part")
    with open(out, "wb") as f:
        f.truncate(4 * 1024 * MiB + 1)          # the hole reads as the zeros it is
    try:
        r = run(["get", "-c", srv.base + "/huge.bin", "-o", out, "--stats"])
        t.ok(r.returncode == 0 and os.path.getsize(out) == size and
             moved(r.stderr) == size - (4 * 1024 * MiB + 1),
             "-c past 4 GiB: Range from byte 4294967297, only the rest moved", r.stderr)
        with open(out, "rb") as f:
            f.seek(4 * 1024 * MiB + 1)
            got = f.read()
        t.ok(got == bytes(len(got) - len(tail)) + tail, "-c past 4 GiB: byte-exact tail")
    finally:
        os.unlink(src)
        os.unlink(out)


def test_zcopy_serve(t, d):
    r = subprocess.run([ZCOPY, "serve", "--help"], capture_output=True, timeout=10)
    if r.returncode != 0:
        t.skip("get from zcopy serve", "zcopy serve is not built in")
        return
    srv = ZcopyServe(ROOT)
    try:
        if not t.ok(srv.base is not None, "zcopy serve started and printed its URL"):
            return
        for name, data in FILES.items():
            out = os.path.join(d, "zs-" + name)
            r = run(["get", srv.base + "/" + name, "-o", out])
            t.ok(r.returncode == 0 and sha_file(out) == sha(data),
                 "get %s from zcopy serve: byte-exact" % name, r.stderr)
        data = FILES["big.bin"]
        out = os.path.join(d, "zs-resume")
        with open(out, "wb") as f:
            f.write(data[:3 * 1024 * 1024 + 17])
        r = run(["get", "-c", srv.base + "/big.bin", "-o", out])
        t.ok(r.returncode == 0 and sha_file(out) == sha(data),
             "get -c from zcopy serve (its 206): byte-exact", r.stderr)
        r = run(["get", "-c", srv.base + "/big.bin", "-o", out])
        t.ok(r.returncode == 0 and sha_file(out) == sha(data),
             "get -c of a complete file from zcopy serve (its 416): exit 0", r.stderr)
        r = run(["get", srv.base + "/missing", "-o", os.path.join(d, "zs-missing")])
        t.eq(r.returncode, 3, "404 from zcopy serve: exit 3")
        if xattrs_work(d):
            test_zcopy_serve_if_range(t, srv, d)
        test_resume_past_4gib(t, srv, d)
    finally:
        srv.stop()


def main():
    require_zcopy()
    t = Tap()
    for name, data in FILES.items():
        with open(os.path.join(ROOT, name), "wb") as f:
            f.write(data)
    d = tmpdir()
    srv = Server(Handler)
    try:
        test_sizes(t, srv, d)
        test_default_name_and_stdout(t, srv, d)
        test_chunked(t, srv, d)
        test_raw(t, srv, d)
        test_redirects(t, srv, d)
        test_errors(t, srv, d)
        test_resume_after_cut(t, srv, d)
        test_hostile_ranges(t, srv, d)
        test_existing_file_kept(t, srv, d)
        test_resume_after_sigint(t, srv, d)
        test_if_range(t, srv, d)
        test_timeout(t, srv, d)
        test_hangs(t, d)
        test_progress(t, srv, d)
        test_name(t, srv, d)
        test_ipv6(t, d)
        test_zcopy_serve(t, d)
    finally:
        RELEASE.set()
        srv.stop()
        rmtree(d)
        rmtree(ROOT)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
