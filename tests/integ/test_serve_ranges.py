#!/usr/bin/env python3
"""zcopy serve: Range (single, open-ended, suffix, multiple, clipped, 416,
amplification), If-Range, and conditional requests (304 / 412)."""
import email.utils
import os
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import Server, done, eq, make_root, ok, pattern, request, write  # noqa: E402

root = make_root()
data = pattern(100000, seed=5)
path = write(root, "f.bin", data)
write(root, "t.txt", b"0123456789")
# An hour old: a Last-Modified within the current second is weak (RFC 9110
# 8.8.2.2) and would not match If-Range; "newer" must not be in the future.
os.utime(path, (time.time() - 3600, time.time() - 3600))
mtime = os.stat(path).st_mtime
last_mod = email.utils.formatdate(mtime, usegmt=True)
older = email.utils.formatdate(mtime - 3600, usegmt=True)
newer = email.utils.formatdate(mtime + 3600, usegmt=True)


def get(srv, headers, method="GET", target="/f.bin"):
    return request(srv, method, target, headers=headers)


def parse_multipart(r):
    m = re.match(r"multipart/byteranges; boundary=(\S+)$", r.get("content-type", ""))
    if not m:
        return None
    b = m.group(1).encode()
    parts = []
    body = r.body
    if not body.startswith(b"--" + b + b"\r\n"):
        return None
    chunks = body.split(b"\r\n--" + b)
    first = chunks[0][len(b"--" + b):]
    chunks = [first] + chunks[1:]
    if chunks[-1] != b"--\r\n":
        return None
    for c in chunks[:-1]:
        head, _, payload = c[2:].partition(b"\r\n\r\n")
        hdrs = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
        parts.append((hdrs.get(b"Content-Range", b"").decode(),
                      hdrs.get(b"Content-Type", b"").decode(), payload))
    return parts


def test_ranges(srv):
    n = len(data)
    cases = [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, n - 1),
        ("bytes=-500", n - 500, n - 1),
        ("bytes=99990-200000", 99990, n - 1),       # clipped
        ("bytes=-200000", 0, n - 1),                # suffix longer than the file
        ("bytes=5-5", 5, 5),
    ]
    for spec, first, last in cases:
        r = get(srv, [("Range", spec)])
        eq(r.status, 206, "%s: 206" % spec)
        eq(r.get("content-range"), "bytes %d-%d/%d" % (first, last, n),
           "%s: Content-Range" % spec)
        eq(r.get("content-length"), str(last - first + 1), "%s: Content-Length" % spec)
        ok(r.body == data[first:last + 1], "%s: exact bytes" % spec)

    r = get(srv, [("Range", "bytes=0-9, 20-29, -10")])
    eq(r.status, 206, "multiple ranges: 206")
    parts = parse_multipart(r)
    ok(parts is not None, "multipart/byteranges body parses")
    if parts:
        eq([p[0] for p in parts],
           ["bytes 0-9/%d" % n, "bytes 20-29/%d" % n, "bytes %d-%d/%d" % (n - 10, n - 1, n)],
           "part Content-Range headers")
        eq([p[1] for p in parts], ["application/octet-stream"] * 3, "part Content-Type")
        eq([p[2] for p in parts], [data[0:10], data[20:30], data[n - 10:]], "part bytes")
    eq(int(r.get("content-length")), len(r.body), "multipart Content-Length exact")

    for spec in ("bytes=100000-", "bytes=200000-300000", "bytes=-0"):
        r = get(srv, [("Range", spec)])
        eq(r.status, 416, "%s: 416" % spec)
        eq(r.get("content-range"), "bytes */%d" % n, "%s: Content-Range bytes */LEN" % spec)
    # Ignored: malformed, other units, too many parts, parts summing past
    # the size (amplification).
    for spec in ("bytes=abc", "items=0-1", "bytes=5-1",
                 "bytes=" + ",".join("%d-%d" % (i, i) for i in range(40)),
                 "bytes=0-99999,0-99999"):
        r = get(srv, [("Range", spec)])
        ok(r.status == 200 and r.body == data, "%s: ignored, 200 whole" % spec[:40])
    r = get(srv, [("Range", "bytes=0-9")], method="HEAD")
    eq((r.status, r.get("content-length")), (200, str(n)), "HEAD ignores Range")
    if shutil.which("curl"):
        p = subprocess.run(["curl", "-sS", "--max-time", "10", "-r", "10-19",
                            srv.urls[0] + "f.bin"], capture_output=True, timeout=20)
        eq(p.stdout, data[10:20], "curl -r 10-19")


