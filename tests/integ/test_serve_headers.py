#!/usr/bin/env python3
"""zcopy serve caching and type options: --cache-control, --max-age
(Cache-Control and Expires on 200, 206 and 304 for files, nowhere else),
--mime-types FILE and --default-type TYPE."""
import email.utils
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import Server, done, eq, make_root, ok, pattern, request, write  # noqa: E402

root = make_root()
data = pattern(40000, seed=9)
p = write(root, "f.bin", data)
old = time.time() - 3600
os.utime(p, (old, old))
write(root, "page.html", b"<p>hi</p>\n")
write(root, "a.foo", b"foo")
write(root, "b.THG", b"thing")
write(root, "c.unknownext", b"?")
write(root, "README", b"read me")
write(root, "dir/x.txt", b"x")
types = write(root, "../zc-mime-%d.types" % os.getpid(),
              b"# test types\napplication/x-custom foo\ntext/x-thing thg\n")


def secs(date):
    return email.utils.parsedate_to_datetime(date).timestamp()


def file_responses(srv):
    """200, 206, 304 and HEAD for a file."""
    r200 = request(srv, "GET", "/f.bin")
    r206 = request(srv, "GET", "/f.bin", headers=[("Range", "bytes=0-99")])
    r304 = request(srv, "GET", "/f.bin", headers=[("If-None-Match", r200.get("etag"))])
    head = request(srv, "HEAD", "/f.bin")
    eq([r.status for r in (r200, r206, r304, head)], [200, 206, 304, 200], "statuses")
    return {"200": r200, "206": r206, "304": r304, "HEAD": head}


def test_max_age():
    with Server(root, "--max-age", "600") as srv:
        for name, r in file_responses(srv).items():
            eq(r.get("cache-control"), "max-age=600", "--max-age: Cache-Control on %s" % name)
            ok(r.get("expires") is not None and r.get("date") is not None and
               secs(r.get("expires")) - secs(r.get("date")) == 600,
               "--max-age: Expires = Date + 600 on %s" % name)
        r = request(srv, "GET", "/nonexistent")
        eq((r.status, r.get("cache-control"), r.get("expires")), (404, None, None),
           "no caching headers on a 404")
        r = request(srv, "GET", "/dir")
        eq((r.status, r.get("cache-control")), (301, None), "none on a redirect")
    with Server(root, "--max-age", "600", "--listing") as srv:
        r = request(srv, "GET", "/dir/")
        eq((r.get("cache-control"), r.get("expires")), ("no-cache", None),
           "a listing keeps its no-cache")
    with Server(root, "--max-age", "0") as srv:
        r = request(srv, "GET", "/f.bin")
        eq(r.get("cache-control"), "max-age=0", "--max-age 0")
        eq(r.get("expires"), r.get("date"), "--max-age 0: Expires = Date")


def test_cache_control():
    value = "public, max-age=31536000, immutable"
    with Server(root, "--cache-control", value) as srv:
        for name, r in file_responses(srv).items():
            eq(r.get("cache-control"), value, "--cache-control on %s" % name)
            eq(r.get("expires"), None, "--cache-control alone: no Expires on %s" % name)
            eq(r.count("cache-control"), 1, "one Cache-Control on %s" % name)
    with Server(root, "--cache-control", "no-cache", "--max-age", "60") as srv:
        r = request(srv, "GET", "/f.bin")
        eq(r.get("cache-control"), "no-cache", "--cache-control wins over --max-age's")
        ok(secs(r.get("expires")) - secs(r.get("date")) == 60, "and Expires from --max-age")
    with Server(root) as srv:
        r = request(srv, "GET", "/f.bin")
        eq((r.get("cache-control"), r.get("expires")), (None, None), "default: neither")


def test_mime():
    with Server(root, "--mime-types", types) as srv:
        for path, want in [("/a.foo", "application/x-custom"),
                           ("/b.THG", "text/x-thing; charset=utf-8"),
                           ("/page.html", "application/octet-stream"),   # not in FILE
                           ("/README", "application/octet-stream")]:
            r = request(srv, "GET", path)
            eq(r.get("content-type"), want, "--mime-types: %s" % path)
    with Server(root, "--default-type", "text/plain") as srv:
        for path, want in [("/c.unknownext", "text/plain; charset=utf-8"),
                           ("/README", "text/plain; charset=utf-8"),
                           ("/page.html", "text/html; charset=utf-8")]:
            r = request(srv, "GET", path)
            eq(r.get("content-type"), want, "--default-type: %s" % path)
        r = request(srv, "GET", "/README", headers=[("Range", "bytes=0-0,5-5")])
        ok("multipart/byteranges" in r.get("content-type", "") and
           b"Content-Type: text/plain; charset=utf-8" in r.body,
           "--default-type in multipart parts")
    with Server(root, "--mime-types", types, "--default-type", "application/x-unknown") as srv:
        eq(request(srv, "GET", "/page.html").get("content-type"), "application/x-unknown",
           "--mime-types and --default-type together")


def test_bad_options():
    z = os.environ["ZCOPY"]
    for args, status, what in [
            (["--cache-control", "a\r\nX-Injected: 1"], 2, "--cache-control with CRLF"),
            (["--cache-control", ""], 2, "empty --cache-control"),
            (["--max-age", "-1"], 2, "negative --max-age"),
            (["--max-age", "31536001"], 2, "--max-age over a year"),
            (["--max-age", "1h"], 2, "--max-age with a unit"),
            (["--mime-types", "/nonexistent/mime.types"], 1, "missing --mime-types file"),
            (["--mime-types", root], 1, "a directory as --mime-types"),
            (["--default-type", "nonsense"], 1, "--default-type without a slash"),
            (["--default-type", "a/b\r\nX: y"], 1, "--default-type with CRLF")]:
        p = subprocess.run([z, "serve", root, "--listen", "127.0.0.1:0"] + args,
                           capture_output=True, timeout=10)
        eq(p.returncode, status, "%s: exit %d" % (what, status))
        ok(b"zcopy serve:" in p.stderr, "%s: says why" % what)


try:
    test_max_age()
    test_cache_control()
    test_mime()
    test_bad_options()
finally:
    os.unlink(types)
done()