def test_if_range(srv):
    etag = get(srv, []).get("etag")
    r = get(srv, [("Range", "bytes=0-9"), ("If-Range", etag)])
    eq((r.status, r.body), (206, data[:10]), "If-Range matching ETag: 206")
    r = get(srv, [("Range", "bytes=0-9"), ("If-Range", '"other"')])
    eq((r.status, len(r.body)), (200, len(data)), "If-Range other ETag: 200 whole")
    r = get(srv, [("Range", "bytes=0-9"), ("If-Range", "W/" + etag)])
    eq(r.status, 200, "If-Range weak ETag never matches")
    r = get(srv, [("Range", "bytes=0-9"), ("If-Range", last_mod)])
    eq((r.status, r.body), (206, data[:10]), "If-Range equal date: 206")
    r = get(srv, [("Range", "bytes=0-9"), ("If-Range", older)])
    eq(r.status, 200, "If-Range other date: 200")


def test_conditionals(srv):
    etag = get(srv, []).get("etag")
    weak = "W/" + etag
    cases = [
        ([("If-None-Match", etag)], 304, "If-None-Match same ETag"),
        ([("If-None-Match", weak)], 304, "If-None-Match weak comparison"),
        ([("If-None-Match", '"a", %s, "b"' % etag)], 304, "If-None-Match list"),
        ([("If-None-Match", "*")], 304, "If-None-Match *"),
        ([("If-None-Match", '"nope"')], 200, "If-None-Match other ETag"),
        ([("If-Modified-Since", last_mod)], 304, "If-Modified-Since equal"),
        ([("If-Modified-Since", newer)], 304, "If-Modified-Since later"),
        ([("If-Modified-Since", older)], 200, "If-Modified-Since earlier"),
        ([("If-Modified-Since", "garbage")], 200, "If-Modified-Since invalid: ignored"),
        ([("If-None-Match", '"nope"'), ("If-Modified-Since", newer)], 200,
         "If-None-Match wins over If-Modified-Since (200)"),
        ([("If-None-Match", etag), ("If-Modified-Since", older)], 304,
         "If-None-Match wins over If-Modified-Since (304)"),
        ([("If-Match", etag)], 200, "If-Match same ETag"),
        ([("If-Match", "*")], 200, "If-Match *"),
        ([("If-Match", '"nope"')], 412, "If-Match other ETag: 412"),
        ([("If-Match", weak)], 412, "If-Match weak ETag: 412 (strong comparison)"),
        ([("If-Unmodified-Since", older)], 412, "If-Unmodified-Since earlier: 412"),
        ([("If-Unmodified-Since", last_mod)], 200, "If-Unmodified-Since equal"),
        ([("If-Match", '"nope"'), ("If-None-Match", etag)], 412,
         "If-Match is evaluated first"),
    ]
    for headers, want, name in cases:
        r = get(srv, headers)
        eq(r.status, want, name)
        if want == 304:
            ok(r.body == b"" and r.get("etag") == etag and r.get("content-length") is None,
               name + ": no body, ETag kept")
    r = get(srv, [("If-None-Match", etag)], method="HEAD")
    eq(r.status, 304, "HEAD with matching If-None-Match: 304")
    r = get(srv, [("If-None-Match", '"x"'), ("Range", "bytes=0-1")])
    eq((r.status, r.body), (206, data[:2]), "failed If-None-Match + Range: 206")


def test_change_seen():
    # --cache-valid 0: a rewritten file is noticed on the next request.
    with Server(root, "--cache-valid", "0", "--threads", "1") as srv:
        r1 = request(srv, "GET", "/t.txt")
        eq(r1.body, b"0123456789", "before rewrite")
        with open(os.path.join(root, "t.txt"), "wb") as f:
            f.write(b"abcdefghijklmnopqrstuvwxyz")
        st = os.stat(os.path.join(root, "t.txt"))
        os.utime(os.path.join(root, "t.txt"), ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        r2 = request(srv, "GET", "/t.txt")
        eq(r2.body, b"abcdefghijklmnopqrstuvwxyz", "rewritten in place: new body")
        ok(r2.get("etag") != r1.get("etag"), "rewritten: new ETag")
        r3 = request(srv, "GET", "/t.txt", headers=[("If-None-Match", r1.get("etag"))])
        eq(r3.status, 200, "old ETag no longer matches")
        tmp = os.path.join(root, "t.new")
        with open(tmp, "wb") as f:
            f.write(b"replaced")
        os.rename(tmp, os.path.join(root, "t.txt"))
        eq(request(srv, "GET", "/t.txt").body, b"replaced", "replaced by rename: new body")
        os.unlink(os.path.join(root, "t.txt"))
        eq(request(srv, "GET", "/t.txt").status, 404, "deleted: 404")


with Server(root, "--threads", "2") as srv:
    test_ranges(srv)
    test_if_range(srv)
    test_conditionals(srv)
    ok(srv.alive(), "server still running")
test_change_seen()
done()
